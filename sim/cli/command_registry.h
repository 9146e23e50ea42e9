// Sub-commands of `mhcsim` register themselves here (one cmd_<name>.cpp each), so adding a command
// never touches main.cpp.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mhc {

struct Command {
  std::string summary;  // one line for `mhcsim --help`
  std::string usage;    // the synopsis
  std::function<int(const std::vector<std::string>& args)> run;  // returns the exit code
};

std::map<std::string, Command>& command_registry();

struct CommandRegistration {
  CommandRegistration(const std::string& name, Command command);
};

}  // namespace mhc
