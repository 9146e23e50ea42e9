// Collectives as flows: simulated times against closed forms.
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "support/collective_run.h"
#include "support/engine_test_util.h"

using namespace mhc;
using namespace mhc::test;

TEST(EngineCollectives, RingAllReduceInsideANodeMatchesTheClosedForm) {
  ClusterSpec c = h100_cluster(1);
  for (int p : {2, 4, 8}) {
    const double S = 1 << 30;
    double sim = collective_seconds(c, CollectiveOp::all_reduce, range(0, p), S, NcclAlgo::ring, NcclProto::simple);
    // NCCL ring/Simple latency: base 8.4 us + 2(p-1) NVLink steps of 3.4 us.
    double closed = (8.4 + 2 * (p - 1) * 3.4) * 1e-6 + 2.0 * (p - 1) / p * S / 450e9;
    EXPECT_NEAR(sim / closed, 1.0, 0.02) << p;
    EXPECT_NEAR(sim / closed, 1.0, 1e-6) << p;  // in fact exact when nothing else runs
  }
}

TEST(EngineCollectives, RingAllReduceAcrossNodesIsBoundByTheNodesNics) {
  ClusterSpec c = h100_cluster(4);
  const double S = 1 << 30;
  const int p = 32;
  double sim = collective_seconds(c, CollectiveOp::all_reduce, range(0, p), S, NcclAlgo::ring, NcclProto::simple);
  // 8 channels, one per NIC: each node pushes the ring's data through 8 x 50 GB/s.
  // NCCL latency: 8.4 + (2(p-1) - 2(nodes-1)) x max(3.4, 3) + 2(nodes-1) x 14 us.
  double lat = (8.4 + (62 - 6) * 3.4 + 6 * 14.0) * 1e-6;
  double closed = lat + 2.0 * (p - 1) / p * S / 400e9;
  EXPECT_NEAR(sim / closed, 1.0, 1e-6);
  CommGroupShape shape = group_shape(c, range(0, p));
  EXPECT_NEAR(nccl_estimate(CollectiveOp::all_reduce, shape, NcclAlgo::ring, NcclProto::simple, S).time_s / closed,
              1.0, 1e-9);
}

TEST(EngineCollectives, ReduceScatterAndAllGatherMatchTheirClosedForms) {
  ClusterSpec c = h100_cluster(2);
  const double S = 256e6;
  for (CollectiveOp op : {CollectiveOp::reduce_scatter, CollectiveOp::all_gather}) {
    CommGroupShape shape = group_shape(c, range(0, 16));
    for (NcclProto proto : {NcclProto::ll128, NcclProto::simple}) {
      double sim = collective_seconds(c, op, range(0, 16), S, NcclAlgo::ring, proto);
      double closed = nccl_estimate(op, shape, NcclAlgo::ring, proto, S).time_s;
      EXPECT_NEAR(sim / closed, 1.0, 1e-6) << to_string(op) << " " << to_string(proto);
    }
  }
}

TEST(EngineCollectives, AllToAllAcrossNodesIsBoundByTheNics) {
  ClusterSpec c = h100_cluster(4);
  const double S = 512e6;
  double sim = collective_seconds(c, CollectiveOp::all_to_all, range(0, 32), S, NcclAlgo::direct, NcclProto::simple);
  // Every GPU sends 24/32 of its buffer off-node through its own 50 GB/s NIC; NVLink (7/32 at 450)
  // finishes long before.
  double nic_bound = 24.0 / 32 * S / 50e9;
  double lat = (8.4 + 14.0) * 1e-6;
  EXPECT_GE(sim, nic_bound);
  EXPECT_NEAR(sim / (lat + nic_bound), 1.0, 0.02);
  // With half the NICs, the NIC-bound part doubles.
  ClusterSpec half = c;
  half.nics_per_node = 4;
  double sim_half = collective_seconds(half, CollectiveOp::all_to_all, range(0, 32), S, NcclAlgo::direct, NcclProto::simple);
  EXPECT_NEAR((sim_half - lat) / nic_bound, 2.0, 0.02);
}

TEST(EngineCollectives, NvlsAndSelectionRun) {
  ClusterSpec c = h100_cluster(1);
  const double S = 1 << 28;
  double nvls = collective_seconds(c, CollectiveOp::all_reduce, range(0, 8), S, NcclAlgo::nvls, NcclProto::simple);
  EXPECT_NEAR(nvls / (25e-6 + S / (450e9 * 5.0 / 6.0)), 1.0, 1e-6);
  // The default choice is never slower than what the closed form says the best choice takes.
  double best = collective_seconds(c, CollectiveOp::all_reduce, range(0, 8), S);
  CommGroupShape shape = group_shape(c, range(0, 8));
  EXPECT_NEAR(best / nccl_select(CollectiveOp::all_reduce, shape, S).time_s, 1.0, 1e-6);
}

