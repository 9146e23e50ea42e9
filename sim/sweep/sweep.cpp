#include "sweep/sweep.h"

#include <algorithm>
#include <exception>
#include <sstream>

#include "core/json_input.h"
#include "engine/child_process.h"
#include "report/report.h"
#include "report/text_format.h"
#include "run/run.h"
#include "schedule/scenario_schedule.h"

namespace mhc {

SweepAxis parse_sweep_axis(const std::string& text, const std::string& flag) {
  const size_t eq = text.find('=');
  if (text.empty() || text[0] != '/' || eq == std::string::npos || eq == 1)
    throw InputError("command line", flag, "expected /JSON/POINTER=VALUE,VALUE,..., got '" + text + "'");
  SweepAxis axis{text.substr(0, eq), {}};
  std::stringstream list(text.substr(eq + 1));
  for (std::string v; std::getline(list, v, ',');) {
    if (v.empty()) throw InputError("command line", flag, "an empty value in '" + text + "'");
    axis.values.push_back(v);
  }
  if (axis.values.empty()) throw InputError("command line", flag, "no values in '" + text + "'");
  return axis;
}

std::vector<std::vector<std::string>> sweep_grid(const std::vector<SweepAxis>& axes) {
  std::vector<std::vector<std::string>> grid{{}};
  for (const SweepAxis& axis : axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& partial : grid)
      for (const std::string& v : axis.values) {
        next.push_back(partial);
        next.back().push_back(axis.pointer + "=" + v);
      }
    grid = std::move(next);
  }
  return grid;
}

SweepPoint sweep_point_from_report(int n, const nlohmann::json& j) {
  SweepPoint p;
  p.n = n;
  p.step_time_s = j["step_time_s"];
  p.baseline_step_time_s = j["baseline_step_time_s"];
  p.overhead_pct = j["overhead_pct"];
  p.peak_memory_bytes = j["memory"]["peak_bytes"];
  p.capacity_bytes = j["memory"]["capacity_bytes"];
  p.fits_memory = j["memory"]["fits"];
  p.mfu = j["mfu"]["mhc"];
  return p;
}

namespace {

// The largest n of one configuration within the budgets, and why every larger n was rejected.
void recommend_config(const SweepRequest& req, SweepConfig& c) {
  std::ostringstream why;
  const SweepPoint* best = nullptr;
  for (const auto& p : c.points) {
    if (!p.missing.empty()) continue;
    const double mem_budget = req.max_memory_bytes.value_or(p.capacity_bytes);
    const bool mem_ok = p.peak_memory_bytes <= mem_budget;
    const bool time_ok = !req.max_overhead_pct || p.overhead_pct <= *req.max_overhead_pct;
    if (mem_ok && time_ok && (!best || p.n > best->n)) best = &p;
  }
  const std::string mem_name = req.max_memory_bytes ? "the memory budget" : "the GPU's memory";
  if (!best) {
    c.recommended_n.reset();
    why << "no n fits: ";
  } else {
    c.recommended_n = best->n;
    why << "n = " << best->n << ": overhead " << fmt("%.2f%%", best->overhead_pct)
        << (req.max_overhead_pct ? " <= " + fmt("%.2f%%", *req.max_overhead_pct) : std::string(" (no overhead budget given)"))
        << ", peak memory " << fmt("%.1f GB", best->peak_memory_bytes / 1e9) << " <= " << mem_name << " ("
        << fmt("%.1f GB", req.max_memory_bytes.value_or(best->capacity_bytes) / 1e9) << ")";
  }
  bool listed = false;  // a rejection or failure already follows the first part
  for (const auto& p : c.points) {
    if (!p.missing.empty()) {  // no numbers: said, so a smaller recommendation is read as what it is
      why << (best || listed ? "; n = " : "n = ") << p.n << " not considered: it has no result";
      listed = true;
      continue;
    }
    if (best && p.n <= best->n) continue;
    const double mem_budget = req.max_memory_bytes.value_or(p.capacity_bytes);
    std::vector<std::string> reasons;
    if (req.max_overhead_pct && p.overhead_pct > *req.max_overhead_pct)
      reasons.push_back("overhead " + fmt("%.2f%%", p.overhead_pct) + " > " + fmt("%.2f%%", *req.max_overhead_pct));
    if (p.peak_memory_bytes > mem_budget)
      reasons.push_back("memory " + fmt("%.1f GB", p.peak_memory_bytes / 1e9) + " > " + fmt("%.1f GB", mem_budget / 1e9));
    if (reasons.empty()) continue;
    why << (best || listed ? "; n = " : "n = ") << p.n << " rejected: " << reasons[0]
        << (reasons.size() > 1 ? ", " + reasons[1] : "");
    listed = true;
  }
  c.reason = why.str();
}

const SweepPoint& point_of(const SweepConfig& c, int n) {
  return *std::find_if(c.points.begin(), c.points.end(), [&](const SweepPoint& p) { return p.n == n; });
}

}  // namespace

