// The profiler's CPU side: a profile built from (synthetic) measurements is written by
// write_profile and read back by load_profile unchanged; an invalid one is refused on write.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/json_input.h"
#include "profile/profile.h"
#include "support/test_profile_support.h"

namespace mhc {
namespace {

Profile synthetic_measurements() {
  Profile p;
  p.kind = ProfileKind::measured;
  p.provenance.gpu = "NVIDIA Synthetic";
  p.provenance.date = "2026-11-22T10:30:00Z";
  p.provenance.command = "mhc-profile --out x.json";
  p.provenance.sm_count = 132;
  p.provenance.sm_clock_mhz = 1980;
  p.provenance.memory_clock_mhz = 2619;
  p.provenance.memory_bytes = 85e9;
  p.provenance.driver = "580.159";
  p.provenance.cuda_runtime = "13.0";
  p.provenance.cupti = "130000";
  p.provenance.cudnn = "9.10.0";
  p.ceilings.copy_bandwidth_Bps = {2.9e12, "cudaMemcpyDeviceToDevice 1 GiB, CUPTI memcpy records"};
  p.ceilings.peak_flops[DType::bf16] = {6.9e14, "cublasLt 8192^3 bf16"};
  p.ceilings.launch_overhead_s = SourcedValue{2.5e-6, "empty kernel, CUPTI"};
  p.datasheet.sm_count = SourcedValue{132, "datasheet"};

  ProfileEntry e;
  e.kernel = "mhc_fused.sinkhorn_bwd";
  e.family = KernelFamily::mhc;
  e.shape.n = 4;
  e.shape.C = 2560;
  e.shape.tokens = 16384;
  e.shape.sinkhorn_iters = 20;
  e.seconds = 1.25e-5;
  e.seconds_min = 1.2e-5;
  e.seconds_max = 1.5e-5;
  e.runs = 100;
  e.warmup = 10;
  e.input_sets = 8;
  e.dram_read_bytes = 2.1e6;
  e.dram_write_bytes = 1.05e6;
  e.model_read_bytes = 2.0e6;
  e.model_write_bytes = 1.0e6;
  e.implementation = "mhc kernels";
  p.entries.push_back(e);

  ProfileEntry g;
  g.kernel = "gemm";
  g.family = KernelFamily::gemm;
  g.shape.m = 16384;
  g.shape.gemm_n = 2048;
  g.shape.k = 7168;
  g.shape.groups = 8;
  g.shape.dtype = DType::fp8;
  g.seconds = g.seconds_min = g.seconds_max = 1e-3;
  g.runs = 20;
  g.warmup = 3;
  g.input_sets = 2;
  g.model_flops = 2.0 * 8 * 16384.0 * 2048 * 7168;
  g.implementation = "cublasLt";
  p.entries.push_back(g);

  ProfileEntry a;
  a.kernel = "attention_bwd";
  a.family = KernelFamily::attention;
  a.shape.tokens = 8192;
  a.shape.seq = 4096;
  a.shape.heads = 128;
  a.shape.head_dim_qk = 192;
  a.shape.head_dim_v = 128;
  a.shape.causal = true;
  a.seconds = a.seconds_min = a.seconds_max = 2e-3;
  a.runs = 20;
  a.input_sets = 2;
  a.implementation = "cudnn fused attention";
  p.entries.push_back(a);
  return p;
}

TEST(ProfileWrite, RoundTripKeepsEverything) {
  Profile p = synthetic_measurements();
  auto dir = std::filesystem::temp_directory_path() / ("mhcsim_profile_write_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "roundtrip.json").string();
  write_profile(p, path);
  Profile q = load_profile(path);
  EXPECT_EQ(q.file, path);
  EXPECT_EQ(q.kind, ProfileKind::measured);
  EXPECT_EQ(q.provenance.gpu, p.provenance.gpu);
  EXPECT_EQ(q.provenance.command, p.provenance.command);
  EXPECT_EQ(q.provenance.cudnn, p.provenance.cudnn);
  EXPECT_EQ(q.provenance.cublaslt, "");
  EXPECT_DOUBLE_EQ(q.provenance.memory_clock_mhz, 2619);
  EXPECT_DOUBLE_EQ(q.ceilings.copy_bandwidth_Bps.value, 2.9e12);
  EXPECT_EQ(q.ceilings.peak_flops.at(DType::bf16).source, "cublasLt 8192^3 bf16");
  ASSERT_TRUE(q.ceilings.launch_overhead_s);
  EXPECT_DOUBLE_EQ(q.ceilings.launch_overhead_s->value, 2.5e-6);
  ASSERT_TRUE(q.datasheet.sm_count);
  ASSERT_EQ(q.entries.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(q.entries[i].kernel, p.entries[i].kernel);
    EXPECT_EQ(q.entries[i].family, p.entries[i].family);
    EXPECT_TRUE(q.entries[i].shape == p.entries[i].shape) << q.entries[i].label();
    EXPECT_DOUBLE_EQ(q.entries[i].seconds, p.entries[i].seconds);
    EXPECT_EQ(q.entries[i].runs, p.entries[i].runs);
    EXPECT_EQ(q.entries[i].dram_read_bytes, p.entries[i].dram_read_bytes);
    EXPECT_DOUBLE_EQ(q.entries[i].model_flops, p.entries[i].model_flops);
  }
  EXPECT_EQ(q.entries[0].label(), "mhc_fused.sinkhorn_bwd{n=4 C=2560 tokens=16384 iters=20}");
}

TEST(ProfileWrite, RefusesToWriteWhatCannotBeRead) {
  Profile p = synthetic_measurements();
  p.entries[1].seconds = -1.0;
  EXPECT_THROW(profile_to_json(p), InputError);
  Profile q = synthetic_measurements();
  q.provenance.driver.clear();
  EXPECT_THROW(profile_to_json(q), InputError);
}

}  // namespace
}  // namespace mhc
