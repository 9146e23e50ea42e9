// NCCL's tuner in closed form. Constants: NVIDIA/nccl src/graph/tuning.cc (NCCL 2.23: baseLat, hwLat,
// the per-link bandwidths) and src/graph/topo.h. Latencies are in microseconds there and in seconds here.
#include "engine/nccl_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

#include "core/json_input.h"
#include "scenario/cluster.h"

namespace mhc {
namespace {

constexpr double us = 1e-6;
constexpr double GBps = 1e9;
constexpr double inf = std::numeric_limits<double>::infinity();

int proto_index(NcclProto p) { return p == NcclProto::ll ? 0 : p == NcclProto::ll128 ? 1 : 2; }

// baseLat[algo][proto] (us): tree {6.8, 14.0, 8.4}, ring {6.6, 14.0, 8.4}.
constexpr double kBaseTree[3] = {6.8, 14.0, 8.4};
constexpr double kBaseRing[3] = {6.6, 14.0, 8.4};
// hwLat per hop (us), NVLink and network, tree and ring.
constexpr double kNvlTree[3] = {0.6, 1.25, 4.0};
constexpr double kNvlRing[3] = {0.6, 1.9, 3.4};
constexpr double kNetTree[3] = {5.0, 8.5, 14.0};
constexpr double kNetRing[3] = {2.7, 4.0, 14.0};
constexpr double kNvlsLat = 25.0;      // hwLat NVLink NVLS (Simple); NVLS latency is this alone
constexpr double kNetOverhead = 1.0;   // per network step on x86/Intel, x3 for Simple

int log2i(int n) {
  int l = 0;
  while (n >>= 1) ++l;
  return l;
}

int steps(CollectiveOp op, int n) { return op == CollectiveOp::all_reduce ? 2 * (n - 1) : n - 1; }

}  // namespace

const char* to_string(NcclAlgo a) {
  switch (a) {
    case NcclAlgo::ring: return "ring";
    case NcclAlgo::tree: return "tree";
    case NcclAlgo::nvls: return "nvls";
    case NcclAlgo::direct: return "direct";
    default: return "rail";
  }
}

const char* to_string(NcclProto p) {
  switch (p) {
    case NcclProto::ll: return "LL";
    case NcclProto::ll128: return "LL128";
    default: return "Simple";
  }
}

NcclAlgo parse_nccl_algo(const std::string& text, const std::string& where) {
  if (text == "ring") return NcclAlgo::ring;
  if (text == "tree") return NcclAlgo::tree;
  if (text == "nvls") return NcclAlgo::nvls;
  if (text == "direct") return NcclAlgo::direct;
  if (text == "rail") return NcclAlgo::rail;
  throw InputError(where, "", "unknown algorithm '" + text + "' (expected ring, tree, nvls, direct or rail)");
}

NcclProto parse_nccl_proto(const std::string& text, const std::string& where) {
  if (text == "LL" || text == "ll") return NcclProto::ll;
  if (text == "LL128" || text == "ll128") return NcclProto::ll128;
  if (text == "Simple" || text == "simple") return NcclProto::simple;
  throw InputError(where, "", "unknown protocol '" + text + "' (expected LL, LL128 or Simple)");
}

int nic_of_local_gpu(const ClusterSpec& c, int local_gpu) {
  if (c.nics_per_node <= 0) return 0;
  return static_cast<int>(static_cast<long>(local_gpu) * c.nics_per_node / c.gpus_per_node);
}

std::vector<int> first_gpus(const ClusterSpec& c, int ranks) {
  if (ranks < 1 || ranks > c.total_gpus())
    throw std::invalid_argument("group of " + std::to_string(ranks) + " GPUs on a cluster of " +
                                std::to_string(c.total_gpus()));
  std::vector<int> g(ranks);
  for (int i = 0; i < ranks; ++i) g[i] = i;
  return g;
}

CommGroupShape group_shape(const ClusterSpec& c, const std::vector<int>& gpus) {
  if (gpus.empty()) throw std::invalid_argument("empty communication group");
  std::set<int> seen;
  std::map<int, std::set<int>> nics_by_node;
  std::map<int, int> count_by_node;
  for (int g : gpus) {
    if (g < 0 || g >= c.total_gpus()) throw std::invalid_argument("GPU " + std::to_string(g) + " outside the cluster");
    if (!seen.insert(g).second) throw std::invalid_argument("GPU " + std::to_string(g) + " twice in a group");
    int node = g / c.gpus_per_node;
    ++count_by_node[node];
    nics_by_node[node].insert(nic_of_local_gpu(c, g % c.gpus_per_node));
  }
  CommGroupShape s;
  s.ranks = static_cast<int>(gpus.size());
  s.nodes = static_cast<int>(count_by_node.size());
  s.ranks_per_node = s.ranks / s.nodes;
  for (auto& [node, n] : count_by_node)
    if (n != s.ranks_per_node) throw std::invalid_argument("communication group spreads unevenly over nodes");
  s.nics_per_node = static_cast<int>(nics_by_node.begin()->second.size());
  s.nvlink_bw_Bps = c.nvlink.bandwidth_Bps;
  s.nic_bw_Bps = c.nic.bandwidth_Bps;
  s.nvswitch = c.gpus_per_node > 2;  // SXM nodes: NVLink switch (NVLS) behind every GPU
  return s;
}

int ring_channels(const CommGroupShape& g) { return g.nodes == 1 ? 1 : std::max(1, g.nics_per_node); }

double wire_efficiency(NcclAlgo a, NcclProto p, int nodes) {
  switch (a) {
    case NcclAlgo::nvls: return 5.0 / 6.0;
    case NcclAlgo::tree:
      if (p == NcclProto::ll) return 0.92 / 3.8;
      if (p == NcclProto::ll128) return 0.92 * (nodes == 1 ? 7.0 / 9.0 : 120.0 / 128.0);
      return 0.92;
    default:  // ring and the pairwise flows of send/recv and all-to-all
      if (p == NcclProto::ll) return 0.5;
      if (p == NcclProto::ll128) return 0.92;
      return 1.0;
  }
}

double bus_bw_cap_Bps(NcclAlgo a, NcclProto p, int nodes) {
  if (p != NcclProto::ll || a == NcclAlgo::nvls) return 0.0;
  if (nodes == 1) return 141.0 * GBps;  // Hopper, one node
  return (nodes == 2 ? 39.0 : 20.4) * GBps;  // Intel hosts, 2 / more nodes
}

double bus_bw_factor(CollectiveOp op, int ranks) {
  if (ranks <= 1) return 0.0;
  if (op == CollectiveOp::all_reduce) return 2.0 * (ranks - 1) / ranks;
  return static_cast<double>(ranks - 1) / ranks;
}

namespace {

double effective(double raw, NcclAlgo a, NcclProto p, int nodes) {
  double bw = raw * wire_efficiency(a, p, nodes);
  double cap = bus_bw_cap_Bps(a, p, nodes);
  return cap > 0 ? std::min(bw, cap) : bw;
}

// Raw bus bandwidth of the ring the engine builds (ring_flows in collectives.cpp): C channels, each
// entering and leaving every node once through its own NIC; NVLink carries the rest.
double ring_raw_bus_bw(const CommGroupShape& g) {
  if (g.nodes == 1) return g.nvlink_bw_Bps;
  int C = ring_channels(g);
  double nic = C * g.nic_bw_Bps;
  if (g.ranks_per_node == 1) return nic;
  // Every GPU leaves its node in one channel when each GPU has its own NIC; otherwise some GPUs
  // only ever send over NVLink.
  double nvl_share = (C == g.ranks_per_node && C > 1) ? static_cast<double>(C - 1) / C : 1.0;
  return std::min(g.nvlink_bw_Bps / nvl_share, nic);
}

}  // namespace

NcclEstimate nccl_estimate(CollectiveOp op, const CommGroupShape& g, NcclAlgo algo, NcclProto proto,
                           double bytes) {
  NcclEstimate e;
  e.algo = algo;
  e.proto = proto;
  const int p = g.ranks, ppn = g.ranks_per_node, nodes = g.nodes, pi = proto_index(proto);
  if (p < 2) {  // nothing to move: any algorithm does it in no time
    e.valid = true;
    e.alg_bw_Bps = inf;
    return e;
  }
  double lat_us = 0.0, data = 0.0, bus = 0.0;
  switch (algo) {
    case NcclAlgo::ring: {
      if (op == CollectiveOp::all_to_all) return e;
      int nsteps = steps(op, p);
      int ninter = nodes == 1 ? 0 : steps(op, nodes);
      double intra = kNvlRing[pi];
      if (nodes > 1) intra = std::max(intra, kNetOverhead * (proto == NcclProto::simple ? 3.0 : 1.0));
      double inter = ppn == 1 ? kNetTree[pi] : kNetRing[pi];
      lat_us = kBaseRing[pi] + (nsteps - ninter) * intra + ninter * inter;
      data = bytes * nsteps / p;
      bus = effective(ring_raw_bus_bw(g), algo, proto, nodes);
      break;
    }
    case NcclAlgo::tree: {
      if (op != CollectiveOp::all_reduce || nodes < 2) return e;
      double inter = kNetTree[pi];
      lat_us = kBaseTree[pi] + 2.0 * ((ppn - 1) * kNvlTree[pi] + log2i(nodes) * inter);
      data = 2.0 * bytes;  // NCCL: algBw = busBw / 2
      double raw = std::min(g.nvlink_bw_Bps, ring_channels(g) * g.nic_bw_Bps);
      bus = effective(raw, algo, proto, nodes);
      break;
    }
    case NcclAlgo::nvls: {
      if (op != CollectiveOp::all_reduce || nodes != 1 || !g.nvswitch || proto != NcclProto::simple) return e;
      lat_us = kNvlsLat;
      data = bytes;  // each GPU sends its buffer to the switch once and reads the result once
      bus = effective(g.nvlink_bw_Bps, algo, proto, nodes);
      break;
    }
    case NcclAlgo::direct: {
      if (op != CollectiveOp::all_to_all) return e;
      lat_us = kBaseRing[pi] + (nodes > 1 ? kNetRing[pi] : kNvlRing[pi]);
      // Each GPU sends bytes/p to every peer: NVLink carries the same-node part, the GPU's share of
      // its node's NICs the rest; both run at once.
      double intra_bytes = bytes * (ppn - 1) / p;
      double inter_bytes = bytes * (p - ppn) / p;
      double nic_share = g.nics_per_node * g.nic_bw_Bps / ppn;
      double t = std::max(intra_bytes / effective(g.nvlink_bw_Bps, algo, proto, nodes),
                          inter_bytes > 0 ? inter_bytes / effective(nic_share, algo, proto, nodes) : 0.0);
      e.latency_s = lat_us * us;
      e.time_s = e.latency_s + t;
      e.alg_bw_Bps = t > 0 ? bytes / t : inf;
      e.valid = true;
      return e;
    }
    case NcclAlgo::rail: {
      if (op != CollectiveOp::all_to_all) return e;
      // Two hops: the network to the same-index GPU, then NVLink (priced like NCCL's p2p hops).
      lat_us = kBaseRing[pi] + (nodes > 1 ? kNetRing[pi] + kNvlRing[pi] : kNvlRing[pi]);
      // NVLink carries each GPU's same-node share plus what it forwards for the other nodes:
      // (ppn - 1) peers x nodes x bytes/p; its NIC carries (p - ppn)/p of the buffer.
      double nvl_bytes = bytes * (ppn - 1) * nodes / p;
      double inter_bytes = bytes * (p - ppn) / p;
      double nic_share = g.nics_per_node * g.nic_bw_Bps / ppn;
      double t = std::max(nvl_bytes / effective(g.nvlink_bw_Bps, NcclAlgo::direct, proto, nodes),
                          inter_bytes > 0 ? inter_bytes / effective(nic_share, NcclAlgo::direct, proto, nodes) : 0.0);
      e.latency_s = lat_us * us;
      e.time_s = e.latency_s + t;
      e.alg_bw_Bps = t > 0 ? bytes / t : inf;
      e.valid = true;
      return e;
    }
  }
  e.latency_s = lat_us * us;
  double t = data / bus;
  e.time_s = e.latency_s + t;
  e.alg_bw_Bps = t > 0 ? bytes / t : inf;
  e.valid = true;
  return e;
}

NcclEstimate nccl_sendrecv_estimate(bool same_node, double bw_Bps, NcclProto proto, double bytes) {
  NcclEstimate e;
  e.algo = NcclAlgo::direct;
  e.proto = proto;
  int pi = proto_index(proto);
  e.latency_s = (kBaseRing[pi] + (same_node ? kNvlRing[pi] : kNetRing[pi])) * us;
  double bw = effective(bw_Bps, NcclAlgo::direct, proto, same_node ? 1 : 2);
  e.time_s = e.latency_s + bytes / bw;
  e.alg_bw_Bps = bw;
  e.valid = true;
  return e;
}

NcclEstimate nccl_select(CollectiveOp op, const CommGroupShape& g, double bytes, const NcclAlgo* algo,
                         const NcclProto* proto) {
  NcclEstimate best;
  for (NcclAlgo a : {NcclAlgo::ring, NcclAlgo::tree, NcclAlgo::nvls, NcclAlgo::direct, NcclAlgo::rail}) {
    if (algo ? *algo != a : a == NcclAlgo::rail) continue;  // rail is not NCCL's: only on request
    for (NcclProto p : {NcclProto::ll, NcclProto::ll128, NcclProto::simple}) {
      if (proto && *proto != p) continue;
      NcclEstimate e = nccl_estimate(op, g, a, p, bytes);
      if (e.valid && (!best.valid || e.time_s < best.time_s)) best = e;
    }
  }
  return best;
}

}  // namespace mhc
