// mhc-profile's CPU side: statistics over CUPTI samples, entries built from synthetic measurements,
// written with write_profile and loaded back through load_profile.
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "core/command_stamp.h"
#include "cost/cost.h"
#include "profile_builder.h"

namespace mhc {
namespace {

using profiler::summarize;

TEST(ProfileBuilder, SummarizeTakesTheMedianMinAndMax) {
  auto odd = summarize({3e-6, 1e-6, 2e-6, 10e-6, 2.5e-6});
  EXPECT_DOUBLE_EQ(odd.median, 2.5e-6);
  EXPECT_DOUBLE_EQ(odd.min, 1e-6);
  EXPECT_DOUBLE_EQ(odd.max, 10e-6);
  EXPECT_EQ(odd.runs, 5);
  EXPECT_DOUBLE_EQ(summarize({4e-6, 1e-6, 2e-6, 3e-6}).median, 2.5e-6);
  EXPECT_THROW(summarize({}), std::invalid_argument);
  EXPECT_THROW(summarize({1e-6, 0.0}), std::invalid_argument);
}

TEST(ProfileBuilder, CommandLineAndDriverVersion) {
  const char* argv[] = {"mhc-profile", "--out", "profiles/h100 sxm.json", "--n=4"};
  EXPECT_EQ(profiler::command_line(4, const_cast<char**>(argv)), "mhc-profile --out 'profiles/h100 sxm.json' --n=4");
  EXPECT_EQ(profiler::driver_version_from_proc(
                "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.159.03  Thu Oct  2 2025\nGCC version: gcc 12"),
            "580.159.03");
  EXPECT_EQ(profiler::driver_version_from_proc(
                "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (nixbld@)  \n"),
            "580.159.04");
  EXPECT_EQ(profiler::driver_version_from_proc("nothing here"), "");
  EXPECT_EQ(mhc::utc_now_iso8601().size(), 20u);
}

TEST(ProfileBuilder, SyntheticMeasurementsWriteAndLoadBack) {
  Profile p;
  p.kind = ProfileKind::measured;
  p.provenance = {"NVIDIA Synthetic", mhc::utc_now_iso8601(), "mhc-profile --quick", 132, 1980, 2619, 85e9,
                  "580.159.03", "13.0", "130001", "13.0.0", "9.10.0", "host", "", "peak clocks (no NVML)"};
  p.ceilings.copy_bandwidth_Bps = {2.95e12, "cudaMemcpyAsync D2D 1 GiB, CUPTI memcpy records, median of 20"};
  p.ceilings.peak_flops[DType::bf16] = {7.0e14, "cublasLt 8192^3 bf16, CUPTI, median of 20"};
  profiler::RunSettings settings{5, 7, 3};
  // post_res, n = 4, C = 2560 at three token counts; bytes from the I/O model, DRAM 1% above it.
  for (int64_t tokens : {4096, 8192, 16384}) {
    ProfileShape s;
    s.n = 4;
    s.C = 2560;
    s.tokens = tokens;
    const double rd = (2.0 * 5 * 2560 + 4.0 * 20) * tokens, wr = 2.0 * 4 * 2560 * tokens;
    std::vector<double> samples;
    for (int i = 0; i < settings.runs; ++i) samples.push_back((rd + wr) / 1.5e12 * (1.0 + 0.01 * (i % 3)));
    p.entries.push_back(profiler::make_entry("mhc_fused.post_res_fwd", s, summarize(samples), settings,
                                             profiler::DramBytes{rd * 1.01, wr * 1.01}, rd, wr, 0.0, "mhc kernels"));
  }
  EXPECT_THROW(profiler::make_entry("not_a_kernel", {}, summarize({1e-6}), settings, std::nullopt, 0, 0, 0, "x"),
               std::invalid_argument);

  auto dir = std::filesystem::temp_directory_path() / ("mhcsim_builder_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "synthetic.json").string();
  write_profile(p, path);
  Profile q = load_profile(path);
  ASSERT_EQ(q.entries.size(), 3u);
  EXPECT_EQ(q.entries[2].runs, 7);
  EXPECT_EQ(q.entries[2].warmup, 5);
  EXPECT_EQ(q.entries[2].input_sets, 3);
  EXPECT_DOUBLE_EQ(q.entries[2].seconds, p.entries[2].seconds);
  EXPECT_DOUBLE_EQ(*q.entries[1].dram_write_bytes, 1.01 * 2.0 * 4 * 2560 * 8192);
  // The loaded profile prices its own shapes exactly.
  CostModel model(q);
  PricedOp hit = model.price(query_for_entry(q.entries[1]));
  EXPECT_EQ(hit.method, PriceMethod::measured);
  EXPECT_DOUBLE_EQ(hit.seconds, p.entries[1].seconds);
}

}  // namespace
}  // namespace mhc
