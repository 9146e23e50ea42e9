// The MoE dispatch/combine bytes per GPU per token and MoE layer (cost/moe_traffic.h), against hand
// computation, and the engine's rail all-to-all moving exactly those bytes on each link class.
#include <cmath>

#include <gtest/gtest.h>

#include "cost/moe_traffic.h"
#include "engine/collectives.h"
#include "engine/platform.h"
#include "support/engine_test_util.h"

using namespace mhc;

namespace {
// 16 experts over 2 nodes x 2 GPUs (8 per node, 4 per GPU), top-2 on at most 1 node, C = 256.
MoeTrafficInput tiny(const std::string& mode) {
  MoeTrafficInput in;
  in.mode = mode;
  in.hidden = 256;
  in.experts = 16;
  in.top_k = 2;
  in.nodes = 2;
  in.gpus_per_node = 2;
  in.max_nodes = 1;
  in.dispatch = DType::fp8;
  in.dispatch_backward = DType::bf16;
  return in;
}
}  // namespace

TEST(MoeTraffic, RailByHand) {
  const MoeTraffic t = moe_traffic(tiny("rail"));
  // One node is chosen and always hit: 1 node, the other node half the time: 0.5 network copies.
  EXPECT_DOUBLE_EQ(t.nodes_hit, 1.0);
  EXPECT_DOUBLE_EQ(t.network_copies, 0.5);
  // A GPU's 4 experts of the node's 8 miss both draws with C(4,2)/C(8,2) = 6/28: hit 22/28; the
  // forwarder sends to the node's other GPU: 1 x 22/28 NVLink copies.
  EXPECT_DOUBLE_EQ(t.nvlink_copies, 22.0 / 28.0);
  EXPECT_DOUBLE_EQ(t.gpus_hit, 2.0 * 22.0 / 28.0);
  // DeepEP messages: fp8 256 + tag 8 + 4 x (2 scales + 2 indices + 2 weights) = 288; bf16 backward
  // dispatch 512 + 8 + 4 x 4 = 536 -> 544 (16-byte padding); combine 512 + 8 + 4 x 2 = 528.
  EXPECT_DOUBLE_EQ(t.dispatch_copy, 288.0);
  EXPECT_DOUBLE_EQ(t.dispatch_backward_copy, 544.0);
  EXPECT_DOUBLE_EQ(t.combine_copy, 528.0);
  EXPECT_DOUBLE_EQ(t.forward().network, 0.5 * (288.0 + 528.0));
  EXPECT_DOUBLE_EQ(t.forward().nvlink, 22.0 / 28.0 * (288.0 + 528.0));
  EXPECT_DOUBLE_EQ(t.backward().network, 0.5 * (544.0 + 528.0));
  EXPECT_DOUBLE_EQ(t.backward().nvlink, 22.0 / 28.0 * (544.0 + 528.0));
  EXPECT_DOUBLE_EQ(t.forward_buffer, t.forward().total());
}

TEST(MoeTraffic, DirectSendsEveryRowEvenly) {
  const MoeTraffic t = moe_traffic(tiny("direct"));
  // 2 rows per token over 4 GPUs: 2 x 2/4 to the other node, 2 x 1/4 to the node's other GPU.
  EXPECT_DOUBLE_EQ(t.network_copies, 1.0);
  EXPECT_DOUBLE_EQ(t.nvlink_copies, 0.5);
  EXPECT_DOUBLE_EQ(t.forward_buffer, 2.0 * (256.0 + 512.0));
  EXPECT_DOUBLE_EQ(t.backward_buffer, 2.0 * (512.0 + 512.0));
}

TEST(MoeTraffic, DeepSeekV3OnEightNodes) {
  // 256 experts, top-8, EP64 on 8 nodes x 8 GPUs, at most 4 nodes (arXiv 2412.19437 sec. 2.1.2).
  MoeTrafficInput in;
  in.mode = "rail";
  in.hidden = 7168;
  in.experts = 256;
  in.top_k = 8;
  in.nodes = 8;
  in.gpus_per_node = 8;
  in.max_nodes = 4;
  in.dispatch = in.dispatch_backward = DType::fp8;
  const MoeTraffic t = moe_traffic(in);
  // Candidates 4 x 32 = 128 experts: P(node hit) = 1 - C(96,8)/C(128,8), P(GPU hit) = 1 - C(124,8)/C(128,8).
  double miss_node = 1, miss_gpu = 1;
  for (int i = 0; i < 8; ++i) miss_node *= (96.0 - i) / (128.0 - i), miss_gpu *= (124.0 - i) / (128.0 - i);
  EXPECT_NEAR(t.nodes_hit, 4 * (1 - miss_node), 1e-12);
  EXPECT_NEAR(t.network_copies, 3.1753845588724880, 1e-12);  // 4 x 0.90725 x 7/8
  EXPECT_NEAR(t.nvlink_copies, 6.4394488188976378, 1e-12);   // 4 x 7 x 0.22998
  EXPECT_NEAR(t.nvlink_copies, 4 * 7 * (1 - miss_gpu), 1e-12);
  // 7168 + 8 + 4 x (56 + 8 + 8) = 7464 -> 7472; combine 14336 + 8 + 32 = 14376 -> 14384.
  EXPECT_DOUBLE_EQ(t.dispatch_copy, 7472.0);
  EXPECT_DOUBLE_EQ(t.combine_copy, 14384.0);
  // Against every copy over the network in bf16/fp8 (7/8 of 8 x (7168 + 14336)): 2.2x fewer bytes.
  EXPECT_NEAR(t.forward().network, 3.1753845588724880 * (7472.0 + 14384.0), 1e-6);
}

TEST(MoeTraffic, LayoutsThatCannotRouteAreRefused) {
  MoeTrafficInput in = tiny("rail");
  in.top_k = 9;  // 9 experts on 1 node of 8
  EXPECT_THROW(moe_traffic(in), std::invalid_argument);
  in = tiny("nccl");
  EXPECT_THROW(moe_traffic(in), std::invalid_argument);
}

TEST(MoeTraffic, RailAllToAllMovesTheGivenBytesPerLinkClass) {
  const ClusterSpec c = test::h100_cluster(2, 2);
  const Topology topo(c);
  CollectiveOptions o;
  o.all_to_all_algo = NcclAlgo::rail;
  const RailBytes rail{1000.0, 3000.0};
  const CollectivePlan p = plan_collective(topo, CollectiveOp::all_to_all, {0, 1, 2, 3}, 4000.0, o, rail);
  ASSERT_EQ(p.flows.size(), 8u);  // each GPU: one peer on its node, one on the other node
  for (const Flow& f : p.flows)
    EXPECT_DOUBLE_EQ(f.data_bytes, topo.node_of(f.src) == topo.node_of(f.dst) ? 3000.0 : 1000.0);
}
