// Runs a TaskGraph on a simulated cluster in SimGrid and records when every task ran.
//
// Model (details in engine_run.cpp):
// - Every GPU has three streams (Stream enum). A task starts as soon as all its predecessors have
//   ended (stream order is expressed by edges), so streams overlap unless the graph orders them.
// - Compute: a task of s seconds is s units of work on the GPU. Kernels running at the same time on
//   one GPU (compute and high-priority streams) share the GPU's rate in proportion to their weight:
//   1 for the compute stream, EngineOptions::high_priority_weight for the high-priority stream
//   (default 1: an even split, the work-conserving reading of two streams competing for SMs).
// - While any communication task (transfer or collective) involving a GPU is active, from the
//   moment it may start until it ends (NCCL's kernel is resident for that whole time), that GPU
//   computes at (1 - ClusterSpec::comm_sm_fraction) of its speed.
// - Transfer: one flow src -> dst: route latency + bytes / bandwidth when alone; concurrent flows
//   share links max-min fairly (SimGrid CM02, see platform.h). No NCCL latency is added.
// - Collective: NCCL's latency term, then the algorithm's flows (collectives.h); the task ends when
//   its last flow ends.
// - Network settings: CM02 with crosstraffic 0 (no reverse traffic) and TCP-gamma 1e9 B (the TCP
//   window cap gamma/(2 x latency) lands far above every link; gamma 0 would also remove it but makes
//   SimGrid ignore Comm::set_rate, which LL's bandwidth cap needs), so a lone transfer takes exactly
//   latency + bytes/bandwidth; every route has the same raw latency for SimGrid's sharing weights
//   and its real latency restored per route (SIMGRID-NOTES "RTT-unfairness").
// Each simulate() runs SimGrid in a fork()ed child (SimGrid allows one simulation per process) and
// returns the result through a pipe; errors in the child come back as exceptions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cluster.h"
#include "collectives.h"
#include "task_graph.h"

namespace mhc {

struct EngineOptions {
  // Simulate one representative of each set of identical, independent replicas (see fold.h) and
  // copy its timings; false runs every GPU.
  bool fold_replicas = true;
  CollectiveOptions collective;       // algorithm/protocol override for every collective
  double high_priority_weight = 1.0;  // share of a high-priority kernel against a compute kernel
  bool in_process = false;            // run SimGrid in this process (only once per process!)
};

struct EngineResult {
  std::vector<TaskTiming> timings;  // indexed by TaskId of the input graph
  double makespan_s = 0.0;
  // Payload bytes each category put on the network (transfers: bytes; collectives: the sum of their
  // flows' data bytes, protocol overhead excluded).
  std::map<std::string, double> bytes_by_category;
  // The same bytes by the class of link they crossed: a flow counts once in "nvlink" if its route
  // uses NVLink, once in "nic" if it leaves its node, once in "fabric" if it crosses the spine.
  std::map<std::string, double> bytes_by_link_class;
  // For every compute or high-priority task C on GPU g: the wait W = start(C) - max(end of C's
  // non-communication predecessors, 0) when positive, i.e. time C could have started but waited
  // for communication; W is charged to the category of the communication predecessor that ended
  // last. Summed over all tasks of all GPUs (GPU-seconds; divide by the GPU count for a mean).
  std::map<std::string, double> exposed_comm_s_by_category;
  double wall_seconds = 0.0;  // host time of simulate()
  long activities = 0;        // SimGrid activities started (execs, flows, timers, wake-ups)
  int simulated_gpus = 0;     // GPUs that ran in SimGrid (fewer than the cluster when folded)
};

EngineResult simulate(const ClusterSpec& cluster, const TaskGraph& graph, const EngineOptions& options);

// Fills exposed_comm_s_by_category of `result` from its timings (used by simulate()).
void compute_exposed_comm(const TaskGraph& graph, EngineResult& result);

// The simulation proper, in this process; simulate() calls it in its child.
EngineResult simulate_here(const ClusterSpec& cluster, const TaskGraph& graph, const EngineOptions& options);

// Binary form of an EngineResult for the pipe.
std::string serialize_result(const EngineResult& r);
EngineResult deserialize_result(const std::string& bytes);

}  // namespace mhc
