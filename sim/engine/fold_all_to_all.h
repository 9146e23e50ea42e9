// Folding an all-to-all by the symmetry of its members (EngineOptions::fold_all_to_all).
//
// In an all-to-all every member sends the same bytes to the others by the same pattern, so every
// member's ports carry the same load. Keeping only the flows into and out of one member (the one
// that computes: the folded step graph holds one GPU per EP group) leaves that member's ports loaded
// as in the full operation; each kept flow's bottleneck is one of those ports (the other end's port
// carries fewer flows than it would, never more), so it moves at the same rate and the operation
// ends at the same time, while the engine creates 2 (p - 1) flows instead of p (p - 1). Its HBM
// and SM draw on that member is what it really is (its own sends and receives).
//
// Exact when: the other members run no compute (they stand for replicas that are not simulated);
// each member on a node leaves by its own NIC (shared NICs would carry several members' flows); and
// the fabric is not oversubscribed (a leaf's uplinks then never bind). Elsewhere the operation runs
// whole. What it gives up: other traffic on the other members' links (a DP reduction, another
// group's all-to-all) meets fewer all-to-all flows there than it would.
#pragma once

#include <vector>

#include "engine/collectives.h"
#include "engine/platform.h"
#include "graph/task_graph.h"

namespace mhc {

// Whether all-to-all `t` may run as the flows of its member t.gpu (the conditions above);
// `computes[g]`: GPU g runs compute tasks in the graph.
bool all_to_all_folds(const Topology& topology, const TaskNode& t, const std::vector<char>& computes);

// Keeps the flows of `plan` that start or end at `gpu`.
void keep_flows_of(int gpu, CollectivePlan& plan);

}  // namespace mhc
