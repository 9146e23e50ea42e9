// The paper's I/O claim on hardware: DRAM bytes per token that CUPTI counted for the fused post-res
// kernel and for the unfused HC-style sequence (profiles/measured/h100-sxm-quick.json, one H100),
// against the model's op lists (sim/model, the same numbers `mhcsim io` prints).
// Only T = 16384 entries are held to it: their outputs (>= 84 MB at C = 2560) exceed the 50 MB L2,
// so every write reaches DRAM inside the measured range; smaller outputs partly stay in L2.
#include <gtest/gtest.h>

#include "model/io_table.h"
#include "profile/profile.h"

namespace mhc {
namespace {

const ProfileEntry& entry(const Profile& p, const std::string& kernel, int n, int64_t C, int64_t tokens) {
  for (const auto& e : p.entries)
    if (e.kernel == kernel && e.shape.n == n && e.shape.C == C && e.shape.tokens == tokens) return e;
  throw std::runtime_error("no entry " + kernel + " n=" + std::to_string(n));
}

const Op& op_named(const IoVariant& v, const std::string& name) {
  for (const auto& op : v.ops)
    if (op.name == name) return op;
  throw std::runtime_error("no op " + name);
}

class MeasuredIo : public ::testing::TestWithParam<int> {
 protected:
  static void SetUpTestSuite() {
    profile_ = new Profile(load_profile(std::string(MHC_SOURCE_DIR) + "/profiles/measured/h100-sxm-quick.json"));
  }
  static void TearDownTestSuite() { delete profile_; }
  static Profile* profile_;
  static constexpr int64_t kC = 2560, kTokens = 16384;
};
Profile* MeasuredIo::profile_ = nullptr;

TEST_P(MeasuredIo, FusedPostResMovesNPlusOneCInAndNCOut) {
  const int n = GetParam();
  const auto& e = entry(*profile_, "mhc_fused.post_res_fwd", n, kC, kTokens);
  ASSERT_TRUE(e.dram_read_bytes && e.dram_write_bytes);
  const IoTable table = io_table(n, kC, 20, Pass::forward);
  const Op& model = op_named(table.variant("mhc_fused"), "post_res");
  EXPECT_NEAR(*e.dram_read_bytes / kTokens / model.read_bytes, 1.0, 0.10);
  EXPECT_NEAR(*e.dram_write_bytes / kTokens / model.write_bytes, 1.0, 0.10);
  // (n+1)C bf16 in and nC bf16 out, within 10% on hardware.
  EXPECT_NEAR(*e.dram_read_bytes / kTokens / (2.0 * (n + 1) * kC), 1.0, 0.10);
  EXPECT_NEAR(*e.dram_write_bytes / kTokens / (2.0 * n * kC), 1.0, 0.10);
}

TEST_P(MeasuredIo, UnfusedSequenceMatchesTable2) {
  const int n = GetParam();
  const IoTable table = io_table(n, kC, 20, Pass::forward);
  const auto& hc = table.variant("hc");
  double read = 0, write = 0;
  for (const auto& op : hc.ops) {
    const auto& e = entry(*profile_, op.kernel, n, kC, kTokens);
    ASSERT_TRUE(e.dram_read_bytes && e.dram_write_bytes) << op.kernel;
    read += *e.dram_read_bytes / kTokens;
    write += *e.dram_write_bytes / kTokens;
    // Each stream-moving op on its own (compute_h writes only n^2+2n coefficients, which stay in L2).
    if (op.stream_write_elems > 0) {
      EXPECT_NEAR(*e.dram_write_bytes / kTokens / op.write_bytes, 1.0, 0.10) << op.kernel;
    }
    EXPECT_NEAR(*e.dram_read_bytes / kTokens / op.read_bytes, 1.0, 0.10) << op.kernel;
  }
  // Table 2 totals: (5n+1)C + n^2 + 2n read, (3n+1)C + n^2 + 2n written.
  EXPECT_NEAR(read / hc.read_bytes, 1.0, 0.10);
  EXPECT_NEAR(write / hc.write_bytes, 1.0, 0.10);
}

INSTANTIATE_TEST_SUITE_P(N, MeasuredIo, ::testing::Values(1, 4, 8));

}  // namespace
}  // namespace mhc
