// An all-to-all simulated by the flows into and out of its computing member (fold_all_to_all.h):
// the same timings, bytes and GPU sharing as the whole operation where the members are alike, with
// far fewer flows; the whole operation where they are not.
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "engine/fold_all_to_all.h"
#include "support/engine_test_util.h"

using namespace mhc;
using namespace mhc::test;

namespace {

// GPU 0 computes, sends an all-to-all over every GPU of the cluster with a kernel and a pipeline
// send to the next node beside it (both share GPU 0's SMs, HBM and NIC with it), then computes again.
TaskGraph step(const ClusterSpec& c) {
  TaskGraph g;
  const TaskId a = add_compute(g, "a", 0, 1e-3);
  const TaskId x = add_collective(g, "a2a", CollectiveOp::all_to_all, range(0, c.total_gpus()), 256e6, "ep");
  g[x].gpu = 0;
  const TaskId beside = add_compute(g, "beside", 0, 4e-3, Stream::high_priority, 1.0, 8e9);
  const TaskId send = add_transfer(g, "send", 0, c.gpus_per_node, 64e6);
  const TaskId b = add_compute(g, "b", 0, 1e-3);
  for (TaskId v : {x, beside, send}) boost::add_edge(a, v, g), boost::add_edge(v, b, g);
  return g;
}

EngineResult run(const ClusterSpec& c, const TaskGraph& g, bool fold, NcclAlgo algo) {
  EngineOptions o;
  o.fold_all_to_all = fold;
  o.collective.all_to_all_algo = algo;
  return simulate(c, g, o);
}

}  // namespace

TEST(FoldAllToAll, SameTimingsBytesAndSharingWithFewerFlows) {
  ClusterSpec c = h100_cluster(4);  // 32 GPUs, a NIC each
  c.comm_sms = 20;                  // communication holds SMs the kernel beside it wants
  const TaskGraph g = step(c);
  for (NcclAlgo algo : {NcclAlgo::direct, NcclAlgo::rail}) {
    const EngineResult whole = run(c, g, false, algo), folded = run(c, g, true, algo);
    ASSERT_EQ(whole.timings.size(), folded.timings.size());
    for (size_t v = 0; v < whole.timings.size(); ++v) {
      EXPECT_NEAR(folded.timings[v].start, whole.timings[v].start, 1e-12) << g[v].name << " " << to_string(algo);
      EXPECT_NEAR(folded.timings[v].end, whole.timings[v].end, 1e-12) << g[v].name << " " << to_string(algo);
    }
    EXPECT_GT(whole.timings[1].end - whole.timings[1].start, 1e-3);  // the all-to-all takes real time
    EXPECT_EQ(folded.bytes_by_category, whole.bytes_by_category);
    EXPECT_NEAR(folded.shares[2].lost_to_comm_s, whole.shares[2].lost_to_comm_s, 1e-12);
    EXPECT_GT(whole.shares[2].lost_to_comm_s, 0.0);  // GPU 0's communication slows the kernel beside it
    EXPECT_LT(folded.activities * 4, whole.activities) << to_string(algo);
  }
}

TEST(FoldAllToAll, OnlyWhereTheMembersAreAlike) {
  ClusterSpec c = h100_cluster(4);
  TaskNode t;
  t.op = CollectiveOp::all_to_all;
  t.group = range(0, 32);
  t.gpu = 0;
  std::vector<char> computes(32, 0);
  computes[0] = 1;
  EXPECT_TRUE(all_to_all_folds(Topology(c), t, computes));
  computes[9] = 1;  // another member computes: its GPU's sharing would be missing
  EXPECT_FALSE(all_to_all_folds(Topology(c), t, computes));
  computes[9] = 0;
  t.gpu = 40;  // the computing GPU is not a member
  EXPECT_FALSE(all_to_all_folds(Topology(c), t, computes));
  t.gpu = 0;
  c.nics_per_node = 4;  // two members per NIC: the NIC carries both members' flows
  EXPECT_FALSE(all_to_all_folds(Topology(c), t, computes));
  t.group = range(0, 8);  // inside one node no NIC is used
  EXPECT_TRUE(all_to_all_folds(Topology(c), t, computes));
  ClusterSpec o = h100_cluster(4, 8, FabricTopology::fat_tree, 2, 2.0);  // oversubscribed leaves
  t.group = range(0, 32);
  EXPECT_FALSE(all_to_all_folds(Topology(o), t, computes));
}
