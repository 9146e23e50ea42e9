// `mhcsim schedule`: generate a pipeline schedule, check it, price it with unit-free task times and
// report bubble, makespan and peak activations per rank (text or JSON), with an optional trace.
// Lives in the library so tests can call it; sim/cli/cmd_schedule.cpp only registers it.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace mhc {

extern const char* const kScheduleUsage;
// Returns the exit code (0 ok, 1 if the schedule fails its checks); bad flags throw InputError.
int run_schedule_command(const std::vector<std::string>& args, std::ostream& out);

}  // namespace mhc
