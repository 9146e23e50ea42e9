// One collective alone on a cluster, simulated: its time, for the engine tests that hold it against
// closed forms and calibrations.
#pragma once

#include <optional>
#include <vector>

#include "engine/engine.h"
#include "support/engine_test_util.h"

namespace mhc::test {

// Seconds from the collective's start to its end, with NCCL's choice unless algo / proto are given.
inline double collective_seconds(const ClusterSpec& c, CollectiveOp op, const std::vector<int>& group, double bytes,
                                 std::optional<NcclAlgo> algo = {}, std::optional<NcclProto> proto = {}) {
  TaskGraph g;
  add_collective(g, "x", op, group, bytes);
  EngineOptions o;
  o.collective.algo = algo;
  o.collective.proto = proto;
  const EngineResult r = simulate(c, g, o);
  return r.timings[0].end - r.timings[0].start;
}

}  // namespace mhc::test
