// Folding identical replicas: the engine simulates one representative of every class of identical,
// independent parts of the task graph and copies its timings to the others.
//
// Parts are the connected pieces of the graph where tasks are joined by an edge, by running on a
// common GPU, or by sending over a common link that can limit them (every link, except fabric links
// when oversubscription <= 1: a leaf's uplink then has the capacity of all NICs under it and every
// flow through it also crosses one of those NICs, so it can never be the bottleneck). Two parts are
// identical when their tasks, edges, durations, bytes, collective shapes and the placement of their
// GPUs (local index inside the node, which nodes they share, which leaf groups they share and how
// large those are) match one for one. Independent parts of a max-min shared network and separate
// GPUs evolve independently, and identical ones identically, so the folded run gives exactly the
// unfolded timings (tests/test_engine_fold.cpp checks it).
// Not folded (owed): replicas joined by a collective that spans them, e.g. data-parallel replicas
// with their gradient all-reduce in the graph.
#pragma once

#include <vector>

#include "engine/engine_result.h"
#include "graph/task_graph.h"
#include "scenario/cluster.h"

namespace mhc {

struct FoldedGraph {
  bool identity = false;            // nothing folds: run the input graph itself (graph left empty)
  TaskGraph graph;                  // the representatives' tasks
  std::vector<TaskId> original;     // folded id -> id in the input graph
  std::vector<double> multiplicity; // folded id -> how many identical copies it stands for
  std::vector<TaskId> stands_for;   // input id -> folded id whose timing it takes
};

FoldedGraph fold_replicas(const ClusterSpec& cluster, const TaskGraph& graph);

// Timings for every task of `graph` from the folded run; byte totals are already weighted by
// multiplicity in `folded` (the engine weights them).
EngineResult unfold_result(const TaskGraph& graph, const FoldedGraph& fold, const EngineResult& folded);

}  // namespace mhc
