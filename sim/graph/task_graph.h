// The task graph every later stage shares: the dag stage builds and checks it, the engine runs it.
// Vertices are tasks; an edge u -> v means v may start only after u has finished. Order within one
// GPU stream is expressed by edges too, so the graph alone fixes what may run when.
// The graph knows nothing of transformers: compute tasks have seconds, transfers have bytes.
#pragma once

#include <string>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "core/collective_op.h"
#include "schedule/phase.h"

namespace mhc {

enum class Stream { compute, comm, high_priority };
enum class NodeKind { compute, transfer, collective };

struct TaskNode {
  std::string name;  // readable, unique: "r3 F mb7 c0", "pp r3->r4 mb7 c0 fwd"
  NodeKind kind = NodeKind::compute;

  // compute: runs on `gpu`'s `stream` for `seconds` when alone on the GPU. What it demands decides
  // how it shares the GPU with concurrent kernels (engine/gpu_share.h): `sm_share` is the mean
  // fraction of the GPU's SMs its kernels occupy at full speed (time-weighted over its kernels: a
  // GEMM fills the GPU, a memory-bound kernel needs the SMs that sustain its bandwidth), `hbm_bytes`
  // the DRAM bytes (read + written) its kernels move. The defaults are a kernel that fills the GPU
  // and moves nothing.
  int gpu = -1;
  Stream stream = Stream::compute;
  double seconds = 0.0;
  double sm_share = 1.0;
  double hbm_bytes = 0.0;

  // transfer: `bytes` from src_gpu to dst_gpu (pipeline send/recv).
  int src_gpu = -1;
  int dst_gpu = -1;
  double bytes = 0.0;

  // collective: `op` over `group` (GPU ids); `bytes` is the per-GPU buffer size as NCCL counts it.
  CollectiveOp op = CollectiveOp::all_reduce;
  std::vector<int> group;
  // all-to-all by the rail algorithm (DeepEP): the per-GPU bytes that cross the network (to the GPU
  // with the same index on each other node, evenly) and NVLink (to each other GPU of its node,
  // evenly), from cost/moe_traffic.h; both < 0: the algorithm's even spread of `bytes`.
  double rail_network_bytes = -1.0;
  double rail_nvlink_bytes = -1.0;
  // The share of each link's rate the rail all-to-all reaches (DeepEP's published figures,
  // cost/deepep_calibration.h); 1 = the link's rate.
  double rail_network_efficiency = 1.0;
  double rail_nvlink_efficiency = 1.0;

  // transfer, collective: SMs its communication kernel holds on each GPU while it moves data there
  // (NCCL channels, DeepEP's SM count); 0 takes the cluster's comm_sms.
  int comm_sms = 0;

  // Report class: "compute", "mhc", "pp", "dp", "ep", "tp", ... (free-form, used for breakdowns).
  std::string category = "compute";

  // Schedule identity; -1 where not applicable. For FB pairs, micro/chunk are the forward half and
  // micro2/chunk2 the backward half.
  Phase phase = Phase::none;
  int rank = -1;
  int micro = -1;
  int chunk = -1;
  int micro2 = -1;
  int chunk2 = -1;
  // A schedule task split into its FSDP units (ZeRO-3, graph/step_graph.h) or, for overlapped DP
  // buckets, its layers: the block this piece computes (0 = the stage's first); -1 for a whole task. A forward opens the micro-batch's
  // activations at the start of its unit 0, a backward frees them at the end of its unit 0.
  int unit = -1;
};

// The name of the MoE all-to-all a compute task launches: how reports find a DualPipe pair's
// all-to-all (graph/evaluator.h overlapped_pairs).
inline std::string all_to_all_name(const std::string& task) { return task + " a2a"; }

using TaskGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, TaskNode>;
using TaskId = TaskGraph::vertex_descriptor;

// Start and end of every task (indexed by TaskId) from an evaluator or the engine.
struct TaskTiming {
  double start = 0.0;
  double end = 0.0;
};

inline const char* to_string(Stream s) {
  switch (s) {
    case Stream::compute: return "compute";
    case Stream::comm: return "comm";
    default: return "high_priority";
  }
}

}  // namespace mhc
