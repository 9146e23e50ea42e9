// simulate(): SimGrid in a fork()ed child (child_process.h), the result back in binary.
#include "engine/engine.h"

#include <chrono>

#include "engine/child_process.h"
#include "engine/result_codec.h"

namespace mhc {

EngineResult simulate(const ClusterSpec& cluster, const TaskGraph& graph, const EngineOptions& options) {
  if (options.in_process) return simulate_here(cluster, graph, options);
  auto t0 = std::chrono::steady_clock::now();
  EngineResult r = deserialize_result(
      run_in_child([&] { return serialize_result(simulate_here(cluster, graph, options)); }, "engine"));
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace mhc
