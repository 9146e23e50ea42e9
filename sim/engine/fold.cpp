// Folding identical independent parts of a task graph (see fold.h).
#include "engine/fold.h"

#include <map>
#include <numeric>
#include <set>
#include <tuple>
#include <unordered_map>

#include "engine/collectives.h"
#include "engine/platform.h"

namespace mhc {
namespace {

class UnionFind {
 public:
  explicit UnionFind(size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), size_t{0}); }
  size_t find(size_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void join(size_t a, size_t b) {
    a = find(a), b = find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<size_t> parent_;
};

template <class T>
void put(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}

}  // namespace

FoldedGraph fold_replicas(const ClusterSpec& cluster, const TaskGraph& g) {
  const size_t n = boost::num_vertices(g);
  Topology topo(cluster);
  UnionFind uf(n);
  const bool fabric_can_limit = cluster.oversubscription > 1.0;
  std::unordered_map<long, size_t> first_user;  // GPU (as -1-g) or link index -> first task
  auto share = [&](long key, size_t v) {
    auto [it, fresh] = first_user.emplace(key, v);
    if (!fresh) uf.join(it->second, v);
  };
  // The links of the route src -> dst that can limit a flow, each passed to `use`.
  std::vector<int> links;
  auto for_limiting_links = [&](int src, int dst, const auto& use) {
    if (src == dst) return;
    double lat;
    topo.route(src, dst, links, lat);
    for (int l : links)
      if (fabric_can_limit || topo.links()[l].cls != LinkClass::fabric) use(l);
  };
  std::map<std::tuple<int, std::vector<int>, double>, std::vector<int>> links_of;
  for (size_t v = 0; v < n; ++v) {
    const TaskNode& t = g[v];
    for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) uf.join(v, boost::target(*e, g));
    switch (t.kind) {
      case NodeKind::compute: share(-1 - t.gpu, v); break;
      case NodeKind::transfer:
        share(-1 - t.src_gpu, v);
        share(-1 - t.dst_gpu, v);
        if (t.bytes > 0) for_limiting_links(t.src_gpu, t.dst_gpu, [&](int l) { share(l, v); });
        break;
      case NodeKind::collective: {
        for (int m : t.group) share(-1 - m, v);
        if (t.bytes <= 0 || t.group.size() < 2) break;
        // The links an operation on this group can use, found once per (operation, group, size): a
        // stage's all-to-all repeats in every micro-batch.
        auto [it, fresh] = links_of.try_emplace({static_cast<int>(t.op), t.group, t.bytes});
        if (fresh) {
          std::set<int> used;
          for (const Flow& f : plan_collective(topo, t.op, t.group, t.bytes).flows)
            for_limiting_links(f.src, f.dst, [&](int l) { used.insert(l); });
          it->second.assign(used.begin(), used.end());
        }
        for (int l : it->second) share(l, v);
        break;
      }
    }
  }
  // Components in order of their first task; each with its tasks in id order.
  std::map<size_t, std::vector<TaskId>> parts;
  for (size_t v = 0; v < n; ++v) parts[uf.find(v)].push_back(v);
  FoldedGraph f;
  if (parts.size() <= 1) {
    f.identity = true;
    return f;
  }

