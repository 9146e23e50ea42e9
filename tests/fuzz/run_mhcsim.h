// Runs the mhcsim binary with exact arguments (no shell: any bytes pass through) and collects its exit
// code, stdout and stderr.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mhc::fuzz {

struct Outcome {
  int exit_code = -1;  // -1: killed by a signal (`signal` says which)
  int signal = 0;
  std::string out, err;
};

// `stdout_path`: where the child's stdout goes ("" for a temporary file that is read back).
inline Outcome run_mhcsim(const std::string& binary, const std::vector<std::string>& args,
                          const std::filesystem::path& scratch, const std::string& stdout_path = "") {
  const std::string out_file = stdout_path.empty() ? (scratch / "stdout.txt").string() : stdout_path;
  const std::string err_file = (scratch / "stderr.txt").string();
  std::vector<std::string> argv_s{binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  Outcome r;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return r;
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  auto slurp = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  };
  if (stdout_path.empty()) r.out = slurp(out_file);
  r.err = slurp(err_file);
  return r;
}

}  // namespace mhc::fuzz
