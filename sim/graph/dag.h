// The schedule as a task graph: every rank's tasks in stream order plus the data dependencies between
// stages (activations forward, gradients backward), with a transfer node wherever a dependency
// crosses ranks. Checks: no cycle (a cycle is a deadlock, reported as a chain of task names), every
// micro-batch's F, B and W exactly once per model stage.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "graph/task_graph.h"
#include "schedule/schedule.h"

namespace mhc {

// Costs to turn a schedule into a graph; the lead supplies real times/bytes, tests supply unit times.
struct PipelineCosts {
  // Compute time of a task on a rank.
  std::function<double(int rank, const ScheduledTask&)> seconds;
  // Bytes sent from one rank to another for the half of a task that produces them: called with a
  // Phase::F task (the activation of micro/chunk/stage) or a Phase::B task (the input gradient).
  // May be empty: transfers then carry 0 bytes.
  std::function<double(int from_rank, int to_rank, const ScheduledTask&)> transfer_bytes;
  // Optional report class of a compute task ("compute" when empty).
  std::function<std::string(int rank, const ScheduledTask&)> category;
};

// Costs from unit-free phase times (PhaseTimes::seconds); transfers carry no bytes.
PipelineCosts phase_time_costs(const PhaseTimes& times);

// A point-to-point send the schedule implies: `sent` (Phase::F activation or Phase::B input
// gradient of micro/chunk/stage) goes from per_rank[from_rank][producer_index] to
// per_rank[to_rank][consumer_index]. Dependencies that stay on one rank are not listed.
struct PipelineTransfer {
  int from_rank = -1, to_rank = -1;
  size_t producer_index = 0, consumer_index = 0;
  ScheduledTask sent;
};
std::vector<PipelineTransfer> pipeline_transfers(const Schedule& schedule);

struct PipelineGraph {
  TaskGraph graph;
  std::vector<std::vector<TaskId>> task_vertex;  // [rank][index in per_rank]
  std::vector<TaskId> transfers;                 // every pipeline send/recv node
};

// gpu_of_rank[r] is the GPU (TaskNode::gpu) rank r runs on; empty means GPU r. All compute tasks go
// on Stream::compute. Transfer nodes sit between producer and consumer (category "pp").
PipelineGraph build_pipeline_graph(const Schedule& schedule, const PipelineCosts& costs,
                                   const std::vector<int>& gpu_of_rank);

struct DagCheck {
  bool ok = true;
  std::vector<std::string> problems;  // readable, one per problem (capped; see problem_count)
  size_t problem_count = 0;
  std::vector<TaskId> cycle;          // a dependency cycle if there is one (first task repeated last)
  std::string cycle_text;             // "r0 F mb1 ... -> pp r0->r1 ... -> ... -> r0 F mb1 ..."
};

// Acyclic, every schedule task present once, and every micro-batch has exactly one forward, one
// input-gradient and one weight-gradient computation (B+W, BW or the backward half of an FB) on every
// model stage. Graph nodes not from the schedule (phase none) are ignored by the count.
DagCheck check_graph(const TaskGraph& graph, const Schedule& schedule);

// Any dependency cycle (empty if the graph is acyclic), as a closed chain of vertices.
std::vector<TaskId> find_cycle(const TaskGraph& graph);
std::string describe_cycle(const TaskGraph& graph, const std::vector<TaskId>& cycle);

// Kahn topological order; throws DeadlockError (with the cycle) if the graph has a cycle.
class DeadlockError : public std::runtime_error {
 public:
  DeadlockError(std::vector<TaskId> cycle, const std::string& text)
      : std::runtime_error("deadlock: dependency cycle " + text), cycle_(std::move(cycle)) {}
  const std::vector<TaskId>& cycle() const { return cycle_; }

 private:
  std::vector<TaskId> cycle_;
};
std::vector<TaskId> topological_order(const TaskGraph& graph);

}  // namespace mhc
