// DeepEP's published figures turned into link efficiencies (cost/deepep_calibration.h) against hand
// computation, and the engine's rail all-to-all running each link class at its efficiency.
#include <cmath>

#include <gtest/gtest.h>

#include "cost/deepep_calibration.h"
#include "engine/collectives.h"
#include "engine/platform.h"
#include "support/engine_test_util.h"

using namespace mhc;
using Kernel = DeepEpMeasurement::Kernel;
using Counted = DeepEpMeasurement::Counted;

namespace {

// DeepSeek's H800 cluster as its cluster file gives it: NVLink 160 GB/s, one 40 GB/s NIC per GPU.
ClusterSpec h800(int nodes) {
  ClusterSpec c = test::h100_cluster(nodes, 8);
  c.file = "h800.json";
  c.nvlink.bandwidth_Bps = 160e9;
  c.nic.bandwidth_Bps = 40e9;
  return c;
}

// DeepEP's README table entry: 4096 tokens, hidden 7168, 256 experts, top-8, top-4 node groups.
DeepEpMeasurement figure(const std::string& id, Kernel k, int ep, double GBps) {
  DeepEpMeasurement m;
  m.id = id;
  m.kernel = k;
  m.counted = ep > 8 ? Counted::rdma : Counted::nvlink;
  m.ep = ep;
  m.tokens = 4096;
  m.hidden = 7168;
  m.experts = 256;
  m.top_k = 8;
  m.max_nodes = ep > 8 ? std::min(ep / 8, 4) : 1;
  m.payload = k == Kernel::dispatch ? DType::fp8 : DType::bf16;
  m.bandwidth_Bps = GBps * 1e9;
  m.sms = 24;
  m.pointer = "/deepep_measured/0";
  return m;
}

// C(n - m, k) / C(n, k) by hand: k = 8 draws from n experts all missing m of them.
double miss8(double n, double m) {
  double p = 1;
  for (int i = 0; i < 8; ++i) p *= (n - m - i) / (n - i);
  return p;
}

constexpr double kFp8Counted = 7168 * (1 + 4.0 / 128);  // 7392 bytes: DeepEP's count of one FP8 token
constexpr double kFp8Message = 7472;                    // 7168 + 8 + 4 x (56 + 8 + 8) = 7464, padded to 16
constexpr double kBf16Message = 14384;                  // 14336 + 8 + 4 x 8 = 14376, padded to 16

}  // namespace

TEST(DeepEpCalibration, NetworkBoundFigureByHand) {
  // EP32 dispatch, 58 GB/s: 4 nodes, all candidates. DeepEP counts nodes_hit tokens (own node
  // included), the network carries nodes_hit x 3/4 messages per token at 40 GB/s, so
  //   efficiency = (3/4 x 7472 / 40e9) / (7392 / 58e9), whatever nodes_hit is.
  const ClusterSpec c = h800(4);
  const DeepEpReplay r = replay_deepep(c, figure("ep32", Kernel::dispatch, 32, 58));
  const double nodes_hit = 4 * (1 - miss8(256, 64));  // 64 experts per node
  EXPECT_NEAR(r.counted_bytes, 4096 * nodes_hit * kFp8Counted, 1e-3);
  EXPECT_NEAR(r.measured_s, r.counted_bytes / 58e9, 1e-15);
  EXPECT_NEAR(r.data.network, 4096 * nodes_hit * 0.75 * kFp8Message, 1e-3);
  EXPECT_NEAR(r.data.nvlink, 4096 * 4 * 7 * (1 - miss8(256, 8)) * kFp8Message, 1e-3);
  EXPECT_EQ(r.bound, RailLink::network);
  EXPECT_NEAR(r.efficiency, 0.75 * kFp8Message * 58 / (40 * kFp8Counted), 1e-12);  // 1.0993
}

TEST(DeepEpCalibration, AnRdmaFigureCanBeBoundByNvlink) {
  // EP16 combine, 43 GB/s: 2 nodes, so a token crosses the network about once (its own node is one of
  // the two) but is forwarded to 2 x 7 x P(GPU hit) GPUs over NVLink: NVLink is the bound.
  const ClusterSpec c = h800(2);
  const DeepEpReplay r = replay_deepep(c, figure("ep16", Kernel::combine, 16, 43));
  const double nodes_hit = 2 * (1 - miss8(256, 128)), nvlink_copies = 14 * (1 - miss8(256, 16));
  EXPECT_NEAR(r.counted_bytes, 4096 * nodes_hit * 7168 * 2.0, 1e-3);
  EXPECT_EQ(r.bound, RailLink::nvlink);
  const double nvlink_s = 4096 * nvlink_copies * kBf16Message / 160e9;
  EXPECT_NEAR(r.nvlink_s, nvlink_s, 1e-12);
  EXPECT_NEAR(r.efficiency, nvlink_s / (r.counted_bytes / 43e9), 1e-9);
  EXPECT_GT(r.nvlink_s, r.network_s);
}

