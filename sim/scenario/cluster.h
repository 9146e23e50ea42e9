// A cluster as the scenario describes it (clusters/*.json): nodes of GPUs behind an NVLink switch,
// NICs into an inter-node fabric. The platform stage turns this into a SimGrid platform.
#pragma once

#include <string>
#include <vector>

namespace mhc {

class JsonObject;
class JsonValue;

struct LinkSpec {
  double bandwidth_Bps = 0.0;  // one direction, bytes per second
  double latency_s = 0.0;
};

enum class FabricTopology { fat_tree, rail_optimized, multi_plane };

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

  LinkSpec nvlink;  // per GPU to the node switch, one direction
  int nics_per_node = 0;
  LinkSpec nic;     // per NIC, one direction

  FabricTopology topology = FabricTopology::fat_tree;
  int planes = 1;                 // multi_plane: independent fabrics (NIC i of every node on plane i % planes)
  double oversubscription = 1.0;  // leaf uplink capacity = downlink capacity / oversubscription
  int nodes_per_leaf = 0;         // nodes under one leaf switch (per plane / rail)
  LinkSpec fabric_hop;            // switch-to-switch links' latency (bandwidth derived from NICs)

  // Communication kernels take SMs from compute (DeepSeek-V3: 20 of 132): while one runs on a GPU,
  // compute there proceeds at (1 - comm_sm_fraction) of its speed.
  double comm_sm_fraction = 0.0;

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
