// NCCL's closed forms and choice, and the flows the collectives expand into.
#include <gtest/gtest.h>

#include "engine/collectives.h"
#include "support/engine_test_util.h"

using namespace mhc;
using namespace mhc::test;

TEST(NcclModel, RingLatencyTermsFollowTuning) {
  ClusterSpec c = h100_cluster(4);
  CommGroupShape one = group_shape(c, range(0, 8));
  // One node, all-reduce ring: base + 2(p-1) NVLink hops.
  EXPECT_NEAR(nccl_estimate(CollectiveOp::all_reduce, one, NcclAlgo::ring, NcclProto::ll, 0).latency_s,
              (6.6 + 14 * 0.6) * 1e-6, 1e-12);
  EXPECT_NEAR(nccl_estimate(CollectiveOp::all_gather, one, NcclAlgo::ring, NcclProto::simple, 0).latency_s,
              (8.4 + 7 * 3.4) * 1e-6, 1e-12);
  // Four nodes with one GPU each: network hops priced with the tree's network latency.
  CommGroupShape spread = group_shape(c, {0, 8, 16, 24});
  EXPECT_EQ(spread.nodes, 4);
  EXPECT_EQ(spread.ranks_per_node, 1);
  EXPECT_NEAR(nccl_estimate(CollectiveOp::all_reduce, spread, NcclAlgo::ring, NcclProto::ll128, 0).latency_s,
              (14.0 + 6 * 8.5) * 1e-6, 1e-12);
  // Tree: base + 2 ((ppn-1) NVLink + log2(nodes) network).
  CommGroupShape all = group_shape(c, range(0, 32));
  EXPECT_NEAR(nccl_estimate(CollectiveOp::all_reduce, all, NcclAlgo::tree, NcclProto::simple, 0).latency_s,
              (8.4 + 2 * (7 * 4.0 + 2 * 14.0)) * 1e-6, 1e-12);
}

TEST(NcclModel, SelectionPicksLowLatencyForSmallAndBandwidthForLarge) {
  ClusterSpec c = h100_cluster(1);
  CommGroupShape g = group_shape(c, range(0, 8));
  NcclEstimate small = nccl_select(CollectiveOp::all_reduce, g, 1024);
  EXPECT_EQ(small.proto, NcclProto::ll);
  NcclEstimate large = nccl_select(CollectiveOp::all_reduce, g, 1e9);
  EXPECT_EQ(large.proto, NcclProto::simple);
  EXPECT_TRUE(large.algo == NcclAlgo::ring || large.algo == NcclAlgo::nvls);
  EXPECT_FALSE(nccl_estimate(CollectiveOp::all_gather, g, NcclAlgo::tree, NcclProto::simple, 1).valid);
  EXPECT_FALSE(nccl_estimate(CollectiveOp::all_reduce, group_shape(h100_cluster(2), range(0, 16)), NcclAlgo::nvls,
                             NcclProto::simple, 1)
                   .valid);
  // busBw factors as nccl-tests.
  EXPECT_DOUBLE_EQ(bus_bw_factor(CollectiveOp::all_reduce, 8), 14.0 / 8);
  EXPECT_DOUBLE_EQ(bus_bw_factor(CollectiveOp::all_to_all, 8), 7.0 / 8);
}

TEST(Collectives, RingFlowsUseEveryNicOnceAndKeepRails) {
  ClusterSpec c = h100_cluster(4);
  Topology t(c);
  CollectiveOptions o;
  o.algo = NcclAlgo::ring;
  o.proto = NcclProto::simple;
  CollectivePlan p = plan_collective(t, CollectiveOp::all_reduce, range(0, 32), 32e6, o);
  double inter = 0, intra = 0;
  int inter_flows = 0;
  for (const Flow& f : p.flows) {
    if (t.node_of(f.src) != t.node_of(f.dst)) {
      inter += f.data_bytes, ++inter_flows;
    } else {
      intra += f.data_bytes;
    }
  }
  const double D = 2.0 * 31 / 32 * 32e6;
  EXPECT_EQ(inter_flows, 32);                 // 8 channels x 4 node boundaries
  EXPECT_NEAR(inter, 4 * D, 1e-3);            // each node sends D over its NICs in total
  EXPECT_NEAR(intra, 32 * D * 7 / 8, 1e-3);   // and 7/8 of every GPU's D over NVLink
  // Protocol overhead inflates wire bytes: LL moves twice the data.
  o.proto = NcclProto::ll;
  CollectivePlan ll = plan_collective(t, CollectiveOp::all_reduce, range(0, 32), 32e6, o);
  EXPECT_DOUBLE_EQ(ll.flows[0].wire_bytes, 2 * ll.flows[0].data_bytes);
  EXPECT_GT(ll.flows[0].rate_cap_Bps, 0);
  EXPECT_THROW(plan_collective(t, CollectiveOp::all_reduce, {0, 1, 8}, 1e6), std::invalid_argument);
}
