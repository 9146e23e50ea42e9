// NCCL's algorithms as flows on the platform. A collective becomes a latency term (NCCL's, see
// nccl_model.h) followed by a set of concurrent point-to-point flows; each flow carries everything
// its algorithm sends between that pair of GPUs during the operation (NCCL pipelines its chunks, so
// the links stay busy for the whole operation and the aggregate flow loads them the same way).
//   ring (all-reduce, reduce-scatter, all-gather): C channels, one per distinct NIC the group uses
//     on a node (1 inside one node); channel c visits every node once, entering node i at position
//     (c * ppn / C - i) mod ppn of the node's group members and leaving by the GPU before it, so
//     consecutive nodes are joined on one rail; each channel carries 1/C of the data.
//   tree (all-reduce across nodes): per channel a chain through each node's members and, between
//     the chains' heads, NCCL's double binary tree over the nodes (a binary tree and its mirror image,
//     half of the channel's data each); every edge carries its share up (reduce) and down (broadcast).
//   nvls (all-reduce inside one node): every GPU sends its buffer to the switch and reads the result.
//   direct (all-to-all, send/recv): one flow per ordered pair, bytes / p each.
//   rail (all-to-all, DeepEP-style): to another node, one flow to the member with the same position
//     on that node carrying everything for that node (ppn x bytes / p); inside a node, one flow per
//     pair carrying its own share plus what the sender forwards for the other nodes (nodes x bytes/p).
//     Given RailBytes (DeepEP's copies under node-limited routing: cost/moe_traffic.h), the network
//     bytes go evenly to the same-position members of the other nodes, the NVLink bytes evenly to
//     the other members of the sender's node, each class at DeepEP's measured efficiency.
// Wire bytes are data bytes / wire_efficiency(algo, proto), and for NCCL's own algorithms also / the
// measured efficiency of (link kind, algorithm) (nccl_calibration.h); LL's cap becomes a rate cap.
// The latency term is NCCL's latency minus the longest wire latency of the flows (the flows pay that
// themselves), so an uncontended ring equals NCCL's closed form.
// `bytes` is the buffer as nccl-tests counts it: all-reduce the buffer, all-gather the gathered
// output, reduce-scatter the full input, all-to-all the whole send buffer.
#pragma once

#include <optional>
#include <vector>

#include "engine/nccl_calibration.h"
#include "engine/nccl_model.h"
#include "engine/platform.h"
#include "graph/task_graph.h"

namespace mhc {

struct CollectiveOptions {
  std::optional<NcclAlgo> algo;    // like NCCL_ALGO; unset: NCCL-like choice by the closed form
  std::optional<NcclProto> proto;  // like NCCL_PROTO
  // All-to-all only (overrides `algo` for it): NcclAlgo::rail models DeepEP's NVLink-forwarded
  // all-to-all (DeepSeek-V3's MoE dispatch/combine) with ~3x fewer flows than direct.
  std::optional<NcclAlgo> all_to_all_algo;
  // NCCL's achieved bandwidth by link kind and algorithm (nccl_calibration.h); unset: the one the
  // cluster's nccl_measured give (Topology::nccl_calibration()). The accuracy suite sets it to check
  // a measurement held out of the calibration.
  std::optional<NcclCalibration> calibration;
};

// The rail all-to-all's bytes per GPU by link class, when the caller knows them (graph/task_graph.h:
// rail_network_bytes, rail_nvlink_bytes); unset: the even spread of the buffer. With them, the share
// of each link's rate DeepEP reaches (cost/deepep_calibration.h): a flow's wire bytes are its data
// over it.
struct RailBytes {
  double network = -1.0, nvlink = -1.0;
  double network_efficiency = 1.0, nvlink_efficiency = 1.0;
  bool set() const { return network >= 0 && nvlink >= 0; }
};

struct Flow {
  int src = -1;
  int dst = -1;
  double data_bytes = 0.0;    // payload the algorithm moves src -> dst
  double wire_bytes = 0.0;    // what the links carry (protocol overhead included)
  double rate_cap_Bps = 0.0;  // cap on wire bytes/s, 0 = none
};

struct CollectivePlan {
  NcclEstimate choice;         // algorithm, protocol and NCCL's closed-form prediction
  double latency_s = 0.0;      // to wait before the flows start
  std::vector<Flow> flows;
};

// Throws std::invalid_argument for an empty or uneven group, or an algorithm/protocol that cannot
// run this operation here.
CollectivePlan plan_collective(const Topology& topology, CollectiveOp op, const std::vector<int>& group,
                               double bytes, const CollectiveOptions& options = {}, const RailBytes& rail = {});

// A point-to-point NCCL send/recv (nccl-tests sendrecv): one flow plus NCCL's p2p latency.
CollectivePlan plan_sendrecv(const Topology& topology, int src, int dst, double bytes,
                             const CollectiveOptions& options = {});

}  // namespace mhc
