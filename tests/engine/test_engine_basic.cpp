// Point-to-point transfers, link sharing, compute chains and the fork wrapper.
#include <gtest/gtest.h>

#include "core/json_input.h"
#include "engine/engine.h"
#include "support/engine_test_util.h"

using namespace mhc;
using namespace mhc::test;

TEST(EngineBasic, OneTransferInsideANodeTakesLatencyPlusBytesOverBandwidth) {
  ClusterSpec c = h100_cluster(1);
  TaskGraph g;
  add_transfer(g, "t", 0, 5, 1e9);
  EngineResult r = simulate(c, g, {});
  EXPECT_NEAR(r.timings[0].end, 1e-6 + 1e9 / 450e9, 1e-12);
  EXPECT_DOUBLE_EQ(r.timings[0].start, 0.0);
  EXPECT_DOUBLE_EQ(r.bytes_by_category.at("pp"), 1e9);
  EXPECT_DOUBLE_EQ(r.bytes_by_link_class.at("nvlink"), 1e9);
}

TEST(EngineBasic, OneTransferAcrossTheSpineTakesItsRouteLatencyPlusBytesOverNicBandwidth) {
  ClusterSpec c = h100_cluster(4, 8, FabricTopology::fat_tree, 2);
  TaskGraph g;
  add_transfer(g, "t", 3, 3 + 3 * 8, 2.5e8);  // node 0 -> node 3, different leaves
  EngineResult r = simulate(c, g, {});
  EXPECT_NEAR(r.timings[0].end, 2e-6 + 2 * 0.5e-6 + 2.5e8 / 50e9, 1e-12);
  EXPECT_DOUBLE_EQ(r.bytes_by_link_class.at("nic"), 2.5e8);
  EXPECT_DOUBLE_EQ(r.bytes_by_link_class.at("fabric"), 2.5e8);
  EXPECT_EQ(r.bytes_by_link_class.count("nvlink"), 0u);
}

TEST(EngineBasic, TwoFlowsIntoOneLinkEachGetHalf) {
  ClusterSpec c = h100_cluster(1);
  TaskGraph g;
  add_transfer(g, "a", 0, 2, 1e9);
  add_transfer(g, "b", 1, 2, 1e9);  // both end on GPU 2's NVLink
  EngineResult r = simulate(c, g, {});
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(r.timings[i].end, 1e-6 + 2e9 / 450e9, 1e-9);
}

TEST(EngineBasic, FlowsWithDifferentRouteLatenciesStillShareALinkEvenly) {
  // Into GPU 8's NIC: one flow from the same leaf, one from across the spine (longer route).
  ClusterSpec c = h100_cluster(4, 8, FabricTopology::fat_tree, 2);
  c.fabric_hop.latency_s = 20e-6;
  TaskGraph g;
  add_transfer(g, "near", 0, 8, 5e9);
  add_transfer(g, "far", 16, 8, 5e9);
  EngineResult r = simulate(c, g, {});
  // Both at 25 GB/s while they overlap; the near one starts 40 us earlier and so ends earlier.
  double near_lat = 2e-6, far_lat = 2e-6 + 40e-6;
  double head = far_lat - near_lat;  // near alone at full speed before far's first byte arrives
  double near_end = near_lat + head + (5e9 - head * 50e9) / 25e9;
  EXPECT_NEAR(r.timings[0].end, near_end, 1e-7);
  double far_left = 5e9 - (near_end - far_lat) * 25e9;
  EXPECT_NEAR(r.timings[1].end, near_end + far_left / 50e9, 1e-7);
}

