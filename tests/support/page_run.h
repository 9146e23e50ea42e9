// Running the mhcsim command in tests: its exit code and output, and `mhcsim ... --json --html FILE`
// giving the page and the JSON printed by the same invocation (the page tests of run and sweep).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace mhc::test {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string all;  // stdout and stderr
};

inline CommandResult run_command(const std::string& cmd, bool merge_stderr) {
  std::array<char, 4096> buf{};
  CommandResult r;
  FILE* pipe = popen((cmd + (merge_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (!pipe) return r;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.all = r.out;
  return r;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh directory for this process's outputs.
inline std::string scratch_dir(const std::string& what) {
  namespace fs = std::filesystem;
  const fs::path d = fs::temp_directory_path() / ("mhcsim-" + what + "-" + std::to_string(getpid()));
  fs::create_directories(d);
  return d.string();
}

const std::string kMhcsim = std::string(MHC_BINARY_DIR) + "/sim/mhcsim";

struct PageRun {
  int exit_code = -1;
  std::string page_path, html;
  nlohmann::json json;
};

// `args` after the command name, e.g. "run scenarios/small.json"; --json and --html are added.
inline PageRun page_run(const std::string& args, const std::string& name) {
  PageRun p;
  p.page_path = scratch_dir(name) + "/page.html";
  const auto r = run_command(kMhcsim + " " + args + " --json --html " + p.page_path, false);
  p.exit_code = r.exit_code;
  if (r.exit_code == 0) {
    p.json = nlohmann::json::parse(r.out);
    p.html = read_file(p.page_path);
  }
  return p;
}

}  // namespace mhc::test
