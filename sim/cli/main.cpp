// mhcsim: dispatches to the registered sub-commands. Bad input anywhere ends here as one clear line
// on stderr and exit code 2 (so does output that cannot be written); internal failures as exit code 3.
#include <cerrno>
#include <cstdio>
#include <cstring>
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
// Output that never reached its reader (a full disk, a closed file) is a failure, not a success.
int checked_stdout(int code) {
  errno = 0;
  std::cout.flush();
  const bool failed = !std::cout || std::fflush(stdout) != 0 || std::ferror(stdout);
  if (!failed) return code;
  const int err = errno;
  std::cerr << "error: writing to standard output failed" << (err ? std::string(": ") + std::strerror(err) : "")
            << "\n";
  return code == 0 ? 2 : code;
}

int run_command(const std::string& name, const mhc::Command& command, const std::vector<std::string>& rest) {
  try {
    return command.run(rest);
  } catch (const mhc::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "internal error in 'mhcsim " << name << "': " << e.what() << "\n";
    return 3;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help(args.empty() ? std::cerr : std::cout);
    return checked_stdout(args.empty() ? 2 : 0);
  }
  auto& registry = mhc::command_registry();
  auto it = registry.find(args[0]);
  if (it == registry.end()) {
    std::cerr << "mhcsim: unknown command '" << mhc::bounded(args[0]) << "'\n";
    print_help(std::cerr);
    return 2;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (!rest.empty() && (rest[0] == "--help" || rest[0] == "-h")) {
    std::cout << "usage: " << it->second.usage << "\n";
    return checked_stdout(0);
  }
  return checked_stdout(run_command(args[0], it->second, rest));
}
