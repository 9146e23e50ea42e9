// Every shipped scenario validates, and the command reports bad input as one line with exit code 2.
#include <array>
#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

#include "scenario/scenario.h"
#include "schedule/scenario_schedule.h"

namespace fs = std::filesystem;

namespace {
struct CommandResult {
  int exit_code;
  std::string output;
};
CommandResult run_command(const std::string& cmd) {
  std::array<char, 4096> buf{};
  std::string out;
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, ""};
  while (fgets(buf.data(), buf.size(), pipe)) out += buf.data();
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}
const std::string kMhcsim = std::string(MHC_BINARY_DIR) + "/sim/mhcsim";
}  // namespace

TEST(ShippedScenarios, AllValidate) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(std::string(MHC_SOURCE_DIR) + "/scenarios")) {
    if (entry.path().extension() != ".json") continue;
    ++count;
    EXPECT_NO_THROW({
      auto s = mhc::load_scenario(entry.path().string());
      mhc::check_scenario_schedule(s);
    }) << entry.path();
    auto r = run_command(kMhcsim + " validate " + entry.path().string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
  EXPECT_GE(count, 6);
}

TEST(ShippedScenarios, BadInputIsOneLineAndExitTwo) {
  auto r = run_command(kMhcsim + " validate scenarios/nope.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output, "error: scenarios/nope.json: cannot open file\n");
  r = run_command(kMhcsim + " validate scenarios/small.json --set /mhc/n=0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output, "error: scenarios/small.json: /mhc/n: must be an integer in 1..16, got 0\n");
  r = run_command(kMhcsim + " io --n 4");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output, "error: mhcsim io: --C: is required\n");
  r = run_command(kMhcsim + " frobnicate");
  EXPECT_EQ(r.exit_code, 2);
}

TEST(ShippedScenarios, SetIntoAReferencedClusterResolvesItsProfileOnce) {
  // The README's example, from the repository root: the cluster's relative profile path was resolved
  // against the cluster's folder and then again against the scenario's.
  auto s = mhc::load_scenario("scenarios/paper-27b-h800-dualpipe.json", {"/cluster/nics/bandwidth_GBps=25"});
  EXPECT_EQ(s.profile, "profiles/measured/h100-sxm-quick.json");
  EXPECT_DOUBLE_EQ(s.cluster.nic.bandwidth_Bps, 25e9);
  EXPECT_EQ(mhc::load_scenario("scenarios/paper-27b-h800-dualpipe.json").profile, s.profile);
}
