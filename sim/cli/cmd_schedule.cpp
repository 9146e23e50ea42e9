// Registers `mhcsim schedule` (logic in schedule_command.cpp).
#include <iostream>

#include "cli/command_registry.h"
#include "cli/schedule_command.h"

namespace {
const mhc::CommandRegistration reg(
    "schedule", mhc::Command{"pipeline schedule: bubble, makespan, peak activations, timeline, trace",
                             mhc::kScheduleUsage,
                             [](const std::vector<std::string>& args) { return mhc::run_schedule_command(args, std::cout); }});
}  // namespace
