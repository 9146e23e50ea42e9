// The committed reference profile: loads, holds ceilings only, and its derived ceilings are the
// measured bf16 rate scaled by the datasheet ratios its source strings state.
#include <gtest/gtest.h>

#include "profile/profile.h"

namespace mhc {
namespace {

TEST(ReferenceProfile, H100SxmReferenceLoadsWithSourcedCeilings) {
  Profile p = load_profile(std::string(MHC_SOURCE_DIR) + "/profiles/h100-sxm-reference.json");
  EXPECT_EQ(p.kind, ProfileKind::reference);
  EXPECT_TRUE(p.entries.empty());
  EXPECT_FALSE(p.ceilings.launch_overhead_s) << "no launch overhead was measured";
  // Measured on one H100 80GB HBM3 (PyTorch 2.11, CUDA 13), as the file's sources say.
  EXPECT_DOUBLE_EQ(p.ceilings.copy_bandwidth_Bps.value, 3.0e12);
  const double bf16 = p.ceilings.peak_flops.at(DType::bf16).value;
  EXPECT_DOUBLE_EQ(bf16, 690e12);
  // Not measured: derived from the measured bf16 rate by the datasheet ratios (989 / 1979 / 495).
  EXPECT_NEAR(p.ceilings.peak_flops.at(DType::fp8).value / (bf16 * 1979.0 / 989.0), 1.0, 1e-6);
  EXPECT_NEAR(p.ceilings.peak_flops.at(DType::tf32).value / (bf16 * 495.0 / 989.0), 1.0, 1e-6);
  for (DType t : {DType::fp8, DType::tf32})
    EXPECT_NE(p.ceilings.peak_flops.at(t).source.find("derived"), std::string::npos) << to_string(t);
  ASSERT_TRUE(p.datasheet.sm_count);
  EXPECT_DOUBLE_EQ(p.datasheet.sm_count->value, 132);
  EXPECT_DOUBLE_EQ(p.datasheet.dram_bandwidth_Bps->value, 3.35e12);
  EXPECT_DOUBLE_EQ(p.datasheet.peak_flops.at(DType::fp8).value, 1979e12);
}

}  // namespace
}  // namespace mhc
