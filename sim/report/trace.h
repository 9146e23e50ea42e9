// Timelines of a timed task graph: a Chrome / Perfetto trace file (chrome://tracing, ui.perfetto.dev)
// and, for small schedules, an ASCII picture per rank.
#pragma once

#include <string>
#include <vector>

#include "graph/task_graph.h"
#include "run/run.h"

namespace mhc {

// How the engine shared each GPU (engine/gpu_share.h), for the trace: per compute task, by TaskId,
// and the communication kernels' SMs and HBM per GPU over time (segments recorded only when
// EngineOptions::gpu.record_segments was on).
struct TraceShares {
  const std::vector<TaskShare>* tasks = nullptr;
  const std::map<int, std::vector<GpuTimeline::Segment>>* comm = nullptr;
  double sms = 0.0;
};

// One process per GPU; one track per stream (compute, comm, high_priority), a "collectives" track, and
// one track per destination for the GPU's outgoing transfers ("send to GPU d"). time_unit_to_us
// converts the timings' unit to microseconds (1e6 for seconds). With `shares`, each compute event
// carries the share it got (mean SMs, HBM, speed, time lost to communication and to co-running
// kernels) and each GPU gets two counter tracks, "SMs held" and "HBM GB/s", by stream. Throws
// InputError if the file cannot be written.
void write_chrome_trace(const std::string& path, const TaskGraph& graph, const std::vector<TaskTiming>& timings,
                        double time_unit_to_us, const TraceShares* shares = nullptr);
// The same document as a string (tests, small outputs).
std::string chrome_trace_json(const TaskGraph& graph, const std::vector<TaskTiming>& timings, double time_unit_to_us,
                              const TraceShares* shares = nullptr);

// One row per rank, one character per column: F forward, b input-gradient backward, W weight
// gradient, B full backward, X overlapped forward+backward pair, '.' idle. A column is the shortest
// compute task, or makespan / max_columns if that is too many. Empty when there are more than 64
// ranks or nothing to draw.
std::string ascii_timeline(const TaskGraph& graph, const std::vector<TaskTiming>& timings, int ranks,
                           int max_columns = 160);

}  // namespace mhc
