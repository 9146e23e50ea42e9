// What a file written by a command records about how it was made: the exact command line and when.
// Shared by the mhcsim commands and mhc-profile.
#pragma once

#include <string>
#include <vector>

namespace mhc {

// "mhcsim profile-merge --out 'a b.json' x.json": the words joined, each shell-quoted when it must be.
std::string shell_command_line(const std::vector<std::string>& words);
// The current UTC time as ISO 8601 ("2026-11-22T10:30:00Z").
std::string utc_now_iso8601();

}  // namespace mhc
