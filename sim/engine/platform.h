// The cluster as a network: links and routes computed from ClusterSpec (no XML, no route tables),
// and its SimGrid form. Topology is plain C++ (routes, latencies, link classes) so collectives and
// tests can use it without a simulation; build_simgrid_platform() turns it into hosts and links.
//
// Links, each one direction, latency carried by routes (see below):
//   nvlink_up[g] / nvlink_down[g]   GPU g to / from its node's NVLink switch (ClusterSpec::nvlink)
//   nic_up[n,k] / nic_down[n,k]     NIC k of node n to / from its leaf switch (ClusterSpec::nic)
//   leaf_up[L] / leaf_down[L]       leaf L to / from the spine layer, only when the fabric has more
//                                   than one leaf: capacity = sum of the leaf's NICs / oversubscription
//                                   (the leaf's uplinks aggregated into one: ideal ECMP spreading)
// Fabric: nodes_per_leaf nodes share a leaf (0: all nodes under one leaf).
//   fat_tree        every NIC of a node goes to its node group's leaf;
//   rail_optimized  NIC k of every node in a group goes to rail k's leaf; rails meet at the spine;
//   multi_plane     NIC k is on plane k % planes; planes never meet, so traffic between NICs on
//                   different planes first crosses NVLink to the GPU whose NIC is on the target's
//                   plane (PXN, as DeepSeek's multi-plane fat-tree forwards inside the node).
// GPU g uses NIC floor(local * nics_per_node / gpus_per_node).
// Route latency: same node nvlink.latency; other node nic.latency (+ nvlink.latency with PXN)
// + 2 x fabric_hop.latency when it crosses the spine.
#pragma once

#include <string>
#include <vector>

#include "engine/nccl_calibration.h"
#include "scenario/cluster.h"

namespace simgrid::s4u {
class Host;
}

namespace mhc {

enum class LinkClass { nvlink, nic, fabric };
const char* to_string(LinkClass c);

struct NetLink {
  std::string name;
  double bandwidth_Bps = 0.0;
  LinkClass cls = LinkClass::nvlink;
};

class Topology {
 public:
  // Throws InputError (file = cluster.file) when the cluster cannot be built.
  explicit Topology(const ClusterSpec& cluster);

  const ClusterSpec& cluster() const { return cluster_; }
  // NCCL's efficiency by link kind and algorithm from the cluster's nccl_measured (nccl_calibration.h).
  const NcclCalibration& nccl_calibration() const { return nccl_calibration_; }
  int gpus() const { return cluster_.total_gpus(); }
  int node_of(int gpu) const { return gpu / cluster_.gpus_per_node; }
  const std::vector<NetLink>& links() const { return links_; }

  // Links from src to dst (src != dst) into `out` (cleared) and the route's latency.
  void route(int src, int dst, std::vector<int>& out, double& latency_s) const;
  double route_latency(int src, int dst) const;
  // Bandwidth of a lone flow: the slowest link on the route.
  double route_bandwidth(int src, int dst) const;

 private:
  int nic_index(int node, int nic) const { return node * cluster_.nics_per_node + nic; }
  int leaf_of(int node, int nic) const;
  void fabric_route(int src_node, int src_nic, int dst_node, int dst_nic, std::vector<int>& out,
                    double& latency_s) const;

  ClusterSpec cluster_;
  NcclCalibration nccl_calibration_;
  std::vector<NetLink> links_;
  int nvl_up0_ = 0, nvl_down0_ = 0, nic_up0_ = 0, nic_down0_ = 0, leaf_up0_ = -1, leaf_down0_ = -1;
  int groups_ = 1, leaves_ = 1;
};

// SimGrid side; call inside a live simgrid::s4u::Engine, before any actor runs. Every GPU is a host
// (its actor runs there and its flows start there; its kernels are shared by the engine's own GPU
// model, engine/gpu_share.h, not by SimGrid). One extra host with many cores serves as a timer
// (latency terms). Network model: see engine.h.
// Only the GPUs in `gpus_used` become hosts and only the links with links_used[i] exist (building
// all 16384 hosts costs SimGrid seconds; a folded run needs a fraction). Every data flow's route
// must only cross used links; a route that crosses an unbuilt link (only the engine's zero-byte
// wake-ups do) goes over the target GPU's private control link instead.
struct SimPlatform {
  std::vector<simgrid::s4u::Host*> gpu_hosts;  // by GPU id; nullptr for GPUs not used
  simgrid::s4u::Host* timer_host = nullptr;
};
SimPlatform build_simgrid_platform(const Topology& topology, const std::vector<int>& gpus_used,
                                   const std::vector<bool>& links_used);

}  // namespace mhc
