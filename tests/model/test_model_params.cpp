// Parameter counts against the paper's Table 5 and DeepSeek-V3, and the recompute block of Eq. 20.
#include <cmath>

#include <gtest/gtest.h>

#include "model/model.h"

using namespace mhc;

namespace {
MhcSpec residual() {
  MhcSpec m;
  m.variant = ResidualVariant::residual;
  m.n = 1;
  return m;
}
std::string model_path(const std::string& name) { return std::string(MHC_SOURCE_DIR) + "/scenarios/models/" + name; }
}  // namespace

TEST(ModelParams, PaperTable5ActiveAndTotal) {
  struct Row {
    const char* file;
    double active, total;
  };
  // mHC paper Table 5: active / total parameters.
  for (auto row : {Row{"paper-3b.json", 612e6, 2.97e9}, Row{"paper-9b.json", 1.66e9, 9.18e9},
                   Row{"paper-27b.json", 4.14e9, 27.0e9}}) {
    auto p = count_params(load_model_file(model_path(row.file)), residual());
    EXPECT_NEAR(p.total() / row.total, 1.0, 0.02) << row.file << " total " << p.total();
    EXPECT_NEAR(p.active / row.active, 1.0, 0.02) << row.file << " active " << p.active;
  }
}

TEST(ModelParams, DeepSeekV3Is671B) {
  // DeepSeek-V3: 671B total, 37B activated (without the 14B MTP module, which is not modelled).
  auto p = count_params(load_model_file(model_path("deepseek-v3.json")), residual());
  EXPECT_NEAR(p.total() / 671e9, 1.0, 0.01) << p.total();
  EXPECT_NEAR(p.active / 37e9, 1.0, 0.03) << p.active;
}

TEST(ModelParams, MhcAddsPhiAndBiasesPerSublayer) {
  auto m = load_model_file(model_path("paper-27b.json"));
  MhcSpec mhc;
  mhc.variant = ResidualVariant::mhc;
  mhc.n = 4;
  const double per_sublayer = 4.0 * 2560 * 24 + 3 + 24;
  EXPECT_DOUBLE_EQ(count_params(m, mhc).mhc, 30 * 2 * per_sublayer);
}

TEST(RecomputeBlock, EquationTwentyArgmin) {
  // Eq. 20: L_r* = argmin nC ceil(L/L_r) + (n+2) C L_r; check by brute force and against sqrt(nL/(n+2)).
  for (int n : {1, 2, 4, 8})
    for (int L : {1, 3, 4, 8, 15, 30, 61}) {
      int best = optimal_recompute_block(n, 2560, L);
      for (int lr = 1; lr <= L; ++lr) {
        double cost = n * std::ceil(double(L) / lr) + (n + 2) * lr;
        double best_cost = n * std::ceil(double(L) / best) + (n + 2) * best;
        EXPECT_LE(best_cost, cost) << "n " << n << " L " << L << " lr " << lr;
      }
      EXPECT_LE(std::abs(best - std::sqrt(double(n) * L / (n + 2))), 1.0 + 1e-9) << "n " << n << " L " << L;
    }
  // n = 4, L = 30: cost/C = 4 ceil(30/L_r) + 6 L_r is 58, 56, 54, 56 at L_r = 3, 4, 5, 6.
  EXPECT_EQ(optimal_recompute_block(4, 2560, 30), 5);
}

// Under a pipeline schedule each live chunk keeps its own x_{l0} per block while one block is rebuilt
// at a time: the persistent term weighs the chunks held. DeepSeek-V3's 4-layer stage (8 sublayers),
// n = 4, cost/C = k 4 ceil(8/L_r) + 6 L_r: one chunk (Eq. 20) 38, 28, 30, 32 at L_r = 1..4, so 2;
// DualPipe's 17 chunks 550, 284, 222, 160, 166, 172, 178, 116 at L_r = 1..8, so the whole stage.
TEST(RecomputeBlock, LiveChunksWeighTheKeptInputs) {
  EXPECT_EQ(optimal_recompute_block(4, 7168, 8, 1), 2);
  EXPECT_EQ(optimal_recompute_block(4, 7168, 8, 17), 8);
  // 4 chunks: 16 ceil(8/L_r) + 6 L_r = 134, 76, 66, 56, 62, 68, 74, 64: 4.
  EXPECT_EQ(optimal_recompute_block(4, 7168, 8, 4), 4);
  for (int k : {1, 2, 5, 9, 17, 33})
    for (int L : {2, 6, 8, 30}) {
      const int best = optimal_recompute_block(4, 1024, L, k);
      for (int lr = 1; lr <= L; ++lr)
        EXPECT_LE(k * 4 * std::ceil(double(L) / best) + 6 * best, k * 4 * std::ceil(double(L) / lr) + 6 * lr)
            << "k " << k << " L " << L << " lr " << lr;
    }
}
