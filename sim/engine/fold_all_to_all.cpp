#include "engine/fold_all_to_all.h"

#include <algorithm>
#include <map>
#include <set>

namespace mhc {

bool all_to_all_folds(const Topology& topology, const TaskNode& t, const std::vector<char>& computes) {
  const ClusterSpec& c = topology.cluster();
  if (t.group.size() < 3 || std::find(t.group.begin(), t.group.end(), t.gpu) == t.group.end()) return false;
  if (c.oversubscription > 1.0) return false;
  std::map<int, std::set<int>> nics_by_node;  // the NICs the members use, per node
  std::map<int, int> members_by_node;
  for (int g : t.group) {
    if (g != t.gpu && computes[size_t(g)]) return false;
    const int node = topology.node_of(g);
    nics_by_node[node].insert(nic_of_local_gpu(c, g % c.gpus_per_node));
    ++members_by_node[node];
  }
  if (members_by_node.size() > 1)  // the network carries some of it: one NIC per member
    for (const auto& [node, members] : members_by_node)
      if (nics_by_node[node].size() != size_t(members)) return false;
  return true;
}

void keep_flows_of(int gpu, CollectivePlan& plan) {
  std::erase_if(plan.flows, [gpu](const Flow& f) { return f.src != gpu && f.dst != gpu; });
}

}  // namespace mhc
