// What a priced kernel demands of the GPU besides its time: the DRAM bytes it moves and the share of
// the SMs it occupies at its priced pace. The engine shares a GPU between concurrent kernels by these
// (engine/gpu_share.h); the time alone stays what the profile measured.
//  - DRAM bytes: CUPTI's dram__bytes read + written when the profile measured the kernel at exactly
//    this shape, else what the I/O model says the launch must move.
//  - Compute-bound (its FLOPs at the profile's peak for its dtype outlast its bytes at the copy
//    ceiling: GEMMs, attention): it fills the GPU, sm_share 1. At the simulated shapes every GEMM has
//    more 128 x 128 output tiles than a GPU has SMs, so its grid covers every SM in each wave.
//  - Memory-bound: the SMs that sustain its bandwidth (DRAM bytes / time) on a curve of bandwidth
//    against SMs: the fewest SMs on which the copy reaches it. The curve is the profile's corun
//    section where measured; otherwise the published one below (kPublishedKnee...): bandwidth rises
//    in proportion to SMs up to 90% of the copy ceiling at 40 of an H100's 114 SMs, then slowly to
//    the ceiling on the whole GPU. PricingPolicy::sm_demand_proportional replaces it by SMs in
//    proportion to bandwidth (the ceiling only on the whole GPU), the reading that hides the least.
#pragma once

#include <string>

#include "cost/cost.h"

namespace mhc {

// The published curve without a corun section: zejia-lin/BulletServe issue #1 (the author of Bullet,
// arXiv 2504.19516, ASPLOS'26, answering for an H100 PCIe of 114 SMs under SM masking): memory-bound
// decode kernels speed up steeply until about 40 SMs, where "the memory bandwidth" saturates, and gain
// the last ~10% over the remaining SMs.
inline constexpr double kPublishedKneeSmShare = 40.0 / 114.0;
inline constexpr double kPublishedKneeBandwidthShare = 0.9;

struct KernelDemand {
  double dram_bytes = 0.0;
  double sm_share = 1.0;  // of the GPU's SMs, at the priced pace
  bool memory_bound = false;
};

// `seconds`: the kernel's priced time (the pace its demands are taken at).
KernelDemand kernel_demand(const CostModel& cost, const PriceQuery& query, double seconds);

// Where the SM demand of memory-bound kernels comes from, for the report: the profile's corun curve,
// the published default or the proportional what-if.
std::string sm_demand_source(const CostModel& cost);

}  // namespace mhc
