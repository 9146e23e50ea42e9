// Clusters and graphs built in code for the engine tests.
#pragma once

#include "graph/task_graph.h"
#include "scenario/cluster.h"

namespace mhc::test {

// H100-like numbers: NVLink 450 GB/s per direction, 400 Gb/s NICs (50 GB/s), one NIC per GPU.
inline ClusterSpec h100_cluster(int nodes, int gpus_per_node = 8, FabricTopology topology = FabricTopology::fat_tree,
                                int nodes_per_leaf = 0, double oversubscription = 1.0, int planes = 1) {
  ClusterSpec c;
  c.name = "test-h100";
  c.nodes = nodes;
  c.gpus_per_node = gpus_per_node;
  c.gpu = "H100-SXM";
  c.gpu_memory_bytes = 80e9;
  c.nvlink = {450e9, 1e-6};
  c.nics_per_node = gpus_per_node;
  c.nic = {50e9, 2e-6};
  c.topology = topology;
  c.planes = planes;
  c.oversubscription = oversubscription;
  c.nodes_per_leaf = nodes_per_leaf;
  c.fabric_hop = {0.0, 0.5e-6};
  c.sms = 132;
  c.comm_sms = 0;
  return c;
}

inline TaskId add_compute(TaskGraph& g, const std::string& name, int gpu, double seconds,
                          Stream stream = Stream::compute, double sm_share = 1.0, double hbm_bytes = 0.0) {
  TaskNode t;
  t.name = name;
  t.kind = NodeKind::compute;
  t.gpu = gpu;
  t.seconds = seconds;
  t.stream = stream;
  t.sm_share = sm_share;
  t.hbm_bytes = hbm_bytes;
  return boost::add_vertex(t, g);
}

inline TaskId add_transfer(TaskGraph& g, const std::string& name, int src, int dst, double bytes,
                           const std::string& category = "pp") {
  TaskNode t;
  t.name = name;
  t.kind = NodeKind::transfer;
  t.stream = Stream::comm;
  t.src_gpu = src;
  t.dst_gpu = dst;
  t.bytes = bytes;
  t.category = category;
  return boost::add_vertex(t, g);
}

inline TaskId add_collective(TaskGraph& g, const std::string& name, CollectiveOp op, std::vector<int> group,
                             double bytes, const std::string& category = "dp") {
  TaskNode t;
  t.name = name;
  t.kind = NodeKind::collective;
  t.stream = Stream::comm;
  t.op = op;
  t.group = std::move(group);
  t.bytes = bytes;
  t.category = category;
  return boost::add_vertex(t, g);
}

inline std::vector<int> range(int first, int count) {
  std::vector<int> v(count);
  for (int i = 0; i < count; ++i) v[i] = first + i;
  return v;
}

}  // namespace mhc::test