  const int gpn = cluster.gpus_per_node;
  const int npl = cluster.nodes_per_leaf > 0 ? std::min(cluster.nodes_per_leaf, cluster.nodes) : cluster.nodes;
  std::map<std::string, std::vector<TaskId>*> representative;  // signature -> representative's tasks
  f.stands_for.assign(n, 0);
  std::vector<TaskId> folded_id(n, static_cast<TaskId>(-1));
  std::vector<std::pair<std::vector<TaskId>*, std::vector<TaskId>*>> copies;  // (part, its representative)
  for (auto& [root, tasks] : parts) {
    std::unordered_map<TaskId, size_t> position;
    for (size_t i = 0; i < tasks.size(); ++i) position[tasks[i]] = i;
    std::unordered_map<int, int> local_gpu, local_node, local_group;
    std::string sig, placement;
    auto gpu_code = [&](int gpu) {
      auto [it, fresh] = local_gpu.emplace(gpu, static_cast<int>(local_gpu.size()));
      if (fresh) {
        int node = gpu / gpn, group = node / npl;
        auto nn = local_node.emplace(node, static_cast<int>(local_node.size())).first->second;
        auto gg = local_group.emplace(group, static_cast<int>(local_group.size())).first->second;
        int group_nodes = std::min(npl, cluster.nodes - group * npl);
        put(placement, gpu % gpn), put(placement, nn), put(placement, gg), put(placement, group_nodes);
      }
      put(sig, it->second);
    };
    for (TaskId v : tasks) {
      const TaskNode& t = g[v];
      put(sig, static_cast<int>(t.kind));
      put(sig, static_cast<int>(t.stream));
      put(sig, t.seconds);
      put(sig, t.sm_share);
      put(sig, t.hbm_bytes);
      put(sig, t.comm_sms);
      put(sig, t.bytes);
      put(sig, t.rail_network_bytes);
      put(sig, t.rail_nvlink_bytes);
      put(sig, t.rail_network_efficiency);
      put(sig, t.rail_nvlink_efficiency);
      put(sig, static_cast<int>(t.op));
      sig += t.category;
      sig.push_back('\0');
      if (t.kind == NodeKind::compute) gpu_code(t.gpu);
      if (t.kind == NodeKind::transfer) gpu_code(t.src_gpu), gpu_code(t.dst_gpu);
      if (t.kind == NodeKind::collective) {
        put(sig, t.group.size());
        for (int m : t.group) gpu_code(m);
      }
      std::vector<size_t> succ;
      for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) succ.push_back(position.at(boost::target(*e, g)));
      std::sort(succ.begin(), succ.end());
      put(sig, succ.size());
      for (size_t s : succ) put(sig, s);
    }
    sig += placement;
    auto [it, fresh] = representative.emplace(sig, &tasks);
    if (fresh) {
      for (TaskId v : tasks) {
        folded_id[v] = boost::add_vertex(g[v], f.graph);
        f.original.push_back(v);
        f.multiplicity.push_back(1.0);
      }
    } else {
      copies.push_back({&tasks, it->second});
    }
  }
  if (copies.empty()) {  // every part is unique
    FoldedGraph none;
    none.identity = true;
    return none;
  }
  for (size_t v = 0; v < n; ++v)
    if (folded_id[v] != static_cast<TaskId>(-1)) {
      f.stands_for[v] = folded_id[v];
      for (auto [e, end] = boost::out_edges(v, g); e != end; ++e)
        boost::add_edge(folded_id[v], folded_id[boost::target(*e, g)], f.graph);
    }
  for (auto& [part, rep] : copies)
    for (size_t i = 0; i < part->size(); ++i) {
      TaskId r = folded_id[(*rep)[i]];
      f.stands_for[(*part)[i]] = r;
      f.multiplicity[r] += 1.0;
    }
  return f;
}

EngineResult unfold_result(const TaskGraph& g, const FoldedGraph& fold, const EngineResult& folded) {
  EngineResult r = folded;
  const size_t n = boost::num_vertices(g);
  r.timings.assign(n, TaskTiming{});
  r.shares.assign(n, TaskShare{});
  for (size_t v = 0; v < n; ++v) {
    r.timings[v] = folded.timings[fold.stands_for[v]];
    if (!folded.shares.empty()) r.shares[v] = folded.shares[fold.stands_for[v]];
  }
  // Communication shares by GPU: each GPU takes those of the GPU that plays its part in the folded
  // run (the same position in the same task of its representative).
  r.comm_segments.clear();
  if (!folded.comm_segments.empty()) {
    std::map<int, int> representative;
    auto pair = [&](int gpu, int rep) { representative.emplace(gpu, rep); };
    for (size_t v = 0; v < n; ++v) {
      const TaskNode& t = g[v];
      const TaskNode& f = fold.graph[fold.stands_for[v]];
      if (t.kind == NodeKind::compute) pair(t.gpu, f.gpu);
      if (t.kind == NodeKind::transfer) pair(t.src_gpu, f.src_gpu), pair(t.dst_gpu, f.dst_gpu);
      if (t.kind == NodeKind::collective)
        for (size_t i = 0; i < t.group.size() && i < f.group.size(); ++i) pair(t.group[i], f.group[i]);
    }
    for (const auto& [gpu, rep] : representative) {
      auto it = folded.comm_segments.find(rep);
      if (it != folded.comm_segments.end()) r.comm_segments[gpu] = it->second;
    }
  }
  return r;
}

}  // namespace mhc
