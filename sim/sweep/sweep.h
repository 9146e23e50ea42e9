// A sweep over the expansion rate n, optionally across a grid of other scenario settings (`--vary
// /pointer=a,b,...`, e.g. pipeline depth or schedule): each point is a full `mhcsim run` (scenario
// and baseline) in its own process, points run in parallel over the machine's cores. For each
// configuration the recommendation is the largest n whose overhead and memory fit the budgets; across
// configurations, the fastest step at its recommended n. A point whose worker fails costs only that
// point: it is reported as failed, with the reason, and the rest of the sweep stands.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenario/scenario.h"

namespace mhc {

struct SweepPoint {
  int n = 0;
  double step_time_s = 0, baseline_step_time_s = 0, overhead_pct = 0;
  double peak_memory_bytes = 0, capacity_bytes = 0;
  bool fits_memory = false;
  double mfu = 0;
  // Why this point has no numbers ("" when it has them), printed as is: "failed: ..." when its
  // worker died or its run failed, "not finished ..." for a point a cluster has not run yet. Such a
  // point is never recommended.
  std::string missing;
};

// One setting varied by the sweep: a JSON pointer and the values it takes (as `--set` writes them).
struct SweepAxis {
  std::string pointer;
  std::vector<std::string> values;
};

struct SweepRequest {
  std::string scenario;
  std::vector<int> n_values;
  std::vector<std::string> overrides;  // --set, applied to every point before the varied settings and /mhc/n
  std::vector<SweepAxis> vary;         // their cartesian product; empty: one configuration, the scenario as given
  std::optional<double> max_overhead_pct;
  std::optional<double> max_memory_bytes;  // else the GPU's capacity
  int jobs = 1;
};

// One combination of the varied settings, its points over n and what was recommended for it.
struct SweepConfig {
  std::vector<std::string> settings;  // "/pointer=value", one per axis
  std::string invalid;                // why the scenario rejects this combination ("" if valid)
  std::vector<SweepPoint> points;     // in the order of n_values (empty if invalid)
  std::optional<int> recommended_n;
  std::string reason;
};

struct SweepResult {
  std::vector<SweepConfig> configs;    // in grid order, the last axis varying fastest
  std::optional<size_t> best_config;   // the fastest step at its recommended n
  std::string best_reason;
};

// One point of the grid, loaded and checked: where its numbers go and what it runs.
struct SweepWork {
  size_t config = 0, slot = 0;         // its configuration, and its index into n_values
  std::vector<std::string> overrides;  // the request's --set, the configuration's settings, /mhc/n
  Scenario scenario;
};

// The grid expanded: every configuration (rejected ones with their reason; valid ones with their
// points sized, numbers not yet filled in) and the points to run, in grid order then n order.
struct SweepGrid {
  SweepResult result;
  std::vector<SweepWork> work;
};

// "/parallelism/pp=2,4,8" -> axis; InputError naming `flag` when malformed.
SweepAxis parse_sweep_axis(const std::string& text, const std::string& flag);
// Every combination of the axes' values, as "/pointer=value" lists (one empty list for no axes).
std::vector<std::vector<std::string>> sweep_grid(const std::vector<SweepAxis>& axes);
// "/a=1 /b=x", or "the scenario as given" when nothing is varied.
std::string settings_label(const SweepConfig& config);

// Loads and checks every point first, so bad input fails before any work starts. A combination of
// varied settings the scenario rejects is recorded as such; if every one is rejected (or nothing is
// varied and the scenario is rejected), the first InputError is thrown.
SweepGrid expand_sweep(const SweepRequest& request);

// What one point's worker computes: the point's report JSON text. The default runs the scenario and
// its baseline, as `mhcsim run --json` does.
using SweepPointRunner = std::function<std::string(const Scenario&)>;
std::string run_point_report(const Scenario& scenario);

// `progress(done, total, n)` is called as points finish or fail (from worker threads, serialised).
// Each point runs `runner` in its own worker process; a point whose worker dies or throws is
// `missing` ("failed: " and the reason) and the sweep goes on.
SweepResult run_sweep(const SweepRequest& request, const std::function<void(size_t, size_t, int)>& progress,
                      const SweepPointRunner& runner = run_point_report);
// Points that have no numbers (see SweepPoint::missing), over every valid configuration.
size_t missing_points(const SweepResult& result);
SweepPoint sweep_point_from_report(int n, const nlohmann::json& report);
// Fills each valid configuration's recommendation and the result's best configuration.
void recommend(const SweepRequest& request, SweepResult& result);

nlohmann::json sweep_json(const SweepRequest& request, const SweepResult& result);
std::string sweep_text(const SweepRequest& request, const SweepResult& result);

}  // namespace mhc
