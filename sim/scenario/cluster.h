// A cluster as the scenario describes it (clusters/*.json): nodes of GPUs behind an NVLink switch,
// NICs into an inter-node fabric. The platform stage turns this into a SimGrid platform.
#pragma once

#include <string>
#include <vector>

#include "core/collective_op.h"
#include "scenario/deepep_measurement.h"

namespace mhc {

class JsonObject;
class JsonValue;

struct LinkSpec {
  double bandwidth_Bps = 0.0;  // one direction, bytes per second
  double latency_s = 0.0;
};

enum class FabricTopology { fat_tree, rail_optimized, multi_plane };

// One published nccl-tests result on this cluster's hardware ("nccl_measured"): the bus bandwidth
// nccl-tests reported for `op` on `gpus` GPUs (the cluster's first ones, whole nodes first) and a
// buffer of `bytes`. The engine turns each into an efficiency against NCCL's tuner for the link kind
// the group uses (engine/nccl_calibration.h).
struct NcclMeasurement {
  std::string id;       // the accuracy suite's case id for the same figure (held out when it is checked)
  std::string link;     // "nvlink" (one node) or "network" (several nodes)
  CollectiveOp op = CollectiveOp::all_reduce;
  int gpus = 0;
  double bytes = 0.0;
  double busbw_Bps = 0.0;
  std::string source;   // the primary source
  std::string pointer;  // JSON path of the entry, for messages
};

struct ClusterSpec {
  std::string name;
  std::string file;     // where it was read from, for messages and provenance
  std::string pointer;  // where the cluster object sits in `file`: "" for a cluster file, "/cluster" inline
  int nodes = 0;
  int gpus_per_node = 0;

  // The GPU: its kind, which measured profile prices it (profiles/<gpu>.json, relative to the
  // repository or absolute), and its memory capacity.
  std::string gpu;             // "H100-SXM", "H800", "H200"
  std::string profile;         // profile file path (measured or reference: it gives the ceilings)
  // Published profile parts priced beside it ("profile": [measured, published...]; profiles/SCHEMA.md).
  std::vector<std::string> published_parts;
  std::string profile_note;    // why this profile stands for this GPU (e.g. "H800 = H100 SXM compute")
  double gpu_memory_bytes = 0.0;
  // When the profile was measured on a GPU with the same SMs but other HBM (H200 priced on an H100
  // profile): the two GPUs' HBM bandwidths as their datasheets give them. Memory-bound kernels and the
  // copy ceiling are scaled by this GPU's over the profiled one's (cost/scenario_profile.h); 1 = none.
  double profile_hbm_scale = 1.0;
  std::string profile_hbm_source;

  LinkSpec nvlink;  // per GPU to the node switch, one direction
  int nics_per_node = 0;
  LinkSpec nic;     // per NIC, one direction

  FabricTopology topology = FabricTopology::fat_tree;
  int planes = 1;                 // multi_plane: independent fabrics (NIC i of every node on plane i % planes)
  double oversubscription = 1.0;  // leaf uplink capacity = downlink capacity / oversubscription
  int nodes_per_leaf = 0;         // nodes under one leaf switch (per plane / rail)
  LinkSpec fabric_hop;            // switch-to-switch links' latency (bandwidth derived from NICs)

  // The GPU's streaming multiprocessors, and how many of them a communication kernel holds while it
  // moves data (DeepSeek-V3, arXiv 2412.19437 section 3.2.2: 20 of 132 SMs for communication). The
  // engine shares the rest between concurrent kernels (engine/gpu_share.h).
  int sms = 0;
  int comm_sms = 0;

  // Published nccl-tests results that put NCCL's achieved bandwidth on measurement (empty: NCCL's
  // tuner estimate, which the engine then uses as is).
  std::vector<NcclMeasurement> nccl_measured;
  // Published DeepEP benchmark figures that put the rail all-to-all's achieved bandwidth per link
  // class on measurement (cost/deepep_calibration.h; empty: the links' rates as they are).
  std::vector<DeepEpMeasurement> deepep_measured;

  int total_gpus() const { return nodes * gpus_per_node; }
};

// Reads a cluster object (the whole file, or a scenario's inline "cluster"). `base_dir` resolves a
// relative profile path. Throws InputError.
ClusterSpec parse_cluster(JsonObject obj, const std::string& base_dir);
ClusterSpec load_cluster_file(const std::string& path);

// "profile" (a cluster's gpu.profile or a scenario's override): one file, or a list whose first file
// is measured (or reference) and the rest published parts. Relative to `base`; every file must exist.
void parse_profile_list(const JsonValue& v, const std::string& base, std::string& main,
                        std::vector<std::string>& published);

}  // namespace mhc
