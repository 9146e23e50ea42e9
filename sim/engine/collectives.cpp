// Flows of NCCL's algorithms; see collectives.h for the shapes.
#include "engine/collectives.h"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace mhc {
namespace {

// Group members by node, each node's members in ascending order, nodes ascending.
std::vector<std::vector<int>> members_by_node(const Topology& t, std::vector<int> group) {
  std::sort(group.begin(), group.end());
  std::vector<std::vector<int>> nodes;
  int last = -1;
  for (int g : group) {
    int n = t.node_of(g);
    if (n != last) nodes.emplace_back(), last = n;
    nodes.back().push_back(g);
  }
  return nodes;
}

// Accumulates data bytes per ordered GPU pair (one flow per pair).
class FlowSet {
 public:
  void add(int src, int dst, double data) {
    if (src != dst && data > 0) bytes_[{src, dst}] += data;
  }
  std::vector<Flow> flows(double efficiency, double cap) const {
    std::vector<Flow> out;
    out.reserve(bytes_.size());
    for (const auto& [pair, data] : bytes_)
      out.push_back({pair.first, pair.second, data, data / efficiency, cap > 0 ? cap / efficiency : 0.0});
    return out;
  }

 private:
  std::map<std::pair<int, int>, double> bytes_;
};

void ring_flows(const std::vector<std::vector<int>>& nodes, int channels, double data, FlowSet& fs) {
  const int N = static_cast<int>(nodes.size());
  const int ppn = static_cast<int>(nodes[0].size());
  for (int c = 0; c < channels; ++c) {
    std::vector<int> order;
    order.reserve(static_cast<size_t>(N) * ppn);
    const int start = c * ppn / channels;
    for (int i = 0; i < N; ++i) {
      int entry = ((start - i) % ppn + ppn) % ppn;
      for (int j = 0; j < ppn; ++j) order.push_back(nodes[i][(entry + j) % ppn]);
    }
    for (size_t k = 0; k < order.size(); ++k) fs.add(order[k], order[(k + 1) % order.size()], data / channels);
  }
}

void tree_flows(const std::vector<std::vector<int>>& nodes, int channels, double bytes, FlowSet& fs) {
  const int N = static_cast<int>(nodes.size());
  const int ppn = static_cast<int>(nodes[0].size());
  const double share = bytes / channels;
  for (int c = 0; c < channels; ++c) {
    const int start = c * ppn / channels;
    auto member = [&](int node, int j) { return nodes[node][(start + j) % ppn]; };
    for (int i = 0; i < N; ++i)
      for (int j = 0; j + 1 < ppn; ++j) {  // chain inside the node: reduce up, broadcast down
        fs.add(member(i, j + 1), member(i, j), share);
        fs.add(member(i, j), member(i, j + 1), share);
      }
    // NCCL's double binary tree: half of the channel's data on a binary tree over the nodes, half
    // on its mirror image, so a node that is interior in one is a leaf in the other.
    for (int tree = 0; tree < 2; ++tree)
      for (int k = 1; k < N; ++k) {
        int child = k, parent = (k - 1) / 2;
        if (tree == 1) child = N - 1 - child, parent = N - 1 - parent;
        fs.add(member(child, 0), member(parent, 0), share / 2);
        fs.add(member(parent, 0), member(child, 0), share / 2);
      }
  }
}

double max_wire_latency(const Topology& t, const std::vector<Flow>& flows) {
  double m = 0.0;
  for (const Flow& f : flows) m = std::max(m, t.route_latency(f.src, f.dst));
  return m;
}

}  // namespace

