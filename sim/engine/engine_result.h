// What the engine takes besides the graph (EngineOptions) and what it gives back (EngineResult): plain
// data, shared by the simulation, the folding of replicas and the result's binary form.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/collectives.h"
#include "engine/gpu_share.h"
#include "graph/task_graph.h"

namespace mhc {

// What the GPU model needs beyond the cluster (SMs come from ClusterSpec::sms and comm_sms).
struct GpuModelOptions {
  // HBM bandwidth the kernels share: the profile's copy ceiling, the same figure that priced the
  // memory-bound kernels (run/ sets it). 0 leaves HBM unmodelled (kernels share SMs only).
  double hbm_Bps = 0.0;
  // HBM bytes a communication kernel moves per payload byte. NCCL's maintainer (NVIDIA/nccl issue
  // #1428): network traffic costs "at least 2x" in memory bandwidth because NCCL stores it to memory
  // and reads it back, "3x" counting the user buffer. The receiver stores into its FIFO, reads it back
  // and writes the user buffer: 3. An NVLink sender reads the user buffer and stores straight into the
  // peer's FIFO: 1. A network sender also stages through a FIFO in its own memory that the NIC reads:
  // 3.
  double hbm_per_byte_received = 3.0;
  double hbm_per_byte_sent_nvlink = 1.0;
  double hbm_per_byte_sent_network = 3.0;
  bool record_segments = false;  // keep every share change (for the trace); costs memory
};

struct EngineOptions {
  // Simulate one representative of each set of identical, independent replicas (see fold.h) and
  // copy its timings; false runs every GPU.
  bool fold_replicas = true;
  // Simulate an all-to-all by its flows into and out of the member that computes (the task's gpu)
  // where every member is alike (fold_all_to_all.h): from p (p - 1) flows to 2 (p - 1), the same
  // timings; false runs every flow.
  bool fold_all_to_all = true;
  CollectiveOptions collective;  // algorithm/protocol override for every collective
  GpuModelOptions gpu;
  bool in_process = false;  // run SimGrid in this process (only once per process!)
  // Non-empty: a progress line on stderr every few seconds, naming this simulation (progress_line.h).
  std::string progress_label;
};

// How a compute task shared its GPU (gpu_share.h): its wall time is its `seconds` plus what it lost.
struct TaskShare {
  double lost_to_comm_s = 0.0;   // to communication kernels holding SMs and HBM
  double lost_to_corun_s = 0.0;  // to the other kernels running beside it
  double sm_seconds = 0.0;       // SMs held x time
  std::vector<GpuTimeline::Segment> segments;  // when recorded: SMs and HBM it held, over time
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
  // Both at once, keyed "category/class" ("ep/nic"): what the run scales per category.
  std::map<std::string, double> bytes_by_category_link_class;
  // GPU-seconds each category of communication held a compute stream idle: for every compute task,
  // the wait between its compute predecessors' end and its start, split at each instant between the
  // categories of its communication predecessors still unfinished then (engine/exposed_comm.h).
  // Summed over all tasks of all GPUs (divide by the GPU count for a mean).
  std::map<std::string, double> exposed_comm_s_by_category;
  std::vector<TaskShare> shares;  // by TaskId; zero for transfers and collectives
  // When recorded: SMs and HBM the communication kernels held on each GPU, over time.
  std::map<int, std::vector<GpuTimeline::Segment>> comm_segments;
  double wall_seconds = 0.0;  // host time of simulate()
  long activities = 0;        // SimGrid activities started (flows, latency timers, wake-ups) and GPU timers fired
  int simulated_gpus = 0;     // GPUs that ran in SimGrid (fewer than the cluster when folded)
};

}  // namespace mhc
