// A pipeline send waits for the compute that produces its chunk, not for the all-to-all its DualPipe
// pair runs beside that compute (graph/step_graph.h, "Overlap").
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "profile/profile.h"
#include "schedule/scenario_schedule.h"
#include "graph/step_graph.h"

using namespace mhc;

namespace {
const std::string kSmall = std::string(MHC_SOURCE_DIR) + "/scenarios/small.json";
}

TEST(PipelineSends, StartWhenTheirComputeEndsWhileThePairsAllToAllRuns) {
  // Small MoE, DualPipe, EP2 inside a node; NVLink cut to 1 GB/s so each pair's all-to-all outlasts
  // its compute (the situation DeepSeek-V3 was in before node-limited routing was priced).
  const Scenario s = load_scenario(kSmall, {"/schedule/kind=dualpipe", "/cluster/nvlink/bandwidth_GBps=1"});
  const CostModel cost(load_profile_parts(s.profile, s.published_parts));
  const StepGraph step = build_step_graph(s, scenario_schedule(s), price_pipeline(s, cost));
  const TaskGraph& g = step.graph;
  EngineOptions options;
  options.fold_replicas = false;
  const EngineResult r = simulate(s.cluster, g, options);
  int checked = 0;
  for (TaskId x = 0; x < boost::num_vertices(g); ++x) {
    if (g[x].kind != NodeKind::transfer) continue;
    // A send from a pair waits on no all-to-all (a task that runs its all-to-all after its compute,
    // not overlapped, has its last combine on the way to its output and still waits for it).
    bool from_pair = false;
    for (auto [e, end] = boost::in_edges(x, g); e != end; ++e) from_pair |= g[boost::source(*e, g)].phase == Phase::FB;
    for (auto [e, end] = boost::in_edges(x, g); e != end; ++e) {
      const TaskId u = boost::source(*e, g);
      if (from_pair) {
        EXPECT_NE(g[u].category, "ep") << g[x].name << " waits on an all-to-all";
      }
      if (g[u].phase != Phase::FB) continue;
      // The pair's all-to-all: the collective named after it.
      TaskId a = boost::num_vertices(g);
      for (TaskId v = 0; v < boost::num_vertices(g); ++v)
        if (g[v].name == all_to_all_name(g[u].name)) a = v;
      ASSERT_LT(a, boost::num_vertices(g)) << g[u].name;
      const double compute_end = r.timings[u].end;
      if (r.timings[a].end <= compute_end) continue;  // this pair's all-to-all ended first
      EXPECT_NEAR(r.timings[x].start, compute_end, 1e-12) << g[x].name;
      EXPECT_LT(r.timings[x].start, r.timings[a].end) << g[x].name;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0) << "no pair whose all-to-all outlasted its compute sent a chunk";
}
