// The cost stage: seconds for one op of a layer on one GPU, priced from a profile (a measured or
// reference profile and the published parts beside it). Tried in this order; every priced op says
// which way and from what:
//  1. measured:     an entry measured for this kernel at exactly this shape;
//  2. interpolated: from measured entries of the kernel: linear in the scaling coordinate (tokens; for
//                   a GEMM rows m or reduction k) between entries that share every other shape key
//                   (extrapolated linearly beyond them, never below the roofline floor; of a GEMM's m
//                   and k lines, the one measured closest to the shape), else the roofline time scaled
//                   by the measured efficiency (time / roofline) of the nearest entry (in log-shape);
//                   attention by FLOP rate (attention_rates.h);
//  3. published:    the same from published entries (a paper's or repository's figures, each with its
//                   source): exact, along a line, by the nearest entry's efficiency, or attention's
//                   FLOP rate interpolated over sequence length and head dim;
//  4. bandwidth:    a memory-bound op (norm, elementwise, mHC) with no entry: its bytes at the measured
//                   copy bandwidth, plus a launch overhead only if the profile measured one;
//  5. roofline:     a GEMM or attention with no entry: max(bytes / copy bandwidth, FLOPs / peak(dtype))
//                   on the profile's ceilings (+ launch); a lower bound the report warns about.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/model_ops.h"
#include "profile/profile.h"

namespace mhc {

enum class PriceMethod { measured, interpolated, published, bandwidth, roofline };
const char* to_string(PriceMethod);

struct PricedOp {
  double seconds = 0.0;
  PriceMethod method = PriceMethod::roofline;
  std::string source;  // the profile entry (file + JSON pointer) or the formula with its numbers
};

// One kernel launch to price: the kernel id, its concrete shape, and what it moves and computes.
struct PriceQuery {
  std::string kernel;
  std::optional<KernelFamily> family;  // nullopt: a kernel no profile measures (roofline only)
  ProfileShape shape;
  double bytes = 0.0;  // DRAM bytes read + written by the whole launch
  double flops = 0.0;
  DType compute_dtype = DType::fp32;  // which peak bounds its FLOPs
};

// The dtype whose peak bounds a kernel's FLOPs: the GEMM dtype (the shape's), bf16 for attention,
// tf32 for the mHC projection x phi (paper: phi is tf32), fp32 (CUDA cores) for everything else.
DType compute_dtype_of(const std::string& kernel, KernelFamily family, DType gemm_dtype);

// `tokens` is the number of tokens in one micro-batch on one GPU.
PriceQuery query_for_op(const Op& op, double tokens);
// The query that reproduces a profile entry (its shape, its model bytes and FLOPs).
PriceQuery query_for_entry(const ProfileEntry& entry);

// What-ifs that replace measurements on purpose; every op they price says so in its source.
struct PricingPolicy {
  // mHC kernels at their roofline floor on the profile's ceilings (bytes the I/O model says they
  // must move / copy bandwidth, FLOPs / peak, + launch): what perfect kernels would cost.
  bool mhc_at_floor = false;
  // Memory-bound kernels take SMs in proportion to their bandwidth over the copy ceiling instead of
  // the measured or published curve (cost/kernel_demand.h): the reading that lets them hide the least.
  bool sm_demand_proportional = false;
};

class CostModel {
 public:
  explicit CostModel(Profile profile, PricingPolicy policy = {});

  PricedOp price(const Op& op, double tokens) const;
  PricedOp price(const PriceQuery& query) const;
  PricedOp roofline(const PriceQuery& query) const;

  const Profile& profile() const { return profile_; }
  const PricingPolicy& policy() const { return policy_; }
  double copy_bandwidth_Bps() const { return profile_.ceilings.copy_bandwidth_Bps.value; }
  // The profile's dense peak for `dtype`; 0 when the profile has no ceiling for it (the roofline then
  // bounds by bytes only and says so in its source).
  double peak_flops(DType dtype) const;
  double launch_overhead_s() const;  // 0 unless the profile measured one

 private:
  double roofline_floor(double bytes, double flops, DType dtype) const;  // without launch overhead
  std::string where(const ProfileEntry& e) const;
  std::optional<PricedOp> along_scaling_line(const PriceQuery& q, const std::vector<const ProfileEntry*>& same) const;
  std::optional<PricedOp> scaled_from_nearest(const PriceQuery& q, const std::vector<const ProfileEntry*>& same) const;
  std::optional<PricedOp> by_attention_rate(const PriceQuery& q, const std::vector<const ProfileEntry*>& same) const;
  // Interpolated from `same` (all measured, or all published), in the order above.
  std::optional<PricedOp> from_entries(const PriceQuery& q, const std::vector<const ProfileEntry*>& same) const;
  PricedOp at_copy_bandwidth(const PriceQuery& q) const;

  Profile profile_;
  PricingPolicy policy_;
};

// Leave-one-out check of the interpolation: each entry priced by a model built without it.
struct LeaveOneOutResult {
  const ProfileEntry* entry = nullptr;
  double measured_s = 0.0;
  PricedOp predicted;
  // Whether other entries bracket this one along a scaling coordinate, so that removing it tests
  // interpolation; otherwise it sits at an end of a measured range and tests extrapolation.
  bool interior = false;
  double relative_error() const { return (predicted.seconds - measured_s) / measured_s; }
};
std::vector<LeaveOneOutResult> leave_one_out(const Profile& profile);

}  // namespace mhc
