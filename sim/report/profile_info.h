// `mhcsim profile-info FILE`: what a profile holds and how far to trust it: provenance, ceilings,
// kernels and the shapes they cover, achieved bandwidth against the copy ceiling, measured DRAM
// bytes per token next to the I/O model's, and the leave-one-out interpolation error.
#pragma once

#include <ostream>

#include "profile/profile.h"
#include "profile/profile_io_model.h"

namespace mhc {

struct ProfileInfoOptions {
  bool list_entries = false;  // one line per entry
  ExpectedBytesFn expected_bytes = formula_expected_bytes();
};

void write_profile_info(std::ostream& os, const Profile& profile, const ProfileInfoOptions& options);

}  // namespace mhc
