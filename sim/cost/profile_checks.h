// Checks a measured profile must pass (run as tests over every committed profile, and printed by
// `mhcsim profile-info`): interpolation accuracy by leave-one-out, and measured DRAM bytes against
// the I/O model.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cost/cost.h"
#include "profile/profile.h"
#include "profile/profile_io_model.h"

namespace mhc {

// How close leave-one-out must price a removed entry: 5% for mHC (and residual) kernels, 10% for
// GEMMs; nullopt for families without a target. The target applies to interior entries (removing
// them tests interpolation); entries at the ends of a measured range test extrapolation and are
// reported, not held to it.
std::optional<double> leave_one_out_tolerance(KernelFamily family);

struct LeaveOneOutViolation {
  LeaveOneOutResult result;
  double tolerance = 0.0;
  std::string describe() const;
};
std::vector<LeaveOneOutViolation> leave_one_out_violations(const Profile& profile);

struct ByteCheck {
  const ProfileEntry* entry = nullptr;
  IoBytesPerToken measured;  // CUPTI DRAM bytes per token
  IoBytesPerToken expected;  // the I/O model per token
  double read_ratio() const { return measured.read / expected.read; }
  double write_ratio() const { return measured.write / expected.write; }
};
// One check per entry that has measured DRAM bytes and an expectation from `expected`.
std::vector<ByteCheck> byte_checks(const Profile& profile, const ExpectedBytesFn& expected);

// The kernels whose measured bytes must match the I/O model within 10%: fused post_res (reads
// (n+1)C, writes nC) and every unfused Table 2 step, plus the plain residual merge.
bool byte_check_required(const std::string& kernel);
constexpr double kByteCheckTolerance = 0.10;
std::vector<std::string> byte_check_violations(const Profile& profile, const ExpectedBytesFn& expected);

}  // namespace mhc
