#include "graph/evaluator.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include "graph/dag.h"

namespace mhc {

std::vector<TaskTiming> evaluate_zero_cost(const TaskGraph& g) {
  const auto order = topological_order(g);
  std::vector<TaskTiming> t(boost::num_vertices(g));
  for (TaskId v : order) {
    double start = 0.0;
    for (auto e : boost::make_iterator_range(boost::in_edges(v, g))) start = std::max(start, t[boost::source(e, g)].end);
    const TaskNode& n = g[v];
    double duration = n.kind == NodeKind::compute ? n.seconds : 0.0;
    if (!(duration >= 0.0)) throw std::invalid_argument("task '" + n.name + "' has a negative or invalid duration");
    t[v] = {start, start + duration};
  }
  return t;
}

std::vector<RankStats> rank_stats(const TaskGraph& g, const std::vector<TaskTiming>& timings, int ranks) {
  if (timings.size() != boost::num_vertices(g)) throw std::invalid_argument("rank_stats: timings do not match the graph");
  double makespan = 0.0;
  for (const auto& t : timings) makespan = std::max(makespan, t.end);

  std::vector<RankStats> out(std::max(ranks, 0));
  std::vector<std::vector<std::pair<double, double>>> intervals(out.size());
  // (time, delta) activation events; sorting puts -1 before +1 at equal times.
  std::vector<std::vector<std::pair<double, int>>> events(out.size());
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
    const TaskNode& n = g[v];
    if (n.kind != NodeKind::compute || n.rank < 0 || n.rank >= ranks) continue;
    const TaskTiming& t = timings[v];
    out[n.rank].busy += t.end - t.start;
    intervals[n.rank].emplace_back(t.start, t.end);
    if (n.unit > 0) continue;  // an FSDP piece past the first: its task's events are on unit 0
    if (n.phase == Phase::F || n.phase == Phase::FB) events[n.rank].emplace_back(t.start, +1);
    if (n.phase == Phase::B || n.phase == Phase::BW || n.phase == Phase::FB) events[n.rank].emplace_back(t.end, -1);
  }
  for (int r = 0; r < ranks; ++r) {
    RankStats& s = out[r];
    s.rank = r;
    s.makespan = makespan;
    s.bubble = makespan - s.busy;
    auto& iv = intervals[r];
    std::sort(iv.begin(), iv.end());
    double covered = 0.0, cur_start = 0.0, cur_end = -1.0;
    bool open = false;
    for (const auto& [a, b] : iv) {
      if (open && a <= cur_end) {
        cur_end = std::max(cur_end, b);
      } else {
        if (open) covered += cur_end - cur_start;
        cur_start = a;
        cur_end = b;
        open = true;
      }
    }
    if (open) covered += cur_end - cur_start;
    s.idle = makespan - covered;
    auto& ev = events[r];
    std::sort(ev.begin(), ev.end());
    int live = 0;
    for (const auto& e : ev) s.peak_activations = std::max(s.peak_activations, live += e.second);
  }
  return out;
}

std::vector<PairStats> overlapped_pairs(const TaskGraph& g, const std::vector<TaskTiming>& timings, int ranks) {
  if (timings.size() != boost::num_vertices(g)) throw std::invalid_argument("overlapped_pairs: timings do not match the graph");
  std::vector<PairStats> out(std::max(ranks, 0));
  for (int r = 0; r < ranks; ++r) out[r].rank = r;
  std::unordered_map<std::string, TaskId> all_to_all;
  for (TaskId v = 0; v < boost::num_vertices(g); ++v)
    if (g[v].kind == NodeKind::collective && g[v].op == CollectiveOp::all_to_all) all_to_all.emplace(g[v].name, v);
  if (all_to_all.empty()) return out;
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
    const TaskNode& n = g[v];
    if (n.kind != NodeKind::compute || n.phase != Phase::FB || n.rank < 0 || n.rank >= ranks || n.unit > 0) continue;
    auto it = all_to_all.find(all_to_all_name(n.name));
    if (it == all_to_all.end()) continue;
    const TaskTiming& c = timings[v];
    const TaskTiming& a = timings[it->second];
    PairStats& p = out[n.rank];
    ++p.pairs;
    p.compute_s += c.end - c.start;
    p.all_to_all_s += a.end - a.start;
    if (a.end > c.end) {
      ++p.all_to_all_bound;
      p.beyond_compute_s += a.end - c.end;
    }
  }
  return out;
}

