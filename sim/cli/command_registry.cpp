#include "cli/command_registry.h"

namespace mhc {

std::map<std::string, Command>& command_registry() {
  static std::map<std::string, Command> registry;
  return registry;
}

CommandRegistration::CommandRegistration(const std::string& name, Command command) {
  command_registry()[name] = std::move(command);
}

}  // namespace mhc
