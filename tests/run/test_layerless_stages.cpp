// Pipeline stages without layers (parallelism.stage_layers 0 at either end): the first holds only the
// embedding, the last only the loss head. mHC's expansion and collapse move to the stages holding
// layers, so the boundaries beside a layer-less stage carry one C-wide stream, not n (model.h).
#include <gtest/gtest.h>

#include <map>

#include "graph/step_graph.h"
#include "model/model.h"
#include "profile/profile.h"
#include "schedule/scenario_schedule.h"

using namespace mhc;

namespace {
const std::string kSmall = std::string(MHC_SOURCE_DIR) + "/scenarios/small.json";  // 8 layers, PP4, C 1024

// Whether a priced op's record (tag, then op name) starts with `prefix`.
bool priced(const PipelineCostTable& t, const std::string& prefix) {
  for (const PricedOpRecord& r : t.priced)
    if (r.op.rfind(prefix, 0) == 0) return true;
  return false;
}
}  // namespace

TEST(LayerlessStages, StreamOpsMoveAndEndBoundariesCarryOneStream) {
  const Scenario s = load_scenario(kSmall, {"/parallelism/stage_layers=[0,4,4,0]"});
  EXPECT_EQ(stream_expand_stage(s), 1);
  EXPECT_EQ(stream_collapse_stage(s), 2);
  EXPECT_EQ(boundary_streams(s, 0), 1.0);
  EXPECT_EQ(boundary_streams(s, 1), 4.0);
  EXPECT_EQ(boundary_streams(s, 2), 1.0);

  const CostModel cost(load_profile_parts(s.profile, s.published_parts));
  const PipelineCostTable t = price_pipeline(s, cost);
  // T = 2048 tokens, C = 1024, bf16, tp 1: 4 MiB per stream.
  const double stream = 2048.0 * 1024 * 2;
  ASSERT_EQ(t.pp_bytes_after_stage.size(), 3u);
  EXPECT_DOUBLE_EQ(t.pp_bytes_after_stage[0], stream);
  EXPECT_DOUBLE_EQ(t.pp_bytes_after_stage[1], 4 * stream);
  EXPECT_DOUBLE_EQ(t.pp_bytes_after_stage[2], stream);
  EXPECT_DOUBLE_EQ(t.pp_bytes_per_microbatch, 4 * stream);
  // The expansion runs with stage 1's layers, the collapse with stage 2's: the layer-less end stages
  // keep the embedding and the head and run no mHC kernel at all.
  EXPECT_TRUE(priced(t, "stream expansion embed.mhc_expand forward"));
  EXPECT_TRUE(priced(t, "stream collapse head.mhc_collapse forward"));
  EXPECT_FALSE(priced(t, "embedding embed.mhc_expand"));
  EXPECT_FALSE(priced(t, "head head.mhc_collapse"));
  EXPECT_TRUE(priced(t, "embedding embed.lookup"));
  EXPECT_EQ(t.stages[0].F.by_class.count("mhc"), 0u);
  EXPECT_EQ(t.stages[3].F.by_class.count("mhc"), 0u);
  EXPECT_GT(t.stages[1].F.by_class.at("mhc"), 0);
  EXPECT_EQ(t.stages[0].layers, 0);
  EXPECT_EQ(t.stages[3].layers, 0);

  // Every pipeline send in the step graph carries its boundary's bytes, both directions.
  const StepGraph step = build_step_graph(s, scenario_schedule(s), t);
  std::map<double, int> sends;
  for (TaskId x = 0; x < boost::num_vertices(step.graph); ++x)
    if (step.graph[x].kind == NodeKind::transfer) ++sends[step.graph[x].bytes];
  // 8 micro-batches x 2 directions per boundary, per DP replica: 2 boundaries of one stream, 1 of four.
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[stream], 2 * sends[4 * stream]);
}

TEST(LayerlessStages, APlainResidualAndAFullSplitKeepTheirWidth) {
  const Scenario full = load_scenario(kSmall);  // 2 layers per stage: every boundary n streams
  for (int st = 0; st < 3; ++st) EXPECT_EQ(boundary_streams(full, st), 4.0);
  const Scenario plain = load_scenario(kSmall, {"/parallelism/stage_layers=[0,4,4,0]", "/mhc/variant=residual",
                                                "/mhc/n=1"});
  for (int st = 0; st < 3; ++st) EXPECT_EQ(boundary_streams(plain, st), 1.0);
}
