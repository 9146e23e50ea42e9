// What the engine takes besides the graph (EngineOptions) and what it gives back (EngineResult): plain
// data, shared by the simulation, the folding of replicas and the result's binary form.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/collectives.h"
#include "graph/task_graph.h"

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

}  // namespace mhc
