// What a priced kernel demands of the GPU (cost/kernel_demand.h): DRAM bytes from CUPTI or the I/O
// model, a GEMM filling the GPU, a memory-bound kernel's SMs from its bandwidth (on the published
// curve, on the profile's measured copy curve, or in proportion as a what-if).
#include <gtest/gtest.h>

#include "cost/kernel_demand.h"
#include "support/test_profile_support.h"

namespace mhc {
namespace {

using nlohmann::json;

// Post-res at n=4, C=2560, 16384 tokens: the I/O model's bytes, measured in 1 ms with CUPTI counting
// 1.2e9 bytes: 1.2 TB/s, 60% of the synthetic 2 TB/s copy ceiling.
constexpr double kRead = 1.0e9, kWrite = 0.2e9;

json profile_doc() {
  json doc = testing::measured_profile_json();
  json e = testing::mhc_entry("mhc_fused.post_res_fwd", 4, 2560, 16384, 1e-3, 0.9e9, 0.2e9);
  e["dram_bytes"] = {{"read", kRead}, {"write", kWrite}};
  doc["kernels"].push_back(e);
  doc["kernels"].push_back(testing::gemm_entry(4096, 4096, 4096, 1, "bf16", 3e-4));
  return doc;
}

PriceQuery post_res_query() {
  PriceQuery q;
  q.kernel = "mhc_fused.post_res_fwd";
  q.family = KernelFamily::mhc;
  q.shape.n = 4, q.shape.C = 2560, q.shape.tokens = 16384;
  q.bytes = 1.1e9;  // the model's
  q.compute_dtype = DType::fp32;
  return q;
}

TEST(KernelDemand, AGemmFillsTheGpu) {
  CostModel cost(testing::load_json_profile(profile_doc(), "demand_gemm.json"));
  PriceQuery q;
  q.kernel = "gemm";
  q.family = KernelFamily::gemm;
  q.shape.m = q.shape.gemm_n = q.shape.k = 4096;
  q.bytes = 3.0 * 4096 * 4096 * 2;
  q.flops = 2.0 * 4096.0 * 4096.0 * 4096.0;
  q.compute_dtype = DType::bf16;
  KernelDemand d = kernel_demand(cost, q, 3e-4);
  EXPECT_FALSE(d.memory_bound);
  EXPECT_DOUBLE_EQ(d.sm_share, 1.0);
  EXPECT_DOUBLE_EQ(d.dram_bytes, q.bytes);  // no CUPTI bytes measured: the I/O model's
}

TEST(KernelDemand, AMemoryBoundKernelTakesSmsOnThePublishedCurveByDefault) {
  CostModel cost(testing::load_json_profile(profile_doc(), "demand_default.json"));
  KernelDemand d = kernel_demand(cost, post_res_query(), 1e-3);
  EXPECT_TRUE(d.memory_bound);
  EXPECT_DOUBLE_EQ(d.dram_bytes, kRead + kWrite);  // CUPTI's, at exactly this shape
  // 1.2 TB/s is 60% of the ceiling: two thirds of the way to the knee (90% on 40 of 114 SMs).
  EXPECT_NEAR(d.sm_share, 40.0 / 114.0 * 0.6 / 0.9, 1e-12);
  // At 95% of the ceiling: halfway from the knee to the whole GPU.
  EXPECT_NEAR(kernel_demand(cost, post_res_query(), (kRead + kWrite) / (0.95 * 2.0e12)).sm_share,
              40.0 / 114.0 + 0.5 * (1 - 40.0 / 114.0), 1e-12);
  EXPECT_NE(sm_demand_source(cost).find("BulletServe"), std::string::npos);
}

TEST(KernelDemand, TheProportionalWhatIfTakesSmsInProportionToBandwidth) {
  PricingPolicy policy;
  policy.sm_demand_proportional = true;
  CostModel cost(testing::load_json_profile(profile_doc(), "demand_proportional.json"), policy);
  EXPECT_DOUBLE_EQ(kernel_demand(cost, post_res_query(), 1e-3).sm_share, (kRead + kWrite) / 1e-3 / 2.0e12);
  EXPECT_NE(sm_demand_source(cost).find("what-if"), std::string::npos);
}

TEST(KernelDemand, WithACorunCurveItTakesTheSmsTheCopyNeeds) {
  json doc = profile_doc();
  doc["schema_version"] = 4;
  doc["corun"] = testing::corun_json();  // 1.0, 1.6, 2.0 TB/s on 25, 50, 100 of 100 SMs
  CostModel cost(testing::load_json_profile(doc, "demand_corun.json"));
  KernelDemand d = kernel_demand(cost, post_res_query(), 1e-3);
  // 1.2 TB/s lies a third of the way from 1.0 (25 SMs) to 1.6 TB/s (50 SMs).
  EXPECT_NEAR(d.sm_share, (25.0 + 25.0 / 3.0) / 100.0, 1e-12);
  EXPECT_NE(sm_demand_source(cost).find("/corun/copy_by_sms"), std::string::npos);
}

}  // namespace
}  // namespace mhc
