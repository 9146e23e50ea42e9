// Routes, latencies and bandwidths of the topology.
#include <gtest/gtest.h>

#include "core/json_input.h"
#include "engine/platform.h"
#include "support/engine_test_util.h"

using namespace mhc;
using namespace mhc::test;

namespace {
std::vector<std::string> route_names(const Topology& t, int s, int d) {
  std::vector<int> l;
  double lat;
  t.route(s, d, l, lat);
  std::vector<std::string> names;
  for (int i : l) names.push_back(t.links()[i].name);
  return names;
}
}  // namespace

TEST(PlatformRoutes, InsideANodeTheRouteIsTwoNvlinkHops) {
  Topology t(h100_cluster(2));
  EXPECT_EQ(route_names(t, 1, 6), (std::vector<std::string>{"nvl_up1", "nvl_dn6"}));
  EXPECT_DOUBLE_EQ(t.route_latency(1, 6), 1e-6);
  EXPECT_DOUBLE_EQ(t.route_bandwidth(1, 6), 450e9);
}

TEST(PlatformRoutes, FatTreeAcrossLeavesCrossesTheSpine) {
  Topology t(h100_cluster(4, 8, FabricTopology::fat_tree, 2, 2.0));
  EXPECT_EQ(route_names(t, 2, 10), (std::vector<std::string>{"nic_up2", "nic_dn10"}));  // same leaf
  EXPECT_EQ(route_names(t, 2, 18), (std::vector<std::string>{"nic_up2", "leaf_up0", "leaf_dn1", "nic_dn18"}));
  EXPECT_DOUBLE_EQ(t.route_latency(2, 18), 2e-6 + 1e-6);
  // Leaf uplink: 16 NICs x 50 GB/s / 2.
  for (const NetLink& l : t.links()) {
    if (l.name == "leaf_up0") {
      EXPECT_DOUBLE_EQ(l.bandwidth_Bps, 16 * 50e9 / 2.0);
    }
  }
}

TEST(PlatformRoutes, RailOptimizedCrossRailGoesThroughTheSpine) {
  Topology t(h100_cluster(4, 8, FabricTopology::rail_optimized, 4));
  // Same rail (local 3 on nodes 0 and 2) stays on rail 3's leaf; rails differ: via the spine.
  EXPECT_EQ(route_names(t, 3, 19), (std::vector<std::string>{"nic_up3", "nic_dn19"}));
  EXPECT_EQ(route_names(t, 3, 20).size(), 4u);
}

TEST(PlatformRoutes, RailOptimizedWithOneLeafGroupStillHasTheSpine) {
  // 4 nodes under 16-node leaves: one group, but 8 rails whose leaves meet only at the spine. The
  // cross-rail route must name built links (it once indexed leaf links that were never created).
  Topology t(h100_cluster(4, 8, FabricTopology::rail_optimized, 16));
  EXPECT_EQ(route_names(t, 3, 20), (std::vector<std::string>{"nic_up3", "leaf_up3", "leaf_dn4", "nic_dn20"}));
  // Rail 3's leaf holds one NIC per node: its uplink carries 4 x 50 GB/s.
  EXPECT_DOUBLE_EQ(t.route_bandwidth(3, 20), 50e9);
  for (const NetLink& l : t.links()) {
    if (l.name == "leaf_up3") {
      EXPECT_DOUBLE_EQ(l.bandwidth_Bps, 4 * 50e9);
    }
  }
}

TEST(PlatformRoutes, MultiPlaneForwardsOverNvlinkToThePlaneOfTheTarget) {
  Topology t(h100_cluster(2, 8, FabricTopology::multi_plane, 0, 1.0, 8));
  // GPU 1 (plane 1) to GPU 13 (local 5, plane 5): NVLink to GPU 5, then plane 5.
  EXPECT_EQ(route_names(t, 1, 13), (std::vector<std::string>{"nvl_up1", "nvl_dn5", "nic_up5", "nic_dn13"}));
  EXPECT_DOUBLE_EQ(t.route_latency(1, 13), 1e-6 + 2e-6);
  EXPECT_EQ(route_names(t, 5, 13), (std::vector<std::string>{"nic_up5", "nic_dn13"}));
}

TEST(PlatformRoutes, SharedNicsAndBadClusters) {
  ClusterSpec c = h100_cluster(2, 8);
  c.nics_per_node = 2;  // GPUs 0-3 on NIC 0, 4-7 on NIC 1
  Topology t(c);
  EXPECT_EQ(route_names(t, 5, 8), (std::vector<std::string>{"nic_up1", "nic_dn2"}));
  ClusterSpec bad = c;
  bad.comm_sms = bad.sms;
  EXPECT_THROW(Topology{bad}, InputError);
  bad = c;
  bad.nics_per_node = 0;
  EXPECT_THROW(Topology{bad}, InputError);
}

TEST(PlatformRoutes, ShippedClustersBuildAndPriceATransfer) {
  for (const char* file : {"small-2x4.json", "h100-dgx-256.json", "h800-128.json", "h800-deepseek-2048.json"}) {
    ClusterSpec c = load_cluster_file(std::string(MHC_SOURCE_DIR) + "/scenarios/clusters/" + file);
    Topology t(c);
    int last = c.total_gpus() - 1;
    EXPECT_DOUBLE_EQ(t.route_latency(0, 1), c.nvlink.latency_s) << file;
    EXPECT_DOUBLE_EQ(t.route_bandwidth(0, 1), c.nvlink.bandwidth_Bps) << file;
    if (c.nodes > 1) {
      EXPECT_GE(t.route_latency(0, last), c.nic.latency_s) << file;
      EXPECT_DOUBLE_EQ(t.route_bandwidth(0, last), std::min(c.nic.bandwidth_Bps, c.nvlink.bandwidth_Bps)) << file;
    }
  }
}

TEST(PlatformRoutes, RailFabricUnderOneLeafGroupCrossesTheSpineBetweenRails) {
  // Issue 20: with nodes_per_leaf >= nodes there is one node group but still one leaf per rail, and
  // a route between rails used spine links that were never built (a read before the links array).
  for (int per_leaf : {2, 16}) {
    Topology t(h100_cluster(2, 8, FabricTopology::rail_optimized, per_leaf));
    EXPECT_EQ(route_names(t, 3, 11), (std::vector<std::string>{"nic_up3", "nic_dn11"}));  // rail 3 to rail 3
    EXPECT_EQ(route_names(t, 3, 12), (std::vector<std::string>{"nic_up3", "leaf_up3", "leaf_dn4", "nic_dn12"}));
    EXPECT_DOUBLE_EQ(t.route_latency(3, 12), 2e-6 + 2 * 0.5e-6);
    // A rail leaf's uplink carries its 2 NICs: 2 x 50 GB/s.
    for (const NetLink& l : t.links())
      if (l.name == "leaf_up3") {
        EXPECT_DOUBLE_EQ(l.bandwidth_Bps, 2 * 50e9);
      }
    std::vector<int> links;
    double lat;
    for (int s = 0; s < 16; ++s)
      for (int d = 0; d < 16; ++d) {
        if (s == d) continue;
        t.route(s, d, links, lat);
        for (int l : links) EXPECT_TRUE(l >= 0 && l < static_cast<int>(t.links().size())) << s << " -> " << d;
      }
  }
}