TEST(EngineCollectives, TreeAllReduceAcrossNodesMatchesItsFlowClosedForm) {
  // 4 nodes x 8 GPUs (NVLink 450 GB/s, 1 us; one 50 GB/s NIC per GPU, 2 us; one leaf, so no fabric
  // hop), all-reduce of S = 64 MB, tree / Simple. The flows the engine builds (engine/collectives.cpp
  // tree_flows), on paper:
  //  - channels: one per NIC the group uses on a node, 8; each carries S / 8 = 8 MB. Channel c's
  //    chain in every node runs over local GPUs c, c+1, ..., c+7 (mod 8), each link both ways (reduce
  //    up, broadcast down), so the cyclic pair (k, k+1) is in every chain except channel k+1's: 7 of
  //    8 channels, 56 MB each way. GPU k's NVLink up-link carries two such flows (to k-1 and k+1),
  //    its down-link two: max-min gives each 225 GB/s.
  //  - between nodes, the heads (local GPU c, on NIC c) join a binary tree over nodes {1->0, 2->0,
  //    3->1} and its mirror {2->3, 1->3, 0->2}, S / 16 per edge per tree each way: node pairs 0-1 and
  //    2-3 carry 4 MB, 0-2 and 1-3 carry 8 MB (in both trees). Every NIC sends (and receives) one
  //    4 MB and one 8 MB flow: 25 GB/s each until the 4 MB ends, then 50 GB/s; 12 MB per NIC.
  //  - wire bytes = data / 0.92 (tree/Simple, wire_efficiency; no NCCL measurement in this cluster,
  //    so the calibration factor is 1).
  //  - latency: NCCL's tree/Simple latency, 8.4 + 2 x ((8 - 1) x 4.0 + log2(4) x 14.0) = 120.4 us
  //    (NVIDIA/nccl src/graph/tuning.cc baseLat, hwLat), less the longest wire latency of the flows
  //    (2 us, a NIC route), before the flows start; each flow then pays its own route latency.
  // NVLink flows end at 118.4 us + 1 us + 56e6 / (0.92 x 225e9) = 389.93 us; NIC flows at 118.4 us +
  // 2 us + 12e6 / (0.92 x 50e9) = 381.27 us: NVLink is the bottleneck.
  ClusterSpec c = h100_cluster(4);
  const double S = 64e6;
  const double sim = collective_seconds(c, CollectiveOp::all_reduce, range(0, 32), S, NcclAlgo::tree, NcclProto::simple);
  const double latency = (8.4 + 2 * (7 * 4.0 + 2 * 14.0)) * 1e-6;
  const double nvlink_end = latency - 2e-6 + 1e-6 + (7.0 / 8 * S) / (0.92 * 450e9 / 2);
  const double nic_end = latency - 2e-6 + 2e-6 + (1.5 * S / 8) / (0.92 * 50e9);
  ASSERT_GT(nvlink_end, nic_end);
  EXPECT_NEAR(sim / nvlink_end, 1.0, 1e-6);

  // NCCL's own fit (nccl_model.cpp, the tuner's formula): the same latency plus 2 S over the tree's
  // bus bandwidth, 0.92 x min(NVLink 450, 8 NICs x 50 GB/s) = 368 GB/s: 468.23 us. The flow model is
  // 0.833 of it because the NCCL fit charges every GPU 2 S at the NIC-bound 400 GB/s, while the flows
  // put 2 x 7/8 S on each GPU's NVLink at 450 GB/s (7/8 x 400/450 = 0.778 of the fit's bandwidth
  // term) and only 1.5 S / 8 on each NIC. Errors the band below catches: each tree carrying the whole
  // channel (24 MB per NIC) gives 1.37; flows without the wire efficiency 0.787; the fit with S
  // instead of 2 S 1.32.
  CommGroupShape shape = group_shape(c, range(0, 32));
  const double closed = nccl_estimate(CollectiveOp::all_reduce, shape, NcclAlgo::tree, NcclProto::simple, S).time_s;
  EXPECT_NEAR(closed, latency + 2 * S / (0.92 * 400e9), 1e-12);
  EXPECT_NEAR(sim / closed, 0.833, 0.005);
}

