#include "run/corun_check.h"

#include <algorithm>
#include <cmath>

#include "cost/kernel_demand.h"
#include "engine/gpu_share.h"
#include "profile/profile_io_model.h"

namespace mhc {

namespace {

PriceQuery gemm_query(const ProfileShape& s) {
  PriceQuery q;
  q.kernel = "gemm";
  q.family = KernelFamily::gemm;
  q.shape = s;
  const double elem = dtype_bytes(s.dtype), g = double(s.groups);
  q.bytes = g * (double(s.m) * s.k + double(s.k) * s.gemm_n) * elem + g * double(s.m) * s.gemm_n * 2.0;
  q.flops = 2.0 * g * double(s.m) * s.gemm_n * s.k;
  q.compute_dtype = compute_dtype_of("gemm", KernelFamily::gemm, s.dtype);
  return q;
}

PriceQuery post_res_query(const ProfileShape& s) {
  PriceQuery q;
  q.kernel = "mhc_fused.post_res_fwd";
  q.family = KernelFamily::mhc;
  q.shape = s;
  const auto per_token = io_model_bytes_per_token(q.kernel, s.n, s.C);
  q.bytes = per_token ? (per_token->read + per_token->write) * double(s.tokens) : 0.0;
  q.compute_dtype = DType::fp32;
  return q;
}

KernelLoad load_of(const CostModel& cost, const PriceQuery& q, double seconds, double sms, bool high) {
  const KernelDemand d = kernel_demand(cost, q, seconds);
  return KernelLoad{d.sm_share * sms, d.dram_bytes / seconds, high};
}

// Both kernels start at 0 on an otherwise idle GPU (communication holding comm_sms and comm_hbm);
// returns each one's end.
CorunTimes run_pair(const GpuCapacity& gpu, const KernelLoad& a, double ta, const KernelLoad& b, double tb,
                    double comm_sms = 0.0, double comm_hbm = 0.0) {
  GpuTimeline tl(gpu, false);
  tl.set_comm(comm_sms, comm_hbm, 0.0);
  tl.add(0, ta, a, 0.0);
  if (tb > 0) tl.add(1, tb, b, 0.0);
  CorunTimes t;
  for (double now = 0.0; !tl.idle();) {
    now = tl.next_finish();
    if (!std::isfinite(now)) break;
    tl.advance(now);
    for (const auto& f : tl.take_finished(now)) (f.id == 0 ? t.gemm_s : t.post_res_s) = now;
  }
  t.span_s = std::max(t.gemm_s, t.post_res_s);
  return t;
}

}  // namespace

std::optional<CorunCheck> check_corun(const Profile& profile) {
  if (!profile.corun || profile.provenance.sm_count <= 0) return std::nullopt;
  const ProfileCorun& c = *profile.corun;
  const CostModel cost(profile);
  const double sms = profile.provenance.sm_count;
  const GpuCapacity gpu{sms, cost.copy_bandwidth_Bps()};
  CorunCheck out;
  const KernelLoad gemm = load_of(cost, gemm_query(c.gemm_shape), c.gemm_alone_s, sms, false);
  for (bool high : {false, true}) {
    const KernelLoad post = load_of(cost, post_res_query(c.post_res_shape), c.post_res_alone_s, sms, high);
    (high ? out.post_res_high_priority : out.same_priority) = run_pair(gpu, gemm, c.gemm_alone_s, post, c.post_res_alone_s);
    out.post_res_sm_share = post.sms / sms;
  }
  out.gemm_sm_share = gemm.sms / sms;
  // The paced copy was sized to last about as long as the GEMM alone: it holds its SMs and its
  // bandwidth throughout, like a communication kernel moving data.
  out.gemm_beside_copy_s = run_pair(gpu, gemm, c.gemm_alone_s, {}, 0.0, c.copy_sms, c.copy_alone_Bps).gemm_s;
  return out;
}

}  // namespace mhc
