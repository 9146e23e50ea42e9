// `mhcsim collective`: its table and its flag errors.
#include <gtest/gtest.h>

#include <sstream>

#include "cli/collective_command.h"
#include "core/json_input.h"

using namespace mhc;

namespace {
std::string run(const std::vector<std::string>& args) {
  std::ostringstream out;
  run_collective_command(args, out);
  return out.str();
}
const std::string kCluster = std::string(MHC_SOURCE_DIR) + "/scenarios/clusters/small-2x4.json";
}  // namespace

TEST(CollectiveCommand, PrintsOneRowPerSizeWithBusBandwidth) {
  std::string out = run({"--op", "all_reduce", "--cluster", kCluster, "--gpus", "8", "--min", "1M", "--max", "4M"});
  EXPECT_NE(out.find("NCCL 2.23"), std::string::npos);
  EXPECT_NE(out.find("     1048576       262144  float    sum"), std::string::npos) << out;
  EXPECT_NE(out.find("     4194304      1048576  float    sum"), std::string::npos) << out;
  EXPECT_EQ(out.find("8388608"), std::string::npos);
  // Every row holds nccl-tests' identities: algbw = size / time, busbw = algbw x 2 (P - 1) / P for an
  // all-reduce on P = 8 GPUs (to the printed 2 decimals), and a time that grows with the size.
  std::istringstream rows(out);
  int seen = 0;
  double last_time = 0;
  for (std::string line; std::getline(rows, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    double size = 0, count = 0, time_us = 0, algbw = 0, busbw = 0, tuner_us = 0;
    std::string type, redop, algo, proto;
    ASSERT_TRUE(f >> size >> count >> type >> redop >> time_us >> algbw >> busbw >> algo >> proto >> tuner_us) << line;
    EXPECT_EQ(count, size / 4) << line;
    EXPECT_NEAR(algbw, size / (time_us * 1e-6) / 1e9, 0.006) << line;
    EXPECT_NEAR(busbw, algbw * 2 * 7 / 8, 0.011) << line;
    EXPECT_GT(time_us, last_time) << line;
    EXPECT_GT(tuner_us, 0) << line;
    last_time = time_us;
    ++seen;
  }
  EXPECT_EQ(seen, 3) << "1M, 2M and 4M";
  std::string a2a = run({"--op", "all_to_all", "--cluster", kCluster, "--gpus", "4", "--min", "64K", "--max", "64K"});
  EXPECT_NE(a2a.find("direct"), std::string::npos) << a2a;
}

TEST(CollectiveCommand, SaysHowCloseItLandsOnThePublishedFigure) {
  // The H800 cluster calibrates NVLink/NVLS on one nccl-tests figure (215 GB/s busbw, 4 GiB): the
  // command simulates that size and compares. The tolerance is the 10%.
  const std::string h800 = std::string(MHC_SOURCE_DIR) + "/scenarios/clusters/h800-128.json";
  std::string out = run({"--op", "all_reduce", "--cluster", h800, "--gpus", "8", "--min", "1M", "--max", "1M"});
  const auto at = out.find("# published (nccl_measured nccl-allreduce-8xh800): busbw 215.0 GB/s at 4294967296 B; "
                           "simulated ");
  ASSERT_NE(at, std::string::npos) << out;
  const double simulated = std::stod(out.substr(out.find("simulated ", at) + 10));
  EXPECT_NEAR(simulated, 215.0, 21.5) << out;
  EXPECT_NE(out.find("), within 10%", at), std::string::npos) << out;
  // Another operation, or an override, has no figure to compare with.
  EXPECT_EQ(run({"--op", "all_gather", "--cluster", h800, "--gpus", "8", "--max", "1M"}).find("# published ("),
            std::string::npos);
  EXPECT_EQ(run({"--op", "all_reduce", "--cluster", h800, "--gpus", "8", "--max", "1M", "--proto", "LL"})
                .find("# published ("),
            std::string::npos);
}

TEST(CollectiveCommand, BadFlagsAreInputErrors) {
  EXPECT_THROW(run({"--op", "gather", "--cluster", kCluster, "--gpus", "8"}), InputError);
  EXPECT_THROW(run({"--op", "all_reduce", "--cluster", kCluster, "--gpus", "9"}), InputError);
  EXPECT_THROW(run({"--op", "all_reduce", "--cluster", kCluster, "--gpus", "6"}), InputError);  // not whole nodes
  EXPECT_THROW(run({"--op", "all_reduce", "--cluster", kCluster, "--gpus", "8", "--min", "1X"}), InputError);
  EXPECT_THROW(run({"--op", "all_reduce", "--cluster", kCluster, "--gpus", "8", "--algo", "nvls"}), InputError);
  EXPECT_THROW(run({"--op", "all_gather", "--cluster", kCluster, "--gpus", "8", "--algo", "tree"}), InputError);
  EXPECT_THROW(run({"--op", "all_reduce", "--cluster", "nope.json", "--gpus", "8"}), InputError);
  EXPECT_DOUBLE_EQ(parse_size("2K", "--min"), 2048.0);
  EXPECT_DOUBLE_EQ(parse_size("1G", "--max"), 1073741824.0);
}
