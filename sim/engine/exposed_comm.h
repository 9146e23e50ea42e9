// Exposed communication: the time a compute task waited for communication after its compute
// predecessors were done, charged to the category of the communication that ended last.
#pragma once

#include "engine/engine_result.h"

namespace mhc {

// Fills exposed_comm_s_by_category of `result` from its timings (used by simulate_here()).
void compute_exposed_comm(const TaskGraph& graph, EngineResult& result);

}  // namespace mhc
