// The bytes one GPU sends per token per MoE layer for the expert-parallel dispatch and combine, per
// link class (NVLink, network), forward and backward. The one place these bytes are formed: the stage
// costs, the task graph and `mhcsim moe` all read them from here.
//
// "direct" (NCCL's all-to-all, as Megatron-LM's all-to-all token dispatcher uses it): every (token,
// expert) row is sent, top_k copies of the hidden state per token, spread evenly over the EP group's
// GPUs (the share a GPU keeps for itself never leaves it).
//
// "rail" (DeepEP's normal kernels, as DeepSeek-V3 trains: arXiv 2412.19437 sec. 3.2.2; github
// deepseek-ai/DeepEP docs/legacy.md "Normal kernels with NVLink and RDMA forwarding", kernels in
// csrc/kernels/legacy/internode.cu): a token is sent once over the network (RDMA) to each other node
// that holds one of its experts, to the GPU with its own index on that node, which forwards it over
// NVLink to each other GPU of that node that holds one of its experts; a destination on the sender's
// own node gets it through the local buffer (internode.cu: `dst_rdma_rank == rdma_rank` reads the
// receive buffer, no NIC). Combine returns the same way, reduced on the forwarding GPU first, so it
// has as many copies on each link class. Each copy is DeepEP's token message (internode.cu
// get_num_bytes_per_token): the hidden state, its FP32 scales (FP8: one per 128 values), an 8-byte
// source tag and the top-k indices and weights (4 bytes each), padded to 16 bytes; combine carries
// the BF16 hidden state, the tag and the top-k weights. DeepEP's combine is BF16 only (README: "FP8
// dispatching and BF16 combining"), as DeepSeek-V3 keeps both combines in BF16 (sec. 3.3.2).
//
// Routing, stated as an assumption: node-limited routing (DeepSeek-V3 sec. 2.1.2: each token's experts
// lie on at most M nodes; M = 4 there) picks M of the EP group's N nodes and the top_k experts among
// those nodes' experts, all uniformly at random (balanced routing; DeepEP's own test routes this way:
// tests/legacy/test_internode.py, top groups then top-k within them). The expected copies are then
//   candidate experts K = min(M, N) x E/N,   P(a candidate node is hit) = 1 - C(K - E/N, k) / C(K, k),
//   P(a candidate GPU is hit) = 1 - C(K - E/(N g), k) / C(K, k),
//   network copies = min(M, N) x P(node hit) x (N - 1) / N   (its own node is a candidate as often as any),
//   NVLink copies  = min(M, N) x (g - 1) x P(GPU hit)         (each hit GPU but the forwarder itself).
// By symmetry each GPU relays as many copies as it originates, so these are also its bytes per token.
// Backward: the gradient of the combine travels as a dispatch (token to experts) in the backward
// dispatch precision (DeepSeek-V3: FP8, "the activation gradient before MoE down-projections"), the
// gradient of the dispatch as a combine (BF16).
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "scenario/scenario.h"

namespace mhc {

struct MoeTrafficInput {
  std::string mode = "direct";  // "direct" or "rail" (parallelism.ep_all_to_all)
  int64_t hidden = 0;           // C
  int64_t experts = 0;          // routed experts E
  int64_t top_k = 0;            // k
  int64_t nodes = 1;            // N: nodes the EP group spans
  int64_t gpus_per_node = 1;    // g: EP group members on each of them
  int64_t max_nodes = 0;        // M: node-limited routing; 0 = none (M = N)
  DType dispatch = DType::bf16;           // forward dispatch payload
  DType dispatch_backward = DType::bf16;  // backward dispatch payload (gradient of the combine)
};

struct LinkBytes {
  double nvlink = 0;
  double network = 0;
  double total() const { return nvlink + network; }
  LinkBytes operator+(const LinkBytes& o) const { return {nvlink + o.nvlink, network + o.network}; }
  LinkBytes operator*(double f) const { return {nvlink * f, network * f}; }
};

struct MoeTraffic {
  // Expected copies of one token under the routing assumption (direct: the top_k rows).
  double nodes_hit = 0, gpus_hit = 0;
  double network_copies = 0, nvlink_copies = 0;
  // Bytes of one copy (rail: DeepEP's token message; direct: the hidden state).
  double dispatch_copy = 0, dispatch_backward_copy = 0, combine_copy = 0;
  // Per GPU, per token it owns, per MoE layer.
  LinkBytes forward_dispatch, forward_combine, backward_dispatch, backward_combine;
  LinkBytes forward() const { return forward_dispatch + forward_combine; }
  LinkBytes backward() const { return backward_dispatch + backward_combine; }
  // NCCL's send buffer per token (what the all-to-all's `bytes` counts): direct: all top_k copies,
  // the GPU's own share included; rail: what leaves the GPU.
  double forward_buffer = 0, backward_buffer = 0;
};

// Throws std::invalid_argument when the layout cannot route (top_k above the candidate experts, or
// experts not spread evenly): the scenario loader checks the same and names the field.
MoeTraffic moe_traffic(const MoeTrafficInput& in);

// The input for a scenario's MoE layers: its model, precision, all-to-all and EP layout (ep_nodes).
MoeTrafficInput moe_traffic_input(const Scenario& s);

}  // namespace mhc
