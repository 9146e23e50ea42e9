#include "schedule/scenario_schedule.h"

#include "core/json_input.h"

namespace mhc {

ScheduleRequest schedule_request(const Scenario& s) {
  ScheduleRequest r;
  r.kind = parse_schedule_kind(s.schedule.kind, s.file, "/schedule/kind");
  // DualPipeV's request counts model stages; it runs them on stages/2 devices (= the scenario's pp).
  r.stages = r.kind == ScheduleKind::dualpipe_v ? 2 * s.parallel.pp : s.parallel.pp;
  r.micro = static_cast<int>(s.parallel.micro_batches());
  r.chunks = r.kind == ScheduleKind::interleaved ? s.schedule.virtual_stages : 1;
  return r;
}

Schedule scenario_schedule(const Scenario& s) {
  ScheduleRequestSource src;
  src.origin = s.file;
  src.kind = "/schedule/kind";
  src.stages = "/parallelism/pp";
  src.micro = "/parallelism/global_batch";
  src.chunks = "/schedule/virtual_stages";
  src.layers = "/model/layers";
  try {
    return generate_schedule(schedule_request(s), src);
  } catch (const InputError& e) {
    if (e.path() != src.micro) throw;
    // The micro-batch count is derived: say from what.
    throw InputError(e.file(), e.path(),
                     "global_batch / (dp x micro_batch) = " + std::to_string(s.parallel.micro_batches()) +
                         " micro-batches per pipeline: " + e.message());
  }
}

}  // namespace mhc
