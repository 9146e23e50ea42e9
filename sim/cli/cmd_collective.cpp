// Registers `mhcsim collective` (logic in collective_command.cpp).
#include <iostream>

#include "cli/collective_command.h"
#include "cli/command_registry.h"

namespace {
const mhc::CommandRegistration reg(
    "collective", mhc::Command{"nccl-tests-style table of one NCCL operation simulated on a cluster",
                               mhc::kCollectiveUsage,
                               [](const std::vector<std::string>& args) {
                                 return mhc::run_collective_command(args, std::cout);
                               }});
}  // namespace
