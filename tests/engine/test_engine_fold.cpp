// Folding identical replicas gives exactly the unfolded result.
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "engine/fold.h"
#include "support/engine_test_util.h"

using namespace mhc;
using namespace mhc::test;

namespace {

// `replicas` pipelines of 2 stages; replica r's stage s on node 2r+s, GPU `local`; each with 4
// micro-batches, forward and backward, a transfer per boundary crossing, and an expert all-to-all
// inside each stage's node.
TaskGraph replicated_pipelines(int replicas, int gpn) {
  TaskGraph g;
  for (int r = 0; r < replicas; ++r) {
    int g0 = (2 * r) * gpn, g1 = (2 * r + 1) * gpn;
    TaskId last0 = static_cast<TaskId>(-1), last1 = static_cast<TaskId>(-1);
    for (int m = 0; m < 4; ++m) {
      std::string tag = "r" + std::to_string(r) + " mb" + std::to_string(m);
      TaskId f0 = add_compute(g, tag + " F0", g0, 0.010, Stream::compute, 0.8, 0.010 * 1e12);
      if (last0 != static_cast<TaskId>(-1)) boost::add_edge(last0, f0, g);
      TaskId a2a = add_collective(g, tag + " ep0", CollectiveOp::all_to_all, range(g0, gpn), 64e6, "ep");
      boost::add_edge(f0, a2a, g);
      TaskId t = add_transfer(g, tag + " pp", g0, g1, 32e6);
      boost::add_edge(a2a, t, g);
      TaskId f1 = add_compute(g, tag + " F1", g1, 0.012);
      boost::add_edge(t, f1, g);
      if (last1 != static_cast<TaskId>(-1)) boost::add_edge(last1, f1, g);
      TaskId b1 = add_compute(g, tag + " B1", g1, 0.020, Stream::high_priority, 0.3, 0.020 * 2.5e12);
      boost::add_edge(f1, b1, g);
      TaskId tb = add_transfer(g, tag + " pp back", g1, g0, 32e6);
      boost::add_edge(b1, tb, g);
      TaskId b0 = add_compute(g, tag + " B0", g0, 0.018);
      boost::add_edge(tb, b0, g);
      last0 = b0;
      last1 = b1;
    }
  }
  return g;
}

}  // namespace

TEST(EngineFold, FoldedAndUnfoldedRunsAgreeExactly) {
  for (double oversub : {1.0, 2.0}) {
    ClusterSpec c = h100_cluster(8, 4, FabricTopology::rail_optimized, 2, oversub);
    c.comm_sms = 20;
    TaskGraph g = replicated_pipelines(4, 4);
    FoldedGraph f = fold_replicas(c, g);
    EngineOptions folded, unfolded;
    folded.gpu.hbm_Bps = unfolded.gpu.hbm_Bps = 3.0e12;
    folded.gpu.record_segments = unfolded.gpu.record_segments = true;
    unfolded.fold_replicas = false;
    EngineResult a = simulate(c, g, folded), b = simulate(c, g, unfolded);
    ASSERT_EQ(a.timings.size(), b.timings.size());
    for (size_t i = 0; i < a.timings.size(); ++i) {
      EXPECT_EQ(a.timings[i].start, b.timings[i].start) << g[i].name;
      EXPECT_EQ(a.timings[i].end, b.timings[i].end) << g[i].name;
    }
    EXPECT_EQ(a.makespan_s, b.makespan_s);
    for (auto& [k, v] : b.bytes_by_category) EXPECT_DOUBLE_EQ(a.bytes_by_category.at(k), v) << k;
    for (auto& [k, v] : b.bytes_by_link_class) EXPECT_DOUBLE_EQ(a.bytes_by_link_class.at(k), v) << k;
    for (auto& [k, v] : b.exposed_comm_s_by_category) EXPECT_DOUBLE_EQ(a.exposed_comm_s_by_category.at(k), v) << k;
    for (size_t i = 0; i < a.shares.size(); ++i) {
      EXPECT_EQ(a.shares[i].lost_to_comm_s, b.shares[i].lost_to_comm_s) << g[i].name;
      EXPECT_EQ(a.shares[i].lost_to_corun_s, b.shares[i].lost_to_corun_s) << g[i].name;
      EXPECT_EQ(a.shares[i].segments.size(), b.shares[i].segments.size()) << g[i].name;
    }
    EXPECT_EQ(a.comm_segments.size(), b.comm_segments.size());
    for (auto& [gpu, v] : b.comm_segments) EXPECT_EQ(a.comm_segments.at(gpu).size(), v.size()) << gpu;
    EXPECT_LT(a.simulated_gpus, b.simulated_gpus);
    EXPECT_LT(a.activities, b.activities);
    if (oversub == 1.0) {
      EXPECT_EQ(boost::num_vertices(f.graph) * 4, boost::num_vertices(g));  // one of four simulated
    }
  }
}

TEST(EngineFold, DifferentReplicasAreNotFolded) {
  ClusterSpec c = h100_cluster(4, 4);
  TaskGraph g;
  add_compute(g, "a", 0, 1.0);
  add_compute(g, "b", 4, 1.0);
  add_compute(g, "c", 8, 2.0);  // a different duration: its own class
  FoldedGraph f = fold_replicas(c, g);
  EXPECT_EQ(boost::num_vertices(f.graph), 2u);
  EXPECT_EQ(f.stands_for[1], f.stands_for[0]);
  EngineResult r = simulate(c, g, {});
  EXPECT_DOUBLE_EQ(r.timings[2].end, 2.0);
  EXPECT_DOUBLE_EQ(r.timings[1].end, 1.0);
}
