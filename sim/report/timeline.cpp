#include "report/timeline.h"

#include <algorithm>
#include <map>

namespace mhc {

namespace {

// Priced seconds per class of the compute task `n` (its phases on their model stages).
std::map<std::string, double> task_classes(const VariantRun& v, const TaskNode& n) {
  std::map<std::string, double> out;
  auto add = [&](const PhaseCost& p) {
    for (const auto& [cls, s] : p.by_class) out[cls] += s;
  };
  const auto& chunks = v.schedule.stage_of_chunk.at(n.rank);
  auto stage = [&](int chunk) -> const StageCost& { return v.costs.stages.at(chunks.at(chunk)); };
  switch (n.phase) {
    case Phase::F: add(stage(n.chunk).F); break;
    case Phase::B: add(stage(n.chunk).B); break;
    case Phase::W: add(stage(n.chunk).W); break;
    case Phase::BW:
      add(stage(n.chunk).B);
      add(stage(n.chunk).W);
      break;
    case Phase::FB:
      add(stage(n.chunk).F);
      add(stage(n.chunk2).B);
      add(stage(n.chunk2).W);
      break;
    default: break;
  }
  // Kernels moved to the high-priority stream (step_graph.cpp) are mHC post-res kernels: they left the
  // task's own seconds, so they leave its "mhc" share.
  double total = 0;
  for (const auto& [cls, s] : out) total += s;
  if (n.unit >= 0 && total > 0) {  // an FSDP piece: its share of the task's classes
    for (auto& [cls, s] : out) s *= n.seconds / total;
    return out;
  }
  if (total > n.seconds && out.count("mhc")) out["mhc"] = std::max(0.0, out["mhc"] - (total - n.seconds));
  return out;
}

// "layer" first, then the other classes in name order.
std::vector<std::pair<std::string, double>> ordered(const std::map<std::string, double>& classes) {
  std::vector<std::pair<std::string, double>> out;
  if (auto it = classes.find("layer"); it != classes.end()) out.push_back(*it);
  for (const auto& kv : classes)
    if (kv.first != "layer") out.push_back(kv);
  return out;
}

}  // namespace

Timeline step_timeline(const VariantRun& v) {
  const TaskGraph& g = v.step.graph;
  Timeline t;
  t.ranks = v.schedule.ranks;
  t.step_s = v.step_time_s;
  std::map<int, int> rank_of_gpu;
  for (int r = 0; r < t.ranks; ++r) rank_of_gpu[v.step.layout.gpu_of_rank.at(r)] = r;

  std::map<std::pair<int, std::string>, std::vector<TimelineSegment>> lanes;
  std::vector<std::vector<std::pair<double, double>>> busy(t.ranks);
  for (TaskId id = 0; id < boost::num_vertices(g); ++id) {
    const TaskNode& n = g[id];
    const TaskTiming& tm = v.timings.at(id);
    if (n.kind == NodeKind::compute) {
      if (n.rank < 0 || n.rank >= t.ranks) continue;
      if (n.stream == Stream::comm) {
        lanes[{n.rank, n.category}].push_back({tm.start, tm.end, n.category});
        continue;
      }
      busy[n.rank].emplace_back(tm.start, tm.end);
      if (n.stream == Stream::high_priority) {
        lanes[{n.rank, "high_priority"}].push_back({tm.start, tm.end, n.category});
        continue;
      }
      const auto classes = task_classes(v, n);
      double priced = 0;
      for (const auto& [cls, s] : classes) priced += s;
      auto& lane = lanes[{n.rank, "compute"}];
      if (!(priced > 0)) {
        lane.push_back({tm.start, tm.end, n.category});
        continue;
      }
      double at = tm.start;
      for (const auto& [cls, s] : ordered(classes)) {
        const double end = at + (tm.end - tm.start) * s / priced;
        if (s > 0) lane.push_back({at, end, cls});
        at = end;
      }
    } else if (n.kind == NodeKind::transfer) {
      if (auto it = rank_of_gpu.find(n.src_gpu); it != rank_of_gpu.end())
        lanes[{it->second, n.category}].push_back({tm.start, tm.end, n.category});
    } else {
      for (int gpu : n.group)
        if (auto it = rank_of_gpu.find(gpu); it != rank_of_gpu.end())
          lanes[{it->second, n.category}].push_back({tm.start, tm.end, n.category});
    }
  }

  // The bubble: the gaps in [0, step] where none of the rank's compute tasks runs.
  t.idle_s.assign(t.ranks, 0.0);
  for (int r = 0; r < t.ranks; ++r) {
    auto& iv = busy[r];
    std::sort(iv.begin(), iv.end());
    auto& lane = lanes[{r, "compute"}];
    double covered_to = 0;
    for (const auto& [a, b] : iv) {
      if (a > covered_to) {
        lane.push_back({covered_to, a, "idle"});
        t.idle_s[r] += a - covered_to;
      }
      covered_to = std::max(covered_to, b);
    }
    if (t.step_s > covered_to) {
      lane.push_back({covered_to, t.step_s, "idle"});
      t.idle_s[r] += t.step_s - covered_to;
    }
  }

  // Lane order per rank: compute, high_priority, then the communication categories in a fixed order.
  auto lane_order = [](const std::string& s) {
    static const std::vector<std::string> order{"compute", "high_priority", "tp", "cp", "pp", "ep", "dp", "fsdp"};
    auto it = std::find(order.begin(), order.end(), s);
    return it == order.end() ? order.size() : size_t(it - order.begin());
  };
  std::vector<std::pair<int, std::string>> keys;
  for (const auto& kv : lanes) keys.push_back(kv.first);
  std::stable_sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : lane_order(a.second) < lane_order(b.second);
  });
  for (const auto& key : keys) {
    TimelineLane lane{key.first, key.second, std::move(lanes[key])};
    std::sort(lane.segments.begin(), lane.segments.end(),
              [](const auto& a, const auto& b) { return a.start < b.start; });
    t.lanes.push_back(std::move(lane));
  }
  return t;
}

}  // namespace mhc