CollectivePlan plan_collective(const Topology& t, CollectiveOp op, const std::vector<int>& group, double bytes,
                               const CollectiveOptions& o, const RailBytes& rail) {
  CommGroupShape shape = group_shape(t.cluster(), group);
  CollectivePlan plan;
  std::optional<NcclAlgo> algo = op == CollectiveOp::all_to_all && o.all_to_all_algo ? o.all_to_all_algo : o.algo;
  plan.choice = nccl_select(op, shape, bytes, algo ? &*algo : nullptr, o.proto ? &*o.proto : nullptr);
  if (!plan.choice.valid)
    throw std::invalid_argument(std::string("NCCL cannot run ") + to_string(op) + " with the requested " +
                                "algorithm/protocol on this group");
  if (shape.ranks < 2 || bytes <= 0) return plan;
  const NcclAlgo a = plan.choice.algo;
  const NcclProto p = plan.choice.proto;
  auto nodes = members_by_node(t, group);
  FlowSet fs;
  FlowSet rail_network;  // the rail all-to-all's network flows when RailBytes sets their efficiency
  const int P = shape.ranks;
  switch (a) {
    case NcclAlgo::ring: {
      double steps = op == CollectiveOp::all_reduce ? 2.0 * (P - 1) : P - 1.0;
      ring_flows(nodes, ring_channels(shape), bytes * steps / P, fs);
      break;
    }
    case NcclAlgo::tree: tree_flows(nodes, ring_channels(shape), bytes, fs); break;
    case NcclAlgo::nvls: {
      // Up to the switch and back: in flow terms every GPU's up and down links carry the buffer once.
      const auto& m = nodes[0];
      for (size_t i = 0; i < m.size(); ++i) fs.add(m[i], m[(i + 1) % m.size()], bytes);
      break;
    }
    case NcclAlgo::direct: {
      std::vector<int> all(group.begin(), group.end());
      for (int s : all)
        for (int d : all) fs.add(s, d, bytes / P);
      break;
    }
    case NcclAlgo::rail: {
      const int N = static_cast<int>(nodes.size());
      const int ppn = static_cast<int>(nodes[0].size());
      if (rail.set()) {
        if (!(rail.network_efficiency > 0) || !(rail.nvlink_efficiency > 0))
          throw std::invalid_argument("the rail all-to-all's link efficiencies must be above 0");
        for (int i = 0; i < N; ++i)
          for (int j = 0; j < ppn; ++j) {
            for (int k = 0; k < ppn; ++k) fs.add(nodes[i][j], nodes[i][k], rail.nvlink / std::max(1, ppn - 1));
            for (int d = 0; d < N; ++d)
              if (d != i) rail_network.add(nodes[i][j], nodes[d][j], rail.network / std::max(1, N - 1));
          }
        break;
      }
      for (int i = 0; i < N; ++i)
        for (int j = 0; j < ppn; ++j) {
          for (int k = 0; k < ppn; ++k) fs.add(nodes[i][j], nodes[i][k], bytes * N / P);
          for (int d = 0; d < N; ++d)
            if (d != i) fs.add(nodes[i][j], nodes[d][j], bytes * ppn / P);
        }
      break;
    }
  }
  // NCCL's measured efficiency for this link kind and algorithm (1 where nothing was measured); the
  // DeepEP-style rail all-to-all is not NCCL's.
  double measured = 1.0;
  if (a != NcclAlgo::rail) {
    const NcclCalibration& cal = o.calibration ? *o.calibration : t.nccl_calibration();
    measured = cal.efficiency(shape.nodes == 1 ? LinkKind::nvlink : LinkKind::network, a);
  }
  const double efficiency = wire_efficiency(a, p, shape.nodes) * measured;
  const double cap = bus_bw_cap_Bps(a, p, shape.nodes);
  plan.flows = fs.flows(efficiency * (rail.set() && a == NcclAlgo::rail ? rail.nvlink_efficiency : 1.0), cap);
  for (const Flow& f : rail_network.flows(efficiency * rail.network_efficiency, cap)) plan.flows.push_back(f);
  plan.latency_s = std::max(0.0, plan.choice.latency_s - max_wire_latency(t, plan.flows));
  return plan;
}

CollectivePlan plan_sendrecv(const Topology& t, int src, int dst, double bytes, const CollectiveOptions& o) {
  if (src == dst) throw std::invalid_argument("send/recv needs two different GPUs");
  bool same = t.node_of(src) == t.node_of(dst);
  double bw = t.route_bandwidth(src, dst);
  CollectivePlan plan;
  for (NcclProto p : {NcclProto::ll, NcclProto::ll128, NcclProto::simple}) {
    if (o.proto && *o.proto != p) continue;
    NcclEstimate e = nccl_sendrecv_estimate(same, bw, p, bytes);
    if (!plan.choice.valid || e.time_s < plan.choice.time_s) plan.choice = e;
  }
  double eff = wire_efficiency(NcclAlgo::direct, plan.choice.proto, same ? 1 : 2);
  double cap = bus_bw_cap_Bps(NcclAlgo::direct, plan.choice.proto, same ? 1 : 2);
  plan.flows.push_back({src, dst, bytes, bytes / eff, cap > 0 ? cap / eff : 0.0});
  plan.latency_s = std::max(0.0, plan.choice.latency_s - t.route_latency(src, dst));
  return plan;
}

}  // namespace mhc