std::vector<std::vector<std::pair<int, int>>> live_chunk_events(const TaskGraph& g, const std::vector<TaskTiming>& timings,
                                                                int ranks) {
  if (timings.size() != boost::num_vertices(g))
    throw std::invalid_argument("live_chunk_events: timings do not match the graph");
  // (time, delta, chunk): sorting puts releases before acquisitions at equal times.
  std::vector<std::vector<std::tuple<double, int, int>>> ev(std::max(ranks, 0));
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
    const TaskNode& n = g[v];
    if (n.kind != NodeKind::compute || n.rank < 0 || n.rank >= ranks || n.unit > 0) continue;
    if (n.phase == Phase::F || n.phase == Phase::FB) ev[n.rank].emplace_back(timings[v].start, +1, n.chunk);
    if (n.phase == Phase::B || n.phase == Phase::BW) ev[n.rank].emplace_back(timings[v].end, -1, n.chunk);
    if (n.phase == Phase::FB) ev[n.rank].emplace_back(timings[v].end, -1, n.chunk2);
  }
  std::vector<std::vector<std::pair<int, int>>> out(ev.size());
  for (size_t r = 0; r < ev.size(); ++r) {
    std::sort(ev[r].begin(), ev[r].end());
    for (const auto& [time, delta, chunk] : ev[r]) out[r].emplace_back(chunk, delta);
  }
  return out;
}

std::vector<TaskId> critical_path(const TaskGraph& g, const std::vector<TaskTiming>& timings) {
  std::vector<TaskId> path;
  const size_t V = boost::num_vertices(g);
  if (V == 0) return path;
  TaskId v = 0;
  for (TaskId u = 1; u < V; ++u)
    if (timings[u].end > timings[v].end) v = u;
  while (true) {
    path.push_back(v);
    bool found = false;
    TaskId best = 0;
    for (auto e : boost::make_iterator_range(boost::in_edges(v, g))) {
      TaskId u = boost::source(e, g);
      if (!found || timings[u].end > timings[best].end) best = u, found = true;
    }
    if (!found) break;
    v = best;
  }
  std::reverse(path.begin(), path.end());
  return path;
}

std::string dependency_violation(const TaskGraph& g, const std::vector<TaskTiming>& timings) {
  for (auto e : boost::make_iterator_range(boost::edges(g))) {
    TaskId u = boost::source(e, g), v = boost::target(e, g);
    double tol = 1e-9 * std::max(1.0, std::fabs(timings[u].end));
    if (timings[v].start < timings[u].end - tol)
      return "'" + g[v].name + "' starts at " + std::to_string(timings[v].start) + " before '" + g[u].name +
             "' ends at " + std::to_string(timings[u].end);
  }
  return "";
}

std::string stream_overlap(const TaskGraph& g, const std::vector<TaskTiming>& timings) {
  struct Item {
    int gpu, stream;
    double start, end;
    TaskId v;
  };
  std::vector<Item> items;
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
    const TaskNode& n = g[v];
    if (n.kind == NodeKind::compute && timings[v].end > timings[v].start)
      items.push_back({n.gpu, static_cast<int>(n.stream), timings[v].start, timings[v].end, v});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.gpu, a.stream, a.start, a.end) < std::tie(b.gpu, b.stream, b.start, b.end);
  });
  for (size_t i = 1; i < items.size(); ++i) {
    const Item &a = items[i - 1], &b = items[i];
    double tol = 1e-9 * std::max(1.0, std::fabs(a.end));
    if (a.gpu == b.gpu && a.stream == b.stream && b.start < a.end - tol)
      return "'" + g[b.v].name + "' starts at " + std::to_string(b.start) + " while '" + g[a.v].name +
             "' runs until " + std::to_string(a.end) + " on GPU " + std::to_string(a.gpu) + " stream " +
             to_string(static_cast<Stream>(a.stream));
  }
  return "";
}

}  // namespace mhc
