// NCCL's cost model (what its tuner predicts) and its algorithm/protocol choice, in closed form.
// Constants follow NVIDIA/nccl src/graph/tuning.cc as of NCCL 2.23 and nccl-tests doc/PERFORMANCE.md:
// time = latency + bytes / algBw, busBw = algBw x 2(n-1)/n (all-reduce) or (n-1)/n (RS, AG, A2A).
// Used three ways: the engine adds the latency term to its simulated flows, tests compare the
// simulated times with these closed forms, and `mhcsim collective` prints both.
#pragma once

#include <string>
#include <vector>

#include "graph/task_graph.h"

namespace mhc {

struct ClusterSpec;

// direct: pairwise flows (NCCL's all-to-all and send/recv). rail: DeepEP-style all-to-all (not NCCL,
// chosen only when asked for): off-node data goes over the network to the GPU with the same index on
// the target node, which forwards it over NVLink (DeepSeek-V3's dispatch/combine kernels).
enum class NcclAlgo { ring, tree, nvls, direct, rail };
enum class NcclProto { ll, ll128, simple };

const char* to_string(NcclAlgo a);
const char* to_string(NcclProto p);

// The bandwidths NCCL's topology search would find for a group on this cluster.
struct CommGroupShape {
  int ranks = 0;              // GPUs in the group
  int nodes = 0;              // distinct nodes they sit on
  int ranks_per_node = 0;     // ranks / nodes (groups are node-balanced)
  int nics_per_node = 0;      // distinct NICs the group's GPUs on one node use
  double nvlink_bw_Bps = 0.0; // per-GPU NVLink bandwidth, one direction
  double nic_bw_Bps = 0.0;    // one NIC, one direction
  bool nvswitch = false;      // NVLink switch in the node (NVLS possible)
};

// Shape of the group `gpus` (global GPU ids) on `cluster`; throws std::invalid_argument when the
// group is empty, has duplicates or spreads unevenly over nodes.
CommGroupShape group_shape(const ClusterSpec& cluster, const std::vector<int>& gpus);
// The first `ranks` GPUs of the cluster (whole nodes first), as nccl-tests would run them.
std::vector<int> first_gpus(const ClusterSpec& cluster, int ranks);
// The NIC (0 .. nics_per_node-1) a GPU's inter-node traffic leaves by.
int nic_of_local_gpu(const ClusterSpec& cluster, int local_gpu);

// One point of NCCL's model for an operation on a buffer of `bytes` (per GPU, as NCCL counts).
struct NcclEstimate {
  NcclAlgo algo = NcclAlgo::ring;
  NcclProto proto = NcclProto::simple;
  double latency_s = 0.0;
  double alg_bw_Bps = 0.0;  // bytes / (time - latency)
  double time_s = 0.0;
  bool valid = false;       // false where NCCL would not run this algorithm/protocol here
};

// Latency and bandwidth for one algorithm/protocol (valid = false where NCCL disables it).
NcclEstimate nccl_estimate(CollectiveOp op, const CommGroupShape& g, NcclAlgo algo, NcclProto proto,
                           double bytes);

// Send/recv between two GPUs (same node or not) the way NCCL's p2p path would be priced.
NcclEstimate nccl_sendrecv_estimate(bool same_node, double bw_Bps, NcclProto proto, double bytes);

// NCCL-like choice: the fastest valid (algorithm, protocol) by the closed form. `algo`/`proto`
// non-null restrict the choice (user override, like NCCL_ALGO / NCCL_PROTO).
NcclEstimate nccl_select(CollectiveOp op, const CommGroupShape& g, double bytes,
                         const NcclAlgo* algo = nullptr, const NcclProto* proto = nullptr);

// The fraction of the raw link bandwidth an algorithm/protocol turns into data (NCCL's refinements:
// ring LL 1/2, LL128 0.92; tree x0.92, LL /3.8, LL128 x7/9 (one node) or 120/128; NVLS 5/6).
// The engine inflates wire bytes by 1/efficiency so its flows and this model agree.
double wire_efficiency(NcclAlgo a, NcclProto p, int nodes);
// NCCL's cap on bus bandwidth for LL (llMaxBw, Hopper one node 141 GB/s, Intel hosts 39 / 20.4 GB/s
// for 2 / more nodes); 0 when there is none.
double bus_bw_cap_Bps(NcclAlgo a, NcclProto p, int nodes);
// Ring channels: one per distinct NIC the group uses per node (1 inside one node).
int ring_channels(const CommGroupShape& g);

// busBw / algBw as nccl-tests reports it.
double bus_bw_factor(CollectiveOp op, int ranks);

NcclAlgo parse_nccl_algo(const std::string& text, const std::string& where);
NcclProto parse_nccl_proto(const std::string& text, const std::string& where);

}  // namespace mhc
