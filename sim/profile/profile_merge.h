// Merging measured profiles of one GPU, measured in parts (the mHC sweep in one run, GEMMs in another,
// attention by profiles/attention/measure_attention.py), into one profile (`mhcsim profile-merge`).
#pragma once

#include <string>
#include <vector>

#include "profile/profile.h"

namespace mhc {

// Ceilings of two parts further apart than this (relative) are reported as a warning.
inline constexpr double kCeilingDisagreement = 0.05;

struct MergedProfile {
  Profile profile;
  std::vector<std::string> warnings;  // ceilings the parts disagree on (the first part's value is kept)
};

// Every input must be measured, on the same gpu and sm_count as the first; no (kernel, shape) may
// appear twice. Entries are concatenated in input order, each naming its part; a merged input's parts
// are carried over one by one. Each ceiling comes from the first input that has it, its source naming
// that input. `command` and `date` describe the merge (the merged file's provenance). Bad input throws
// InputError naming the input file and the JSON path.
MergedProfile merge_profiles(const std::vector<Profile>& inputs, const std::string& command, const std::string& date);

}  // namespace mhc
