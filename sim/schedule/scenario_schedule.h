// Turns a scenario into the pipeline schedule it asks for and checks it (enough micro-batches, even
// PP for DualPipe, ...), reporting problems against the scenario file's /schedule or /parallelism.
#pragma once

#include "scenario/scenario.h"
#include "schedule/schedule.h"

namespace mhc {

ScheduleRequest schedule_request(const Scenario& s);

// Generates the scenario's schedule; InputError against the scenario file when it cannot exist.
Schedule scenario_schedule(const Scenario& s);
inline void check_scenario_schedule(const Scenario& s) { (void)scenario_schedule(s); }

}  // namespace mhc
