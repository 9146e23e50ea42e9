#include "engine/exposed_comm.h"

#include <algorithm>

namespace mhc {

void compute_exposed_comm(const TaskGraph& g, EngineResult& r) {
  r.exposed_comm_s_by_category.clear();
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
    // High-priority kernels wait alongside the compute task of their pair: counting them too would
    // count one wait twice.
    if (g[v].kind != NodeKind::compute || g[v].stream == Stream::high_priority) continue;
    double local_ready = 0.0, comm_end = -1.0;
    const std::string* category = nullptr;
    for (auto [e, end] = boost::in_edges(v, g); e != end; ++e) {
      TaskId u = boost::source(*e, g);
      double t = r.timings[u].end;
      if (g[u].kind == NodeKind::compute) {
        local_ready = std::max(local_ready, t);
      } else if (t > comm_end) {
        comm_end = t;
        category = &g[u].category;
      }
    }
    double wait = r.timings[v].start - local_ready;
    if (category && comm_end > local_ready && wait > 0) r.exposed_comm_s_by_category[*category] += wait;
  }
}

}  // namespace mhc
