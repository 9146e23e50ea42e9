// simulate(): SimGrid in fork()ed children (child_process.h), each result back in binary.
#include "engine/engine.h"

#include <exception>

#include "engine/child_process.h"
#include "engine/result_codec.h"

namespace mhc {

EngineResult simulate(const ClusterSpec& cluster, const TaskGraph& graph, const EngineOptions& options) {
  return simulate_side_by_side({SimulationJob{&cluster, &graph, options}}, 1).front();
}

std::vector<EngineResult> simulate_side_by_side(const std::vector<SimulationJob>& jobs, int at_once) {
  std::vector<EngineResult> results(jobs.size());
  std::vector<std::exception_ptr> errors(jobs.size());
  std::vector<size_t> forked;
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (!jobs[i].options.in_process) {
      forked.push_back(i);
      continue;
    }
    try {
      results[i] = simulate_here(*jobs[i].cluster, *jobs[i].graph, jobs[i].options);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
  run_in_children(
      forked.size(), at_once,
      [&](size_t k) {
        const SimulationJob& j = jobs[forked[k]];
        return serialize_result(simulate_here(*j.cluster, *j.graph, j.options));
      },
      [](size_t) { return std::string("engine"); },
      [&](size_t k, ChildAnswer answer) {
        const size_t i = forked[k];
        if (answer.error) {
          errors[i] = answer.error;
          return;
        }
        results[i] = deserialize_result(answer.value);
        results[i].wall_seconds = answer.seconds;
      });
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return results;
}

}  // namespace mhc
