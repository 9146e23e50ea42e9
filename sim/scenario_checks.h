// Checks of a scenario that need later stages (the pipeline schedule it asks for).
#pragma once

#include "scenario.h"

namespace mhc {

// Generates the scenario's schedule and checks it (enough micro-batches, even PP for DualPipe, ...),
// reporting problems as InputErrors against the scenario file's /schedule or /parallelism.
void check_scenario_schedule(const Scenario& s);

}  // namespace mhc
