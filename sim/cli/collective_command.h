// `mhcsim collective`: an nccl-tests-style table (size, count, type, time, algbw, busbw) of one
// NCCL operation simulated on a cluster, next to NCCL's own closed-form prediction.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace mhc {

extern const char* const kCollectiveUsage;

// Throws InputError for bad flags or cluster files.
int run_collective_command(const std::vector<std::string>& args, std::ostream& out);

// "8", "1K", "4M", "2G" (powers of 1024, as nccl-tests -b/-e) -> bytes; InputError naming `flag`.
double parse_size(const std::string& text, const std::string& flag);

}  // namespace mhc
