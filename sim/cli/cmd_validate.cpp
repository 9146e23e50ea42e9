// Registers `mhcsim validate` (logic in validate_command.cpp).
#include <iostream>

#include "cli/command_registry.h"
#include "cli/validate_command.h"

namespace {
const mhc::CommandRegistration reg(
    "validate", mhc::Command{"checks a scenario, its schedule and its profile completely; nothing is simulated",
                             mhc::kValidateUsage,
                             [](const std::vector<std::string>& args) {
                               return mhc::run_validate_command(args, std::cout);
                             }});
}  // namespace
