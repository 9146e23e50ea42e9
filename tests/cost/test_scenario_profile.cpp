// A GPU priced on another GPU's profile with other HBM (an H200 on the H100 profile): memory-bound
// kernels and the copy ceiling scale with the two datasheet bandwidths; GEMMs, attention and published
// entries do not.
#include <gtest/gtest.h>

#include "cost/cost.h"
#include "cost/scenario_profile.h"

using namespace mhc;

namespace {
const std::string kDir = std::string(MHC_SOURCE_DIR) + "/scenarios/";
}  // namespace

TEST(ScenarioProfile, H200ScalesMemoryBoundKernelsByItsHbm) {
  const Scenario h200 = load_scenario(kDir + "deepseek-v4-flash-2048-h200.json");
  const Scenario h800 = load_scenario(kDir + "deepseek-v4-flash-2048-h800.json");
  ASSERT_DOUBLE_EQ(h200.cluster.profile_hbm_scale, 4.8 / 3.35);
  ASSERT_DOUBLE_EQ(h800.cluster.profile_hbm_scale, 1.0);
  const Profile scaled = scenario_profile(h200), plain = scenario_profile(h800);  // the same files
  ASSERT_EQ(scaled.entries.size(), plain.entries.size());
  EXPECT_DOUBLE_EQ(scaled.ceilings.copy_bandwidth_Bps.value, plain.ceilings.copy_bandwidth_Bps.value * 4.8 / 3.35);
  int memory_bound = 0, kept = 0;
  for (size_t i = 0; i < plain.entries.size(); ++i) {
    const ProfileEntry &a = plain.entries[i], &b = scaled.entries[i];
    const bool scales = !a.published() && (a.family == KernelFamily::mhc || a.family == KernelFamily::norm ||
                                           a.family == KernelFamily::residual || a.family == KernelFamily::elementwise);
    if (scales) {
      EXPECT_NEAR(b.seconds, a.seconds * 3.35 / 4.8, 1e-15) << a.label();
      ++memory_bound;
    } else {
      EXPECT_EQ(b.seconds, a.seconds) << a.label();
      ++kept;
    }
  }
  EXPECT_GT(memory_bound, 100);  // the profile's mHC, norm and elementwise entries
  EXPECT_GT(kept, 100);          // its GEMMs and the published attention and FP8 GEMM entries
  // A memory-bound op without an entry runs at the scaled copy bandwidth.
  const CostModel c200(scaled), c800(plain);
  PriceQuery q;
  q.kernel = "compress_pool_fwd";
  q.family = KernelFamily::elementwise;
  q.shape.C = 1024;
  q.shape.tokens = 4096;
  q.bytes = 1e9;
  q.flops = 1e6;
  // (plus the launch overhead, which HBM does not change)
  const double launch = plain.ceilings.launch_overhead_s ? plain.ceilings.launch_overhead_s->value : 0.0;
  EXPECT_NEAR(c200.price(q).seconds - launch, (c800.price(q).seconds - launch) * 3.35 / 4.8, 1e-12);
}
