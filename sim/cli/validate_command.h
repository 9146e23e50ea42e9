// `mhcsim validate`: checks a scenario completely (files, keys, types, ranges, cross-field rules, the
// pipeline schedule it asks for, and the profile its cluster names, which must price every op) and
// prints what it resolved to. Nothing is simulated. In the library so tests and the input fuzzer
// run exactly what the command runs.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace mhc {

extern const char* const kValidateUsage;

// Returns the exit code; bad input throws InputError.
int run_validate_command(const std::vector<std::string>& args, std::ostream& out);

}  // namespace mhc
