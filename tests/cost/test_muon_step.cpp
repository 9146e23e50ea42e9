// Muon's Newton-Schulz cost (cost/muon_step.h) against hand counts: the FLOPs of one matrix, and the
// matrices one GPU of the small MoE scenario orthogonalises per stage under ZeRO-1.
#include <gtest/gtest.h>

#include "cost/muon_step.h"
#include "cost/stage_costs.h"
#include "profile/profile.h"

using namespace mhc;

namespace {
const std::string kSmall = std::string(MHC_SOURCE_DIR) + "/scenarios/small.json";

// One iteration on an m x N matrix (m <= N): X X^T 2 m^2 N, A A 2 m^3, B X 2 m^2 N.
double iteration_flops(double a, double b) {
  const double m = std::min(a, b), N = std::max(a, b);
  return 4 * m * m * N + 2 * m * m * m;
}

double newton_schulz_flops(const PipelineCostTable& t, int stage) {
  for (const auto& p : t.priced)
    if (p.op == "stage " + std::to_string(stage) + " optimizer.muon newton-schulz") return p.flops;
  ADD_FAILURE() << "no Newton-Schulz entry for stage " << stage;
  return 0;
}
}  // namespace

TEST(MuonStep, OneMatrixByHand) {
  const Scenario s = load_scenario(kSmall);
  const CostModel cost(load_profile_parts(s.profile, s.published_parts));
  // A 2048 x 4096 expert matrix, 10 iterations (DeepSeek-V4's), 3 of them on this GPU.
  const MuonStepCost c = muon_newton_schulz(cost, {{4096, 2048, 3.0}}, 10);
  EXPECT_DOUBLE_EQ(c.flops, 3 * 10 * iteration_flops(2048, 4096));
  EXPECT_EQ(c.gemms.size(), 3u);
  EXPECT_GT(c.seconds, 0.0);
  // Transposing the matrix changes nothing.
  EXPECT_DOUBLE_EQ(muon_newton_schulz(cost, {{2048, 4096, 3.0}}, 10).flops, c.flops);
}

// The small MoE model (C 1024, GQA 8 / 2 heads of 128, 16 experts of 512, EP2, DP2, ZeRO-1, 2 layers per
// stage): per layer qkv 1024 x 1536, o 1024 x 1024, router 1024 x 16, the shared expert's up+gate
// 1024 x 1024 and down 512 x 1024, each orthogonalised by one of the 2 DP ranks (half each); the 8
// local experts' up+gate 1024 x 1024 and down 512 x 1024 by their expert-DP group of dp / ep = 1.
// The last stage adds nothing: its head trains with AdamW.
TEST(MuonStep, StageMatricesOfTheSmallModel) {
  const Scenario s = load_scenario(kSmall, {"/training/optimizer=muon"});
  const CostModel cost(load_profile_parts(s.profile, s.published_parts));
  const PipelineCostTable t = price_pipeline(s, cost);
  const double replicated = iteration_flops(1024, 1536) + iteration_flops(1024, 1024) + iteration_flops(1024, 16) +
                            iteration_flops(1024, 1024) + iteration_flops(512, 1024);
  const double experts = 8 * (iteration_flops(1024, 1024) + iteration_flops(512, 1024));
  const double per_layer = replicated / 2 + experts;
  for (int st = 0; st < 4; ++st) EXPECT_NEAR(newton_schulz_flops(t, st), 5 * 2 * per_layer, 1e-6 * per_layer) << st;
  // With AdamW there is no Newton-Schulz and the step is the memory-bound update alone.
  const Scenario a = load_scenario(kSmall);
  const PipelineCostTable ta = price_pipeline(a, cost);
  for (const auto& p : ta.priced) EXPECT_EQ(p.op.find("newton-schulz"), std::string::npos);
  EXPECT_GT(t.stages[0].optimizer_seconds, ta.stages[0].optimizer_seconds);
}
