// mhcsim: dispatches to the registered sub-commands. Bad input anywhere ends here as one clear line
// on stderr and exit code 2; internal failures as exit code 3.
#include <exception>
#include <iostream>

#include "cli/command_registry.h"
#include "core/json_input.h"

namespace {
void print_help(std::ostream& os) {
  os << "mhcsim: predicts what Manifold-Constrained Hyper-Connections (mHC) cost a training run\n\n"
        "usage: mhcsim <command> [arguments]\n\ncommands:\n";
  for (const auto& [name, cmd] : mhc::command_registry())
    os << "  " << name << std::string(name.size() < 14 ? 14 - name.size() : 1, ' ') << cmd.summary << "\n";
  os << "\nRun 'mhcsim <command> --help' for a command's synopsis.\n";
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help(args.empty() ? std::cerr : std::cout);
    return args.empty() ? 2 : 0;
  }
  auto& registry = mhc::command_registry();
  auto it = registry.find(args[0]);
  if (it == registry.end()) {
    std::cerr << "mhcsim: unknown command '" << args[0] << "'\n";
    print_help(std::cerr);
    return 2;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (!rest.empty() && (rest[0] == "--help" || rest[0] == "-h")) {
    std::cout << "usage: " << it->second.usage << "\n";
    return 0;
  }
  try {
    return it->second.run(rest);
  } catch (const mhc::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "internal error in 'mhcsim " << args[0] << "': " << e.what() << "\n";
    return 3;
  }
}
