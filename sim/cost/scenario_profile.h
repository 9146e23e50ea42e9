// The profile that prices a scenario's GPU: its measured (or reference) profile and published parts,
// with memory-bound kernels rescaled when the cluster's GPU has other HBM than the profiled one
// (ClusterSpec::profile_hbm_scale, e.g. an H200 priced on an H100 profile). A memory-bound kernel
// runs near the HBM bandwidth it can draw, a fraction that depends on the kernel, not on the HBM
// generation: so the kernels of the memory-bound families (mHC, residual, norms, elementwise) and the
// copy ceiling scale with the datasheet bandwidths; GEMMs and attention, bound by the same tensor
// cores, do not.
#pragma once

#include "profile/profile.h"
#include "scenario/scenario.h"

namespace mhc {

Profile scenario_profile(const Scenario& s);

// `p` rescaled for a GPU whose HBM is `factor` times the profiled one's; `why` goes into every changed
// entry's and ceiling's source.
void scale_memory_bound(Profile& p, double factor, const std::string& why);

}  // namespace mhc
