// Every input issue 20 found crashing, hanging or silently accepted, through the mhcsim binary: bad
// input is one line naming the file and JSON path with exit code 2; the valid ones run.
#include <gtest/gtest.h>

#include "crash_cases.h"
#include "run_mhcsim.h"

namespace fs = std::filesystem;
using namespace mhc::fuzz;

namespace {

const std::string kMhcsim = std::string(MHC_BINARY_DIR) + "/sim/mhcsim";

fs::path scratch_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("mhcsim_crash_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string expand(std::string arg, const InputWorkspace& ws) {
  for (auto [key, value] : {std::pair<std::string, std::string>{"{scenario}", ws.path(File::scenario)},
                            {"{cluster}", ws.path(File::cluster)},
                            {"{dir}", ws.dir().string()}})
    for (auto pos = arg.find(key); pos != std::string::npos; pos = arg.find(key)) arg.replace(pos, key.size(), value);
  return arg;
}

// One line, "error: ...", bounded: what the README promises for bad input.
void expect_one_error_line(const Outcome& r, const std::string& message) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
  EXPECT_LT(r.err.size(), 1200u) << "an unbounded message";
  EXPECT_NE(r.err.find(message), std::string::npos) << "expected '" << message << "' in: " << r.err;
}

class CrashCases : public ::testing::TestWithParam<size_t> {};

TEST_P(CrashCases, ExitCodeAndMessage) {
  const CrashCase c = crash_cases()[GetParam()];
  SCOPED_TRACE(c.name);
  const fs::path dir = scratch_dir("case" + std::to_string(GetParam()));
  InputWorkspace ws(MHC_SOURCE_DIR, c.scenario, dir / "in");
  for (const TextEdit& e : c.edits) {
    if (e.kind == TextEdit::Kind::set_raw) {
      ASSERT_TRUE(ws.set_raw(e.file, e.a, e.b)) << e.a;
    } else {
      ws.edit(e);
    }
  }
  ws.write();
  std::vector<std::string> args;
  for (const std::string& a : c.args) args.push_back(expand(a, ws));
  const Outcome r = run_mhcsim(kMhcsim, args, dir);
  EXPECT_EQ(r.signal, 0) << "killed by signal " << r.signal << ": " << r.err;
  if (c.exit_code == 0) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
  } else {
    expect_one_error_line(r, c.message);
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Issue20, CrashCases, ::testing::Range<size_t>(0, crash_cases().size()));

TEST(CrashCasesCli, StdoutWriteErrorIsAnError) {
  const fs::path dir = scratch_dir("stdout");
  const Outcome r = run_mhcsim(kMhcsim, {"validate", "scenarios/small.json"}, dir, "/dev/full");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: writing to standard output failed: No space left on device\n");
  fs::remove_all(dir);
}

TEST(CrashCasesCli, ReadmeValidateExampleResolvesTheProfileOnce) {
  // From the repository root, as the README shows it: the cluster's profile path was resolved twice.
  const fs::path dir = scratch_dir("readme");
  const Outcome r = run_mhcsim(
      kMhcsim, {"validate", "scenarios/paper-27b-h800-dualpipe.json", "--set", "/cluster/nics/bandwidth_GBps=25"}, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("profile     profiles/measured/h100-sxm-quick.json"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(CrashCasesCli, UnwritableTraceFailsBeforeTheRun) {
  // A layout that runs (EP groups spanning TP ranks, once refused by `run`): with a trace it cannot
  // write, the trace's error is the one line and nothing of the run reaches stdout.
  const fs::path dir = scratch_dir("trace_first");
  const std::vector<std::string> layout{"--set", "/parallelism/tp=2", "--set", "/parallelism/pp=2",
                                        "--set", "/parallelism/ep=4"};
  std::vector<std::string> args{"run", "scenarios/small.json"};
  args.insert(args.end(), layout.begin(), layout.end());
  Outcome r = run_mhcsim(kMhcsim, args, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  args.insert(args.end(), {"--trace", (dir / "missing" / "t.json").string()});
  r = run_mhcsim(kMhcsim, args, dir);
  expect_one_error_line(r, "mhcsim run: --trace: cannot write '" + (dir / "missing" / "t.json").string() +
                               "': No such file or directory");
  EXPECT_EQ(r.out, "");
  fs::remove_all(dir);
}

}  // namespace

namespace {

TEST(CrashCasesCli, ClusterBeyondTheMappingLimitIsRefusedUpFront) {
  // 32,768 GPUs died in SimGrid ("Failed to protect stack", exit 3) at Linux's default limit.
  long limit = 0;
  std::ifstream("/proc/sys/vm/max_map_count") >> limit;
  if (limit <= 0 || limit > 2 * 32768 + 10000) GTEST_SKIP() << "vm.max_map_count is " << limit << ": 32,768 GPUs fit";
  const fs::path dir = scratch_dir("max_map_count");
  const Outcome r = run_mhcsim(kMhcsim,
                               {"run", "scenarios/dense-gpt-13b-h100-1f1b.json", "--set", "/cluster/nodes=4096", "--set",
                                "/parallelism/dp=4096", "--set", "/parallelism/global_batch=32768"},
                               dir);
  expect_one_error_line(r, "/cluster/nodes: this run simulates 32768 GPUs, one SimGrid actor each");
  EXPECT_NE(r.err.find("more than vm.max_map_count (" + std::to_string(limit) + ") allows; raise it (sudo sysctl -w"),
            std::string::npos)
      << r.err;
  fs::remove_all(dir);
}

}  // namespace