TEST(EngineCollectives, CollectivesSharingNicsSlowEachOther) {
  ClusterSpec c = h100_cluster(2, 8);
  TaskGraph g;
  // Two all-to-alls over disjoint GPU sets; both cross the node boundary on their own NICs, so
  // they do not interfere; a third pair shares GPU 0's NIC.
  add_collective(g, "a", CollectiveOp::all_to_all, {0, 8}, 1e9, "ep");
  add_collective(g, "b", CollectiveOp::all_to_all, {1, 9}, 1e9, "ep");
  EngineResult r = simulate(c, g, {});
  EXPECT_NEAR(r.timings[0].end, r.timings[1].end, 1e-12);
  TaskGraph g2;
  add_collective(g2, "a", CollectiveOp::all_to_all, {0, 8}, 1e9, "ep");
  add_collective(g2, "b", CollectiveOp::all_to_all, {0, 9}, 1e9, "ep");
  EngineResult r2 = simulate(c, g2, {});
  // GPU 0's NIC now carries both halves out (and both in): each all-to-all ends exactly one half
  // buffer's NIC time later than alone (the hand answer: 2x the transfer time, the latency once).
  for (int k : {0, 1}) EXPECT_NEAR(r2.timings[k].end - r.timings[k].end, 0.5e9 / c.nic.bandwidth_Bps, 1e-9);
  EXPECT_DOUBLE_EQ(r2.bytes_by_category.at("ep"), 2 * 1e9);  // half of each buffer leaves each GPU
}

TEST(EngineCollectives, LowLatencyProtocolBandwidthCapHolds) {
  ClusterSpec c = h100_cluster(1);
  const double S = 1 << 20;
  double sim = collective_seconds(c, CollectiveOp::all_reduce, range(0, 8), S, NcclAlgo::ring, NcclProto::ll);
  // LL: half the NVLink bandwidth, capped at 141 GB/s on one Hopper node.
  double closed = (6.6 + 14 * 0.6) * 1e-6 + 2.0 * 7 / 8 * S / 141e9;
  EXPECT_NEAR(sim / closed, 1.0, 1e-6);
}

TEST(EngineCollectives, RailForwardedAllToAllMatchesItsClosedFormWithFewerFlows) {
  ClusterSpec c = h100_cluster(4);
  const double S = 512e6;
  TaskGraph g;
  add_collective(g, "a2a", CollectiveOp::all_to_all, range(0, 32), S, "ep");
  EngineOptions o;
  o.collective.all_to_all_algo = NcclAlgo::rail;
  o.collective.proto = NcclProto::simple;
  EngineResult r = simulate(c, g, o);
  CommGroupShape shape = group_shape(c, range(0, 32));
  NcclEstimate e = nccl_estimate(CollectiveOp::all_to_all, shape, NcclAlgo::rail, NcclProto::simple, S);
  EXPECT_NEAR(r.timings[0].end / e.time_s, 1.0, 1e-6);
  // Same NIC bound as the direct algorithm: 24/32 of the buffer through each GPU's NIC.
  EXPECT_NEAR(e.time_s - e.latency_s, 24.0 / 32 * S / 50e9, 1e-12);
  Topology t(c);
  CollectiveOptions rail;
  rail.all_to_all_algo = NcclAlgo::rail;
  EXPECT_EQ(plan_collective(t, CollectiveOp::all_to_all, range(0, 32), S, rail).flows.size(), 32u * (7 + 3));
  EXPECT_EQ(plan_collective(t, CollectiveOp::all_to_all, range(0, 32), S).flows.size(), 32u * 31);
  // Bytes off the node are the same either way.
  EXPECT_NEAR(r.bytes_by_link_class.at("nic"), 32 * 24.0 / 32 * S, 1.0);
}

TEST(EngineCollectives, RailFabricUnderOneLeafGroupRunsAllToAll) {
  // Issue 20's heap overflow: all nodes under one leaf group of a rail-optimised fabric. Cross-rail
  // flows go up one rail leaf and down another; the NICs (8 of 16 peers off-node at 50 GB/s) bound it,
  // since a rail leaf's uplink carries 2 NICs' worth for 2 x 7/16 of a buffer.
  ClusterSpec c = h100_cluster(2, 8, FabricTopology::rail_optimized, 16);
  const double S = 512e6;
  TaskGraph g;
  add_collective(g, "a2a", CollectiveOp::all_to_all, range(0, 16), S, "ep");
  EngineOptions o;
  o.collective.algo = NcclAlgo::direct;
  o.collective.proto = NcclProto::simple;
  EngineResult r = simulate(c, g, o);
  const double sim = r.timings[0].end - r.timings[0].start;
  const double nic_bound = 8.0 / 16 * S / 50e9;
  EXPECT_GE(sim, nic_bound);
  EXPECT_NEAR(sim / nic_bound, 1.0, 0.02);
  // 16 GPUs x 7 cross-rail peers x S/16 bytes on the spine.
  EXPECT_DOUBLE_EQ(r.bytes_by_link_class.at("fabric"), 16 * 7 * S / 16);
}