TEST(EngineBasic, ComputeChainAndStreamsOverlap) {
  ClusterSpec c = h100_cluster(1, 2);
  TaskGraph g;
  TaskId a = add_compute(g, "a", 0, 1.0);
  TaskId t = add_transfer(g, "t", 0, 1, 4.5e9);  // 10 ms + 1 us
  TaskId b = add_compute(g, "b", 1, 0.5);
  TaskId d = add_compute(g, "d", 0, 0.25);
  boost::add_edge(a, t, g);
  boost::add_edge(t, b, g);
  boost::add_edge(a, d, g);  // d runs on GPU 0 while t moves data
  EngineResult r = simulate(c, g, {});
  EXPECT_NEAR(r.timings[a].end, 1.0, 1e-12);
  EXPECT_NEAR(r.timings[t].start, 1.0, 1e-12);
  EXPECT_NEAR(r.timings[t].end, 1.0 + 1e-6 + 0.01, 1e-9);
  EXPECT_NEAR(r.timings[b].end, 1.51 + 1e-6, 1e-9);
  EXPECT_NEAR(r.timings[d].end, 1.25, 1e-9);
  EXPECT_NEAR(r.makespan_s, 1.51 + 1e-6, 1e-9);
  // b waited for the transfer: exposed pp time = t.end - 0 (b has no compute predecessor).
  EXPECT_NEAR(r.exposed_comm_s_by_category.at("pp"), r.timings[t].end, 1e-12);
}

TEST(EngineBasic, TwoSimulationsInOneProcessAgreeExactly) {
  ClusterSpec c = h100_cluster(2, 4);
  TaskGraph g;
  TaskId prev = add_compute(g, "c0", 0, 0.1);
  for (int i = 1; i < 8; ++i) {
    TaskId t = add_transfer(g, "t" + std::to_string(i), i - 1, i, 1e8 * i);
    TaskId k = add_compute(g, "c" + std::to_string(i), i, 0.01 * i);
    boost::add_edge(prev, t, g);
    boost::add_edge(t, k, g);
    prev = k;
  }
  EngineResult r1 = simulate(c, g, {});
  EngineResult r2 = simulate(c, g, {});
  ASSERT_EQ(r1.timings.size(), boost::num_vertices(g));
  for (size_t i = 0; i < r1.timings.size(); ++i) {
    EXPECT_EQ(r1.timings[i].start, r2.timings[i].start);
    EXPECT_EQ(r1.timings[i].end, r2.timings[i].end);
  }
  EXPECT_EQ(r1.makespan_s, r2.makespan_s);
  EXPECT_GT(r1.makespan_s, 0.1 + 0.28);
}

TEST(EngineBasic, ErrorsInTheSimulationProcessComeBackAsExceptions) {
  ClusterSpec c = h100_cluster(1, 2);
  TaskGraph g;
  add_compute(g, "bad", 7, 1.0);
  EXPECT_THROW(simulate(c, g, {}), std::runtime_error);
  TaskGraph cyc;
  TaskId a = add_compute(cyc, "a", 0, 1.0), b = add_compute(cyc, "b", 0, 1.0);
  boost::add_edge(a, b, cyc);
  boost::add_edge(b, a, cyc);
  try {
    simulate(c, cyc, {});
    FAIL() << "cycle accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cycle"), std::string::npos) << e.what();
  }
}

TEST(EngineBasic, BadClusterIsAnInputError) {
  ClusterSpec c = h100_cluster(2, 4);
  c.nic.bandwidth_Bps = 0;
  c.file = "clusters/x.json";
  TaskGraph g;
  add_compute(g, "a", 0, 1.0);
  EXPECT_THROW(simulate(c, g, {}), InputError);
}

TEST(EngineBasic, DegenerateCommunicationIsInstant) {
  ClusterSpec c = h100_cluster(1, 2);
  TaskGraph g;
  TaskId a = add_compute(g, "a", 0, 0.5);
  TaskId x = add_collective(g, "solo", CollectiveOp::all_to_all, {0}, 1e9);
  TaskId y = add_collective(g, "empty", CollectiveOp::all_reduce, {0, 1}, 0.0);
  TaskId t = add_transfer(g, "self", 1, 1, 1e9);
  boost::add_edge(a, x, g);
  boost::add_edge(x, y, g);
  boost::add_edge(y, t, g);
  EngineOptions o;
  o.collective.all_to_all_algo = NcclAlgo::rail;
  EngineResult r = simulate(c, g, o);
  for (TaskId v : {x, y, t}) EXPECT_DOUBLE_EQ(r.timings[v].end, 0.5) << g[v].name;
  EXPECT_EQ(r.bytes_by_category.count("dp"), 0u);
}
