// Memory items against a hand computation on the small scenario (each item on its own: the total is
// their sum by construction, so summing them would test nothing).
#include <cmath>

#include <gtest/gtest.h>

#include "cost/memory.h"
#include "model/model.h"

using namespace mhc;

namespace {
const std::string kSmall = std::string(MHC_SOURCE_DIR) + "/scenarios/small.json";
double item(const RankMemory& m, const std::string& name) {
  for (const auto& it : m.items)
    if (it.name == name) return it.bytes;
  ADD_FAILURE() << "no item " << name;
  return 0;
}
}  // namespace

TEST(Memory, ItemsMatchHandComputation) {
  auto s = load_scenario(kSmall);  // C 1024, 8 layers (2 per stage), GQA 8/2 x 128, 16 experts of 512, EP2, DP2
  auto m = rank_memory(s, 0, {0}, 4);
  // Per layer on one GPU: attention C(8+2x2)128 + 8x128 C, two norms, mHC phi/gates/biases for two
  // sublayers (n = 4: 4C x 24 + 3 + 24), router 16 C, one shared expert 3 C 512; experts 8 x 3 C 512.
  const double C = 1024;
  const double replicated_layer = C * 12 * 128 + 8 * 128 * C + 2 * C + 2 * (4 * C * 24 + 27) + 16 * C + 3 * C * 512;
  const double experts_layer = 8 * 3 * C * 512;
  const double embedding = 32768 * C;
  const double replicated = 2 * replicated_layer + embedding, experts = 2 * experts_layer;
  EXPECT_DOUBLE_EQ(item(m, "parameters"), 2 * (replicated + experts));
  // The adamw preset (Megatron's bf16 recipe): fp32 main gradients.
  EXPECT_DOUBLE_EQ(item(m, "gradients"), 4 * (replicated + experts));
  // ZeRO-1: optimizer state over DP (2) for replicated weights, over dp x tp / ep = 1 for experts.
  EXPECT_DOUBLE_EQ(item(m, "optimizer state"), 12 * (replicated / 2 + experts / 1));
  EXPECT_TRUE(m.fits);

  // mHC residual stream, recomputation on: per micro-batch of T = 2048 tokens, 4 sublayers, x_{l0} (nC)
  // per block and f (C) per sublayer, bf16. L_r: Eq. 20 with the kept x_{l0} weighed by the 4 live
  // chunks, in units of C: 4 x 4 ceil(4 / L_r) + 6 L_r = 70, 44, 50, 40 for L_r = 1..4, so one block of
  // the whole stage (Eq. 20 alone, one chunk: 22, 20, 26, 28, L_r = 2).
  const int lr = 4;
  EXPECT_EQ(recompute_block_for(s.mhc, s.model.hidden, 2, 4), lr);
  EXPECT_EQ(recompute_block_for(s.mhc, s.model.hidden, 2, 1), 2);
  const double T = 2048, blocks = 1;
  EXPECT_DOUBLE_EQ(item(m, "mhc residual stream"), 4 * T * (blocks * 4 * C + 4 * C) * 2);
  EXPECT_DOUBLE_EQ(item(m, "mhc recompute block"), T * lr * (6 * C * 2 + 25 * 4));
  // Without recomputation each sublayer keeps x_l (nC) and f (C) in bf16 and 25 fp32 mappings.
  EXPECT_DOUBLE_EQ(m.residual_stream_without_recompute, 4 * T * 4 * (5 * C * 2 + 25 * 4));
}

TEST(Memory, RecomputationTradesStoredStreamForOneBlock) {
  auto with = load_scenario(kSmall);
  auto without = load_scenario(kSmall, {"/mhc/recompute=false"});
  auto a = rank_memory(with, 0, {0}, 4), b = rank_memory(without, 0, {0}, 4);
  EXPECT_LT(a.total_bytes, b.total_bytes);
  EXPECT_DOUBLE_EQ(a.residual_stream_without_recompute, b.residual_stream_without_recompute);
  auto base = load_scenario(kSmall, {"/mhc/variant=residual", "/mhc/n=1"});
  EXPECT_LT(rank_memory(base, 0, {0}, 4).total_bytes, b.total_bytes);
}

// A rank holding two stages (DualPipe) holds what its live chunks' own stages keep: both stages' when
// both chunks are live at once, the larger one's when they never overlap; never the larger stage's
// times the peak count when the other is smaller.
TEST(Memory, LiveChunksHoldTheirOwnStagesActivations) {
  auto s = load_scenario(kSmall);
  const StageActivations a0 = stage_activations(s, 0, 2), a3 = stage_activations(s, 3, 2);
  ASSERT_GT(a3.sublayers, a0.sublayers);  // the last stage also keeps the head's tensors
  const std::vector<int> stages{0, 3};
  const RankMemory both = rank_memory(s, 0, stages, 2, {{0, +1}, {1, +1}, {0, -1}, {1, -1}});
  EXPECT_DOUBLE_EQ(item(both, "activations"), a0.sublayers + a3.sublayers);
  EXPECT_DOUBLE_EQ(item(both, "mhc residual stream"), a0.residual_stream + a3.residual_stream);
  const RankMemory apart = rank_memory(s, 0, stages, 1, {{0, +1}, {0, -1}, {1, +1}, {1, -1}});
  EXPECT_DOUBLE_EQ(item(apart, "activations"), a3.sublayers);
  // Without the timeline: the larger stage's times the peak count (an upper bound).
  EXPECT_DOUBLE_EQ(item(rank_memory(s, 0, stages, 2), "activations"), 2 * a3.sublayers);
}
