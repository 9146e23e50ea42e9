// The GPU model (engine/gpu_share.h) against a profile's co-run measurements (ProfileCorun): the GEMM
// and the post-res kernel started together, with equal priorities and with post-res on the
// high-priority stream, and the GEMM beside the paced copy, each predicted from the same demands the
// simulation gives those kernels (cost/kernel_demand.h) and their measured times alone.
#pragma once

#include <optional>

#include "profile/profile.h"

namespace mhc {

struct CorunCheck {
  CorunTimes same_priority;           // predicted
  CorunTimes post_res_high_priority;  // predicted
  double gemm_beside_copy_s = 0.0;    // predicted
  double gemm_sm_share = 0.0, post_res_sm_share = 0.0;  // the demands used
};

// nullopt when the profile has no corun section or no SM count.
std::optional<CorunCheck> check_corun(const Profile& profile);

}  // namespace mhc