std::string settings_label(const SweepConfig& c) {
  std::string s;
  for (const auto& v : c.settings) s += (s.empty() ? "" : " ") + v;
  return s.empty() ? std::string("the scenario as given") : s;
}

void recommend(const SweepRequest& req, SweepResult& r) {
  r.best_config.reset();
  size_t candidates = 0;
  for (size_t i = 0; i < r.configs.size(); ++i) {
    SweepConfig& c = r.configs[i];
    if (!c.invalid.empty()) continue;
    recommend_config(req, c);
    if (!c.recommended_n) continue;
    ++candidates;
    const double step = point_of(c, *c.recommended_n).step_time_s;
    if (!r.best_config || step < point_of(r.configs[*r.best_config], *r.configs[*r.best_config].recommended_n).step_time_s)
      r.best_config = i;
  }
  if (!r.best_config) {
    r.best_reason = "no configuration has an n within the budgets";
    return;
  }
  const SweepConfig& best = r.configs[*r.best_config];
  r.best_reason = settings_label(best) + " at n = " + std::to_string(*best.recommended_n) + ": step " +
                  fmt("%.4f s", point_of(best, *best.recommended_n).step_time_s) + ", the fastest of " +
                  std::to_string(candidates) + " configuration" + (candidates == 1 ? "" : "s") +
                  " with an n within the budgets";
}

SweepGrid expand_sweep(const SweepRequest& req) {
  SweepGrid grid;
  std::exception_ptr first_rejection;
  for (const auto& settings : sweep_grid(req.vary)) {
    SweepConfig c;
    c.settings = settings;
    std::vector<SweepWork> points;
    try {
      for (size_t k = 0; k < req.n_values.size(); ++k) {
        SweepWork w{grid.result.configs.size(), k, req.overrides, {}};
        w.overrides.insert(w.overrides.end(), settings.begin(), settings.end());
        w.overrides.push_back("/mhc/n=" + std::to_string(req.n_values[k]));
        w.scenario = load_scenario(req.scenario, w.overrides);
        check_scenario_schedule(w.scenario);
        points.push_back(std::move(w));
      }
    } catch (const InputError& e) {
      if (req.vary.empty()) throw;
      if (!first_rejection) first_rejection = std::current_exception();
      c.invalid = e.what();
      points.clear();
    }
    c.points.resize(points.size());
    for (size_t k = 0; k < points.size(); ++k) c.points[k].n = req.n_values[k];
    for (auto& w : points) grid.work.push_back(std::move(w));
    grid.result.configs.push_back(std::move(c));
  }
  if (grid.work.empty() && first_rejection) std::rethrow_exception(first_rejection);
  return grid;
}

std::string run_point_report(const Scenario& s) {
  RunOptions options;
  options.simulations_at_once = 1;  // the sweep's own workers already fill the cores
  return report_json(run_scenario(s, options)).dump();
}

SweepResult run_sweep(const SweepRequest& req, const std::function<void(size_t, size_t, int)>& progress,
                      const SweepPointRunner& runner) {
  SweepGrid grid = expand_sweep(req);
  SweepResult& result = grid.result;
  const std::vector<SweepWork>& work = grid.work;
  size_t done = 0;
  const int jobs = std::max(1, std::min<int>(req.jobs, static_cast<int>(work.size())));
  run_in_children(
      work.size(), jobs, [&](size_t i) { return runner(work[i].scenario); },
      [&](size_t i) { return "sweep point n = " + std::to_string(work[i].scenario.mhc.n); },
      [&](size_t i, ChildAnswer answer) {
        const SweepWork& w = work[i];
        const int n = w.scenario.mhc.n;
        SweepPoint point;
        // A worker that dies, or a run that throws, costs only this point.
        try {
          if (answer.error) std::rethrow_exception(answer.error);
          point = sweep_point_from_report(n, nlohmann::json::parse(answer.value));
        } catch (const std::exception& e) {
          point = SweepPoint{};
          point.n = n;
          point.missing = std::string("failed: ") + e.what();
        }
        result.configs[w.config].points[w.slot] = point;
        if (progress) progress(++done, work.size(), n);
      });
  recommend(req, result);
  return result;
}

size_t missing_points(const SweepResult& result) {
  size_t missing = 0;
  for (const auto& c : result.configs)
    for (const auto& p : c.points) missing += !p.missing.empty();
  return missing;
}

}  // namespace mhc
