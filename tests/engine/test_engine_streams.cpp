// Streams on one GPU and the SM share communication kernels take from compute.
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "support/engine_test_util.h"

using namespace mhc;
using namespace mhc::test;

TEST(EngineStreams, ComputeSlowsByTheSmShareWhileACommKernelRuns) {
  ClusterSpec c = h100_cluster(1, 2);
  c.comm_sm_fraction = 20.0 / 132.0;
  TaskGraph g;
  TaskId k = add_compute(g, "k", 0, 1.0);
  TaskId t = add_transfer(g, "t", 0, 1, 450e9 * 0.5 - 450e9 * 1e-6);  // ends at exactly 0.5 s
  EngineResult r = simulate(c, g, {});
  ASSERT_NEAR(r.timings[t].end, 0.5, 1e-9);
  // 0.5 s at (1 - f), the rest at full speed.
  const double f = c.comm_sm_fraction;
  EXPECT_NEAR(r.timings[k].end, 0.5 + (1.0 - 0.5 * (1 - f)), 1e-9);
  // GPU 1 has no compute; receiving does not slow a GPU that computes nothing, and a compute task
  // on a GPU with no communication is untouched.
  TaskGraph g2;
  add_compute(g2, "k", 0, 1.0);
  add_transfer(g2, "t", 1, 1, 0.0);
  EXPECT_NEAR(simulate(c, g2, {}).timings[0].end, 1.0, 1e-12);
}

TEST(EngineStreams, CollectiveSlowsEveryMembersCompute) {
  ClusterSpec c = h100_cluster(1, 4);
  c.comm_sm_fraction = 0.25;
  TaskGraph g;
  TaskId x = add_collective(g, "ar", CollectiveOp::all_reduce, {0, 1, 2, 3}, 4e9);
  TaskId k1 = add_compute(g, "k1", 1, 10.0);
  TaskId k3 = add_compute(g, "k3", 3, 10.0);
  EngineResult r = simulate(c, g, {});
  double d = r.timings[x].end;
  ASSERT_GT(d, 0.0);
  EXPECT_NEAR(r.timings[k1].end, 10.0 + 0.25 * d, 1e-9);
  EXPECT_NEAR(r.timings[k3].end, 10.0 + 0.25 * d, 1e-9);
}

TEST(EngineStreams, TwoComputeStreamsShareTheGpu) {
  ClusterSpec c = h100_cluster(1, 1);
  TaskGraph g;
  add_compute(g, "a", 0, 1.0, Stream::compute);
  add_compute(g, "b", 0, 1.0, Stream::high_priority);
  EngineResult r = simulate(c, g, {});
  EXPECT_NEAR(r.timings[0].end, 2.0, 1e-12);  // even split: both finish when 2 s of work are done
  EXPECT_NEAR(r.timings[1].end, 2.0, 1e-12);
  EngineOptions o;
  o.high_priority_weight = 3.0;  // b gets 3/4 of the GPU while both run
  EngineResult w = simulate(c, g, o);
  EXPECT_NEAR(w.timings[1].end, 1.0 / 0.75, 1e-9);
  EXPECT_NEAR(w.timings[0].end, 2.0, 1e-9);
}

TEST(EngineStreams, TasksOnOneStreamFollowTheirEdges) {
  ClusterSpec c = h100_cluster(1, 1);
  TaskGraph g;
  TaskId a = add_compute(g, "a", 0, 0.3);
  TaskId b = add_compute(g, "b", 0, 0.2);
  TaskId d = add_compute(g, "d", 0, 0.1);
  boost::add_edge(a, b, g);
  boost::add_edge(b, d, g);
  EngineResult r = simulate(c, g, {});
  EXPECT_NEAR(r.timings[b].start, 0.3, 1e-12);
  EXPECT_NEAR(r.timings[d].start, 0.5, 1e-12);
  EXPECT_NEAR(r.makespan_s, 0.6, 1e-12);
}
