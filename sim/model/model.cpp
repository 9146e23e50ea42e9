#include "model/model.h"

namespace mhc {

namespace {

constexpr double kStreamBytes = 2.0;  // x, f, layer inputs: bf16 (paper 4.3.1)
constexpr double kCoefBytes = 4.0;    // mapping coefficients and every H: fp32

Op stream_op(std::string name, std::string kernel, Pass pass, const std::string& sublayer, double sr, double sw,
             double cr, double cw, double flops, int n, int64_t C, int iters = 0) {
  Op op;
  op.name = std::move(name);
  op.kernel = std::move(kernel);
  op.kind = OpKind::mhc;
  op.pass = pass;
  op.sublayer = sublayer;
  op.stream_read_elems = sr;
  op.stream_write_elems = sw;
  op.coef_read_elems = cr;
  op.coef_write_elems = cw;
  op.read_bytes = sr * kStreamBytes + cr * kCoefBytes;
  op.write_bytes = sw * kStreamBytes + cw * kCoefBytes;
  op.flops = flops;
  op.n = n;
  op.C = C;
  op.sinkhorn_iters = iters;
  return op;
}

std::string suffix(Pass pass) { return pass == Pass::forward ? "_fwd" : "_bwd"; }

// Sinkhorn: exp, then per iteration a column and a row normalisation (sum + divide over n^2 entries).
double sinkhorn_flops(int n, int iters) { return double(n) * n * (1.0 + 4.0 * iters); }

}  // namespace

bool runs_after_sublayer(const Op& op) {
  const std::string& k = op.kernel;
  return k.find("post_res") != std::string::npos || k.find("apply_post") != std::string::npos ||
         k.find("apply_res") != std::string::npos || k.find("merge") != std::string::npos;
}

std::vector<Op> residual_stream_ops(ResidualVariant variant, bool fused, int n, int64_t C_, int iters, Pass pass,
                                    const std::string& sub) {
  const double N = n, C = double(C_), nC = N * C, mapping = N * N + 2 * N;
  const bool fwd = pass == Pass::forward;
  const std::string sfx = suffix(pass);
  const std::string p = sub.empty() ? std::string() : sub + ".";
  std::vector<Op> ops;
  auto add = [&](std::string name, std::string kernel, double sr, double sw, double cr, double cw, double flops) {
    ops.push_back(stream_op(p + name, kernel + sfx, pass, sub, sr, sw, cr, cw, flops, n, C_,
                            kernel.find("sinkhorn") != std::string::npos ? iters : 0));
  };

  if (variant == ResidualVariant::residual) {
    // x + F(x). Backward accumulates the sublayer's input gradient into the stream gradient.
    add("merge", "residual.merge", 2 * C, C, 0, 0, C);
    ops.back().kind = OpKind::residual;
    return ops;
  }

  if (variant == ResidualVariant::mhc && fused) {
    // Paper 4.3.1. Forward reads x once for the coefficients and once to apply H_pre; post-res reads
    // x and f once: (n+1)C in, nC out per token.
    if (fwd) {
      add("norm_proj", "mhc_fused.norm_proj", nC, 0, 0, mapping + 1, 2 * nC * mapping + 2 * nC);
      add("mix", "mhc_fused.mix", 0, 0, mapping + 1, mapping, 6 * mapping);
      add("sinkhorn", "mhc_fused.sinkhorn", 0, 0, N * N, N * N, sinkhorn_flops(n, iters));
      add("pre_apply", "mhc_fused.pre_apply", nC, C, N, 0, 2 * nC);
      add("post_res", "mhc_fused.post_res", (N + 1) * C, nC, N * N + N, 0, 2 * N * nC + 2 * nC);
    } else {
      // Reverse order. dx contributions of pre-apply and norm-projection accumulate into the
      // stream gradient that post-res wrote (read-modify-write); Sinkhorn recomputes on chip.
      add("post_res", "mhc_fused.post_res", 2 * nC + C, nC + C, N * N + N, N * N + N, 4 * N * nC + 4 * nC);
      add("pre_apply", "mhc_fused.pre_apply", C + 2 * nC, nC, N, N, 4 * nC);
      add("sinkhorn", "mhc_fused.sinkhorn", 0, 0, 2 * N * N, N * N, 2 * sinkhorn_flops(n, iters));
      add("mix", "mhc_fused.mix", 0, 0, 2 * mapping + 1, mapping + 1, 10 * mapping);
      add("norm_proj", "mhc_fused.norm_proj", 2 * nC, nC, mapping + 1, 0, 4 * nC * mapping + 4 * nC);
    }
    return ops;
  }

  // HC-style unfused sequence (paper Table 2); mHC adds its Sinkhorn kernel after compute H's.
  const bool sinkhorn = variant == ResidualVariant::mhc;
  if (fwd) {
    add("compute_h", "mhc_unfused.compute_h", nC, 0, 0, mapping, 2 * nC * mapping + 2 * nC + 6 * mapping);
    if (sinkhorn) add("sinkhorn", "mhc_fused.sinkhorn", 0, 0, N * N, N * N, sinkhorn_flops(n, iters));
    add("apply_pre", "mhc_unfused.apply_pre", nC, C, N, 0, 2 * nC);
    add("apply_post", "mhc_unfused.apply_post", C, nC, N, 0, nC);
    add("apply_res", "mhc_unfused.apply_res", nC, nC, N * N, 0, 2 * N * nC);
    add("merge", "mhc_unfused.merge", 2 * nC, nC, 0, 0, nC);
  } else {
    add("merge", "mhc_unfused.merge", nC, 2 * nC, 0, 0, 0);
    add("apply_res", "mhc_unfused.apply_res", 2 * nC, nC, N * N, N * N, 4 * N * nC);
    add("apply_post", "mhc_unfused.apply_post", nC + C, C, N, N, 2 * nC);
    add("apply_pre", "mhc_unfused.apply_pre", C + 2 * nC, nC, N, N, 4 * nC);
    if (sinkhorn) add("sinkhorn", "mhc_fused.sinkhorn", 0, 0, 2 * N * N, N * N, 2 * sinkhorn_flops(n, iters));
    add("compute_h", "mhc_unfused.compute_h", 2 * nC, nC, mapping, 0, 4 * nC * mapping + 4 * nC + 10 * mapping);
  }
  return ops;
}

}  // namespace mhc
