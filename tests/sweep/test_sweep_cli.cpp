// mhcsim sweep as a process: a worker killed from outside costs only its point and the exit status is
// 1; killing the sweep itself ends its workers.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;

namespace {

const std::string kMhcsim = std::string(MHC_BINARY_DIR) + "/sim/mhcsim";

// One point takes 0.1 s (global_batch 16), the other far longer than the test waits (16384: 8192
// micro-batches, 13 s on a 2-core machine), so it is always still running when the test kills it.
const std::vector<std::string> kSweep = {kMhcsim, "sweep", "scenarios/small.json", "--n", "1", "--vary",
                                         "/parallelism/global_batch=16,16384", "--jobs", "2"};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts argv with stdout and stderr into files.
pid_t spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) ::_exit(127);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// The process's live children: every /proc/PID/stat whose parent field is pid. (Not
// /proc/PID/task/TID/children, which kernels built without CONFIG_PROC_CHILDREN lack.)
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = slurp(entry.path() / "stat");
    const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 1));
    char state = 0;
    pid_t parent = 0;
    if (fields >> state >> parent && parent == pid && state != 'Z') out.push_back(std::stoi(name));
  }
  return out;
}

// Waits until the sweep has finished its fast point and only the slow point's worker is left.
std::vector<pid_t> slow_worker(pid_t sweep, const std::string& err) {
  for (int i = 0; i < 300; ++i) {
    std::this_thread::sleep_for(50ms);
    if (slurp(err).find("1/2") == std::string::npos) continue;
    auto workers = children_of(sweep);
    if (workers.size() == 1) return workers;
  }
  return {};
}

}  // namespace

TEST(SweepCli, AKilledWorkerCostsOnlyItsPointAndTheExitStatusSaysSo) {
  const std::string out = testing::TempDir() + "/sweep_cli_kill.out", err = testing::TempDir() + "/sweep_cli_kill.err";
  const pid_t sweep = spawn(kSweep, out, err);
  const auto workers = slow_worker(sweep, err);
  ASSERT_EQ(workers.size(), 1u) << slurp(err);
  ::kill(workers[0], SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(sweep, &status, 0), sweep);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  // The finished point's row has its numbers; the killed one's says why it has none.
  const std::string table = slurp(out);
  std::string fast_row, slow_row;
  std::stringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  16 ", 0) == 0) fast_row = line;
    if (line.rfind("  16384 ", 0) == 0) slow_row = line;
  }
  EXPECT_NE(fast_row, "") << table;
  EXPECT_EQ(fast_row.find("failed"), std::string::npos) << table;
  EXPECT_NE(fast_row.find("GB   yes"), std::string::npos) << table;
  EXPECT_NE(slow_row.find("  1  failed: sweep point n = 1: the worker process died (killed by signal 9)"), std::string::npos)
      << table;
  EXPECT_NE(table.find("recommendation per configuration:"), std::string::npos);
  EXPECT_NE(slurp(err).find("mhcsim sweep: 1 point failed"), std::string::npos) << slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
}

TEST(SweepCli, KillingTheSweepEndsItsWorkers) {
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);  // orphans come to this process, which can wait for them
  const std::string out = testing::TempDir() + "/sweep_cli_parent.out", err = testing::TempDir() + "/sweep_cli_parent.err";
  const pid_t sweep = spawn(kSweep, out, err);
  const auto workers = slow_worker(sweep, err);
  ::kill(sweep, SIGKILL);
  int status = 0;
  ::waitpid(sweep, &status, 0);
  ASSERT_EQ(workers.size(), 1u) << slurp(err);
  pid_t ended = 0;
  for (int i = 0; i < 100 && ended == 0; ++i) {
    ended = ::waitpid(workers[0], &status, WNOHANG);
    if (ended == 0) std::this_thread::sleep_for(50ms);
  }
  if (ended == 0) {
    ::kill(workers[0], SIGKILL);
    ::waitpid(workers[0], &status, 0);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  ASSERT_EQ(ended, workers[0]) << "the worker outlived the killed sweep by 5 s";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
}

TEST(SweepCli, SlurmFlagsOutOfPlaceAreInputErrorsNamingTheFlag) {
  const std::string dir = testing::TempDir() + "/sweep_cli_flags_" + std::to_string(::getpid());
  const std::string out = dir + ".out", err = dir + ".err";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"sweep", "scenarios/small.json", "--n", "1", "--partition", "gpu"}, "--partition: applies only with --slurm DIR"},
      {{"sweep", "scenarios/small.json", "--n", "1", "--slurm", dir, "--json"}, "--json: does not apply with --slurm"},
      {{"sweep", "scenarios/small.json", "--n", "1", "--slurm", dir, "--time", "1h"}, "--time: expected a Slurm time limit"},
      {{"sweep", "scenarios/small.json", "--n", "1", "--slurm", dir, "--array-max", "0"}, "--array-max: expected the most tasks"},
      {{"sweep-point", dir, "x"}, "INDEX: expected a point index"},
      {{"sweep-collect", dir}, "holds no sweep"},
      {{"sweep-collect", dir, "--dry-run"}, "--dry-run: applies only with --resubmit"}};
  for (const auto& [args, message] : cases) {
    std::vector<std::string> argv = {kMhcsim};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = spawn(argv, out, err);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << args[0] << " " << message;
    EXPECT_NE(slurp(err).find(message), std::string::npos) << slurp(err);
  }
  EXPECT_FALSE(std::filesystem::exists(dir));  // nothing planned
  std::filesystem::remove(out);
  std::filesystem::remove(err);
}
