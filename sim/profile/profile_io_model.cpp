#include "profile/profile_io_model.h"

namespace mhc {

namespace {
constexpr double kStream = 2.0;  // bf16 residual stream
constexpr double kCoef = 4.0;    // fp32 mapping coefficients

IoBytesPerToken elems(double stream_read, double coef_read, double stream_write, double coef_write) {
  return {kStream * stream_read + kCoef * coef_read, kStream * stream_write + kCoef * coef_write};
}
}  // namespace

std::optional<IoBytesPerToken> io_model_bytes_per_token(const std::string& kernel, int n_in, int64_t C_in) {
  const double n = n_in, C = static_cast<double>(C_in), n2 = n * n;
  // Fused kernels (paper 4.3.1): x phi + sum of squares; scale/bias/sigmoid; Sinkhorn; H_pre x;
  // H_res x + H_post^T f.
  if (kernel == "mhc_fused.norm_proj_fwd") return elems(n * C, 0, 0, n2 + 2 * n + 1);
  if (kernel == "mhc_fused.mix_fwd") return elems(0, n2 + 2 * n + 1, 0, n2 + 2 * n);
  if (kernel == "mhc_fused.sinkhorn_fwd") return elems(0, n2, 0, n2);
  if (kernel == "mhc_fused.pre_apply_fwd") return elems(n * C, n, C, 0);
  if (kernel == "mhc_fused.post_res_fwd") return elems((n + 1) * C, n2 + n, n * C, 0);
  // Unfused HC-style sequence, paper Table 2.
  if (kernel == "mhc_unfused.compute_h_fwd") return elems(n * C, 0, 0, n2 + 2 * n);
  if (kernel == "mhc_unfused.apply_pre_fwd") return elems(n * C, n, C, 0);
  if (kernel == "mhc_unfused.apply_post_fwd") return elems(C, n, n * C, 0);
  if (kernel == "mhc_unfused.apply_res_fwd") return elems(n * C, n2, n * C, 0);
  if (kernel == "mhc_unfused.merge_fwd") return elems(2 * n * C, 0, n * C, 0);
  // Plain residual merge (Table 2, "residual").
  if (kernel == "residual.merge_fwd") return elems(2 * C, 0, C, 0);
  return std::nullopt;
}

ExpectedBytesFn formula_expected_bytes() {
  return [](const ProfileEntry& e) -> std::optional<IoBytesPerToken> {
    if (e.family != KernelFamily::mhc && e.family != KernelFamily::residual) return std::nullopt;
    return io_model_bytes_per_token(e.kernel, e.shape.n, e.shape.C);
  };
}

}  // namespace mhc
