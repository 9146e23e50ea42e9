// mhcsim sweep --slurm on a real single-node Slurm: with_slurm.sh starts munged, slurmctld and slurmd
// (Debian's munge and slurm-wlm) in private PID, network and mount namespaces (or, where refused, on
// free loopback ports), under a temporary directory; slurm_sweep_steps.sh submits the sweep, waits
// for it, collects it, loses a result and resubmits it. The collected table and JSON must be the
// local sweep's, byte for byte. Skips where Slurm cannot start (not root, packages missing); the
// daemons end with the test even if it is killed.
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

namespace {

const std::string kSource = MHC_SOURCE_DIR;
const std::string kMhcsim = std::string(MHC_BINARY_DIR) + "/sim/mhcsim";
const std::vector<std::string> kSweepArgs = {"scenarios/small.json", "--n", "1,4", "--vary", "/schedule/kind=1f1b,zb1p"};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs argv (in the source tree) with stdout and stderr into files; its exit status, or -1 when it
// ran past `timeout_s` (it is then killed; so is everything in its namespaces).
int run(const std::vector<std::string>& argv, const std::string& out, const std::string& err, int timeout_s) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a killed test takes Slurm with it
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) ::_exit(127);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST(SlurmCluster, AJobArraySweepCollectsToTheLocalSweepByteForByte) {
  const std::string work =
      (std::filesystem::path(testing::TempDir()) / ("mhc_slurm_cluster_" + std::to_string(::getpid()))).lexically_normal();
  std::filesystem::remove_all(work);
  std::filesystem::create_directories(work);
  const std::string dir = work + "/sweep", out = work + "/out";

  std::vector<std::string> local = {kMhcsim, "sweep"};
  local.insert(local.end(), kSweepArgs.begin(), kSweepArgs.end());
  local.push_back("--jobs=2");
  ASSERT_EQ(run(local, work + "/local.txt", work + "/local.err", 120), 0) << slurp(work + "/local.err");
  local.push_back("--json");
  ASSERT_EQ(run(local, work + "/local.json", work + "/local.err", 120), 0) << slurp(work + "/local.err");

  std::vector<std::string> steps = {"bash", kSource + "/tests/sweep/with_slurm.sh", work + "/slurm", "bash",
                                    kSource + "/tests/sweep/slurm_sweep_steps.sh", kMhcsim, dir, out};
  steps.insert(steps.end(), kSweepArgs.begin(), kSweepArgs.end());
  const int status = run(steps, work + "/steps.out", work + "/steps.err", 150);
  if (status == 77) GTEST_SKIP() << slurp(work + "/steps.err");
  ASSERT_EQ(status, 0) << "with_slurm.sh / slurm_sweep_steps.sh (-1: past 150 s):\n"
                       << slurp(work + "/steps.err") << "\nslurmctld log:\n" << slurp(work + "/slurm/log/slurmctld.log");

  // The job array's results, collected: the local sweep's table and JSON, byte for byte.
  EXPECT_EQ(slurp(out + "/collect.txt"), slurp(work + "/local.txt"));
  EXPECT_EQ(slurp(out + "/collect.json"), slurp(work + "/local.json"));
  EXPECT_NE(slurp(out + "/plan.txt").find("4 points: 0 with a result already, 0 pending or running in Slurm, 4 to run"),
            std::string::npos)
      << slurp(out + "/plan.txt");
  EXPECT_NE(slurp(out + "/plan.txt").find("submitted job "), std::string::npos);
  // Planned again: every point is found by its key, nothing is submitted.
  EXPECT_NE(slurp(out + "/replan.txt").find("4 points: 4 with a result already"), std::string::npos)
      << slurp(out + "/replan.txt");
  EXPECT_EQ(slurp(out + "/replan.txt").find("submitted job"), std::string::npos);

  // A lost result: listed with the state Slurm gives its task and the task's log, exit status 1.
  EXPECT_EQ(slurp(out + "/missing.status"), "1\n");
  const std::string missing = slurp(out + "/missing.err");
  EXPECT_NE(missing.find("sweep-collect: 1 of 4 points have no result (states from squeue):"), std::string::npos) << missing;
  const std::string log_prefix = dir + "/logs/";
  const size_t log_at = missing.find("COMPLETED; log " + log_prefix);
  ASSERT_NE(log_at, std::string::npos) << missing;
  const std::string log = missing.substr(log_at + 15, missing.find('\n', log_at) - log_at - 15);
  EXPECT_NE(slurp(log).find("sweep-point 0: " + dir + "/results/"), std::string::npos) << log << ": " << slurp(log);
  // Resubmitted alone, and the sweep is whole again.
  EXPECT_NE(slurp(out + "/resubmit.err").find("resubmit: 1 point: 0 with a result already, 0 pending or running in Slurm, 1 to run"),
            std::string::npos)
      << slurp(out + "/resubmit.err");
  EXPECT_EQ(slurp(out + "/recollect.txt"), slurp(work + "/local.txt"));
  if (!HasFailure()) std::filesystem::remove_all(work);
}
