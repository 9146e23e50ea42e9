// Shared helpers for the schedule tests: generate, build, evaluate with unit-free times, and an
// independent replay of a schedule that does not use the graph or the evaluator.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "graph/dag.h"
#include "graph/evaluator.h"
#include "schedule/schedule.h"

namespace mhc::test {

struct Evaluated {
  Schedule schedule;
  PipelineGraph pg;
  std::vector<TaskTiming> timings;
  std::vector<RankStats> stats;
  DagCheck check;
  double max_bubble() const {
    double b = 0;
    for (const auto& s : stats) b = std::max(b, s.bubble);
    return b;
  }
  int max_peak() const {
    int p = 0;
    for (const auto& s : stats) p = std::max(p, s.peak_activations);
    return p;
  }
};

inline Evaluated evaluate(const ScheduleRequest& req, const PhaseTimes& times) {
  Evaluated e;
  e.schedule = generate_schedule(req);
  e.pg = build_pipeline_graph(e.schedule, phase_time_costs(times), {});
  e.check = check_graph(e.pg.graph, e.schedule);
  e.timings = evaluate_zero_cost(e.pg.graph);
  e.stats = rank_stats(e.pg.graph, e.timings, e.schedule.ranks);
  return e;
}

inline PhaseTimes times(double F, double B, double W, double FB) {
  PhaseTimes t;
  t.F = F;
  t.B = B;
  t.W = W;
  t.FB = FB;
  return t;
}

// Replays the per-rank lists directly: each rank runs its next task as soon as the data it needs
// (forward of the previous stage, gradient of the next stage, own forward, own input gradient) has
// been produced. Returns per-rank end time and busy time; an empty result means it got stuck.
struct Replay {
  std::vector<double> end, busy;
};
inline Replay replay(const Schedule& s, const PhaseTimes& t) {
  std::map<std::tuple<int, int, int>, double> done;  // (kind 0=F 1=B 2=W, micro, stage) -> end
  auto ready = [&](int kind, int m, int st, double& at) {
    auto it = done.find({kind, m, st});
    if (it == done.end()) return false;
    at = std::max(at, it->second);
    return true;
  };
  const int S = s.model_stages;
  Replay out;
  out.end.assign(s.ranks, 0.0);
  out.busy.assign(s.ranks, 0.0);
  std::vector<size_t> next(s.ranks, 0);
  bool progress = true;
  while (progress) {
    progress = false;
    for (int r = 0; r < s.ranks; ++r) {
      while (next[r] < s.per_rank[r].size()) {
        const ScheduledTask& k = s.per_rank[r][next[r]];
        double at = out.end[r];
        bool ok = true;
        auto need_f = [&](int m, int st) {
          if (st > 0) ok = ok && ready(0, m, st - 1, at);
        };
        auto need_b = [&](int m, int st) {
          ok = ok && ready(0, m, st, at);
          if (st + 1 < S) ok = ok && ready(1, m, st + 1, at);
        };
        if (k.phase == Phase::F || k.phase == Phase::FB) need_f(k.micro, k.stage);
        if (k.phase == Phase::B || k.phase == Phase::BW) need_b(k.micro, k.stage);
        if (k.phase == Phase::FB) need_b(k.micro2, k.stage2);
        if (k.phase == Phase::W) ok = ok && ready(1, k.micro, k.stage, at);
        if (!ok) break;
        double end = at + t.seconds(k.phase);
        if (k.phase == Phase::F || k.phase == Phase::FB) done[{0, k.micro, k.stage}] = end;
        if (k.phase == Phase::B || k.phase == Phase::BW) done[{1, k.micro, k.stage}] = end;
        if (k.phase == Phase::FB) done[{1, k.micro2, k.stage2}] = end;
        out.end[r] = end;
        out.busy[r] += t.seconds(k.phase);
        ++next[r];
        progress = true;
      }
    }
  }
  for (int r = 0; r < s.ranks; ++r)
    if (next[r] != s.per_rank[r].size()) return {};
  return out;
}

}  // namespace mhc::test
