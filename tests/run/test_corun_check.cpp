// The GPU model against a profile's co-run section (run/corun_check.h), on a synthetic 100-SM GPU
// whose copy reaches 1.0, 1.6 and 2.0 TB/s on 25, 50 and 100 SMs: closed forms.
#include <gtest/gtest.h>

#include "profile/profile_io_model.h"
#include "run/corun_check.h"
#include "support/test_profile_support.h"

namespace mhc {
namespace {

TEST(CorunCheck, PredictsThePairAndTheGemmBesideTheCopy) {
  nlohmann::json doc = testing::measured_profile_json();
  doc["schema_version"] = 4;
  doc["corun"] = testing::corun_json();
  // Post-res alone at 1.3 TB/s: halfway from 25 to 50 SMs on the curve, 37.5 SMs.
  const auto io = io_model_bytes_per_token("mhc_fused.post_res_fwd", 4, 2560);
  ASSERT_TRUE(io);
  const double post_bytes = (io->read + io->write) * 16384, t_post = post_bytes / 1.3e12;
  doc["corun"]["post_res"]["alone_s"] = t_post;
  doc["corun"]["same_priority"]["span_s"] = 1.0;  // measurements: not what is checked here
  doc["corun"]["post_res_high_priority"]["span_s"] = 1.0;
  const auto check = check_corun(testing::load_json_profile(doc, "corun_check.json"));
  ASSERT_TRUE(check);
  EXPECT_DOUBLE_EQ(check->gemm_sm_share, 1.0);  // 4096^3 bf16 at 5e14 FLOP/s: compute-bound
  EXPECT_NEAR(check->post_res_sm_share, 0.375, 1e-12);
  // The GEMM (3e-4 s alone) keeps 62.5 SMs while post-res runs (longer than the GEMM); HBM has room.
  for (const CorunTimes* t : {&check->same_priority, &check->post_res_high_priority}) {
    EXPECT_NEAR(t->gemm_s, 3e-4 / 0.625, 1e-15);
    EXPECT_NEAR(t->post_res_s, t_post, 1e-15);
    EXPECT_NEAR(t->span_s, t_post, 1e-15);
  }
  // Beside the copy's 20 SMs the GEMM runs on 80.
  EXPECT_NEAR(check->gemm_beside_copy_s, 3e-4 / 0.8, 1e-15);
  // No corun section, no check.
  EXPECT_FALSE(check_corun(testing::load_json_profile(testing::measured_profile_json(), "no_corun.json")));
}

}  // namespace
}  // namespace mhc