TEST(DeepEpCalibration, MeansPerKernelAndLinkWithFallbacksAndHeldOut) {
  ClusterSpec c = h800(8);
  c.deepep_measured = {figure("a", Kernel::dispatch, 32, 58), figure("b", Kernel::dispatch, 64, 51),
                       figure("c", Kernel::combine, 8, 158)};
  const DeepEpCalibration all = calibrate_deepep(c);
  const double ea = replay_deepep(c, c.deepep_measured[0]).efficiency;
  const double eb = replay_deepep(c, c.deepep_measured[1]).efficiency;
  const double ec = replay_deepep(c, c.deepep_measured[2]).efficiency;
  EXPECT_DOUBLE_EQ(all.efficiency(Kernel::dispatch, RailLink::network), (ea + eb) / 2);
  EXPECT_EQ(all.ids(Kernel::dispatch, RailLink::network), "a, b");
  // No combine figure on the network: the dispatch's, the same hardware.
  EXPECT_DOUBLE_EQ(all.efficiency(Kernel::combine, RailLink::network), (ea + eb) / 2);
  EXPECT_DOUBLE_EQ(all.efficiency(Kernel::dispatch, RailLink::nvlink), ec);
  // Held out: "a" no longer counts; "c" held out leaves NVLink at its rate.
  EXPECT_DOUBLE_EQ(calibrate_deepep(c, "a").efficiency(Kernel::dispatch, RailLink::network), eb);
  const DeepEpCalibration no_c = calibrate_deepep(c, "c");
  EXPECT_DOUBLE_EQ(no_c.efficiency(Kernel::combine, RailLink::nvlink), 1.0);
  EXPECT_EQ(no_c.ids(Kernel::combine, RailLink::nvlink), "");
  // Wire-equivalent bytes: data over each link's efficiency.
  const LinkBytes w = deepep_wire(all, Kernel::combine, {1000, 2000});
  EXPECT_DOUBLE_EQ(w.nvlink, 1000 / ec);
  EXPECT_DOUBLE_EQ(w.network, 2000 / ((ea + eb) / 2));
}

TEST(DeepEpCalibration, ShippedH800FiguresGiveNvlinkAndNetworkEfficiencies) {
  ClusterSpec c = h800(8);
  c.deepep_measured = {figure("d8", Kernel::dispatch, 8, 153), figure("d16", Kernel::dispatch, 16, 43),
                       figure("d32", Kernel::dispatch, 32, 58), figure("d64", Kernel::dispatch, 64, 51)};
  const DeepEpCalibration cal = calibrate_deepep(c);
  // EP8 and EP16 bound by NVLink, EP32 and EP64 by the network (see the two tests above).
  EXPECT_EQ(cal.ids(Kernel::dispatch, RailLink::nvlink), "d8, d16");
  EXPECT_EQ(cal.ids(Kernel::dispatch, RailLink::network), "d32, d64");
  // DeepEP reaches about 4/5 of the 160 GB/s NVLink figure and 10% more than the cluster's 40 GB/s
  // effective NIC figure (89% of the NIC's 50 GB/s line rate).
  EXPECT_NEAR(cal.efficiency(Kernel::dispatch, RailLink::nvlink), 0.81, 0.03);
  EXPECT_NEAR(cal.efficiency(Kernel::dispatch, RailLink::network), 1.11, 0.03);
}

TEST(DeepEpCalibration, RailFlowsRunAtEachLinksEfficiency) {
  const ClusterSpec c = test::h100_cluster(2, 2);
  const Topology topo(c);
  CollectiveOptions o;
  o.all_to_all_algo = NcclAlgo::rail;
  o.proto = NcclProto::simple;  // wire bytes = data on the pairwise flows
  const RailBytes rail{1000.0, 3000.0, 1.25, 0.5};
  const CollectivePlan p = plan_collective(topo, CollectiveOp::all_to_all, {0, 1, 2, 3}, 4000.0, o, rail);
  ASSERT_EQ(p.flows.size(), 8u);
  for (const Flow& f : p.flows) {
    const bool nvlink = topo.node_of(f.src) == topo.node_of(f.dst);
    EXPECT_DOUBLE_EQ(f.data_bytes, nvlink ? 3000.0 : 1000.0);
    EXPECT_DOUBLE_EQ(f.wire_bytes, nvlink ? 3000.0 / 0.5 : 1000.0 / 1.25);
  }
  const RailBytes bad{1000.0, 3000.0, 0.0, 1.0};
  EXPECT_THROW(plan_collective(topo, CollectiveOp::all_to_all, {0, 1, 2, 3}, 4000.0, o, bad), std::invalid_argument);
}
