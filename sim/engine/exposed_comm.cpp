#include "engine/exposed_comm.h"

#include <algorithm>
#include <set>

namespace mhc {

void attribute_wait(double ready, double start, std::vector<std::pair<double, const std::string*>> comms,
                    std::map<std::string, double>& by_category) {
  if (start <= ready) return;
  std::sort(comms.begin(), comms.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  double t = ready;
  for (std::size_t k = 0; k < comms.size() && t < start; ++k) {
    const double slice_end = std::min(comms[k].first, start);
    if (slice_end <= t) continue;  // ended before t: no longer blocking
    // Over [t, slice_end) every communication from k on is unfinished.
    std::set<std::string> blocking;
    for (std::size_t j = k; j < comms.size(); ++j) blocking.insert(*comms[j].second);
    const double share = (slice_end - t) / double(blocking.size());
    for (const std::string& c : blocking) by_category[c] += share;
    t = slice_end;
  }
}

void compute_exposed_comm(const TaskGraph& g, EngineResult& r) {
  r.exposed_comm_s_by_category.clear();
  std::vector<std::pair<double, const std::string*>> comms;
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
    if (g[v].kind != NodeKind::compute || g[v].stream == Stream::high_priority) continue;
    double ready = 0.0;
    comms.clear();
    for (auto [e, end] = boost::in_edges(v, g); e != end; ++e) {
      TaskId u = boost::source(*e, g);
      if (g[u].kind == NodeKind::compute) ready = std::max(ready, r.timings[u].end);
      else comms.emplace_back(r.timings[u].end, &g[u].category);
    }
    attribute_wait(ready, r.timings[v].start, comms, r.exposed_comm_s_by_category);
  }
}

}  // namespace mhc
