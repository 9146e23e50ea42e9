// Prices a task graph without a platform: list scheduling in dependency order where every task starts
// as soon as all its predecessors have ended (stream order is an edge too, see task_graph.h), compute
// tasks take their `seconds`, transfers and collectives take 0. Per-rank statistics work on any
// timings (this evaluator's or the engine's).
#pragma once

#include <string>
#include <vector>

#include "graph/task_graph.h"

namespace mhc {

// Throws DeadlockError (dag.h) if the graph has a cycle.
std::vector<TaskTiming> evaluate_zero_cost(const TaskGraph& graph);

struct RankStats {
  int rank = 0;
  double busy = 0.0;      // sum of the rank's compute task durations (end - start), all streams
  double idle = 0.0;      // makespan minus the time at least one of its compute tasks runs
  double bubble = 0.0;    // makespan - busy
  double makespan = 0.0;  // of the whole graph (latest end; time starts at 0)
  int peak_activations = 0;  // most forward chunks whose backward (B, BW or FB half) has not ended
};

// Compute nodes count for node.rank (nodes with rank < 0 or >= ranks are ignored). Activations: +1 at
// the start of an F (or FB's forward half), -1 at the end of a B, BW (or FB's backward half); at equal
// times releases come first.
std::vector<RankStats> rank_stats(const TaskGraph& graph, const std::vector<TaskTiming>& timings, int ranks);

// A rank's overlapped pairs (DualPipe's FB tasks) beside the all-to-all each one launches (the
// collective named all_to_all_name(task), task_graph.h): what the pair's compute and its all-to-all
// take, and how much of the all-to-all runs past the compute. Ranks without FB tasks have pairs = 0.
struct PairStats {
  int rank = 0;
  int pairs = 0;               // FB tasks with an all-to-all
  double compute_s = 0.0;      // sum of their durations (end - start)
  double all_to_all_s = 0.0;   // sum of their all-to-alls' durations
  int all_to_all_bound = 0;    // pairs whose all-to-all ends after the compute
  double beyond_compute_s = 0.0;  // sum over pairs of max(0, all-to-all end - compute end)
};
std::vector<PairStats> overlapped_pairs(const TaskGraph& graph, const std::vector<TaskTiming>& timings, int ranks);

// Per rank, the schedule's chunk activations in time order: (chunk, +1) when a forward of the rank's
// `chunk` starts (F, FB's forward half), (chunk, -1) when its backward ends (B, BW, FB's backward
// half, chunk2); releases first at equal times. What memory weighs by each chunk's stage activations.
std::vector<std::vector<std::pair<int, int>>> live_chunk_events(const TaskGraph& graph,
                                                                const std::vector<TaskTiming>& timings, int ranks);

// The chain of tasks that ends last, each one preceded by the predecessor that ended latest.
std::vector<TaskId> critical_path(const TaskGraph& graph, const std::vector<TaskTiming>& timings);

// First edge u -> v with v starting before u ended (beyond a relative tolerance), or "" if none.
std::string dependency_violation(const TaskGraph& graph, const std::vector<TaskTiming>& timings);

// First pair of compute tasks on the same GPU and stream that overlap in time, or "" if none (a
// stream runs one task at a time; the graph must order them by edges).
std::string stream_overlap(const TaskGraph& graph, const std::vector<TaskTiming>& timings);

}  // namespace mhc
