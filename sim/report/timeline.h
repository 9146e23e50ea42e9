// One step of a run as lanes per pipeline rank, for the HTML page's timeline: what each rank's
// compute stream did (its tasks split by kernel class, and the bubble between them), its high-priority
// stream, and the communication it took part in, one lane per class (pp, ep, dp, tp, ...). Built from
// the run's own task graph and timings (the same the report's numbers come from).
#pragma once

#include <string>
#include <vector>

#include "run/run.h"

namespace mhc {

struct TimelineSegment {
  double start = 0, end = 0;  // seconds from the start of the step
  // "layer", "mhc", "mhc_recompute" (the stage costs' classes), "idle" (the bubble: no compute task
  // runs on the rank), or a communication category ("pp", "ep", ...).
  std::string kind;
};

struct TimelineLane {
  int rank = 0;
  // "compute" (layer/mHC classes and idle), "high_priority", or the communication category it shows.
  std::string stream;
  std::vector<TimelineSegment> segments;  // in start order
};

struct Timeline {
  double step_s = 0;  // the latest end of any task (the run's step time)
  int ranks = 0;
  std::vector<TimelineLane> lanes;  // by rank, then compute, high_priority, communication categories
  std::vector<double> idle_s;       // per rank: the total of its idle segments
};

// A compute task's bar is split in proportion to its priced seconds per class (the order of kernels
// inside a task is not drawn); its whole measured duration (slowdown included) is shared out.
// Communication: a transfer on its sender's rank, a collective on every rank of pipeline replica 0
// whose GPU is in its group.
Timeline step_timeline(const VariantRun& v);

}  // namespace mhc
