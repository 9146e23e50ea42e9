// A sweep over the expansion rate n, optionally across a grid of other scenario settings (`--vary
// /pointer=a,b,...`, e.g. pipeline depth or schedule): each point is a full `mhcsim run` (scenario
// and baseline) in its own process, points run in parallel over the machine's cores. For each
// configuration the recommendation is the largest n whose overhead and memory fit the budgets; across
// configurations, the fastest step at its recommended n.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mhc {

struct SweepPoint {
  int n = 0;
  double step_time_s = 0, baseline_step_time_s = 0, overhead_pct = 0;
  double peak_memory_bytes = 0, capacity_bytes = 0;
  bool fits_memory = false;
  double mfu = 0;
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

// "/parallelism/pp=2,4,8" -> axis; InputError naming `flag` when malformed.
SweepAxis parse_sweep_axis(const std::string& text, const std::string& flag);
// Every combination of the axes' values, as "/pointer=value" lists (one empty list for no axes).
std::vector<std::vector<std::string>> sweep_grid(const std::vector<SweepAxis>& axes);
// "/a=1 /b=x", or "the scenario as given" when nothing is varied.
std::string settings_label(const SweepConfig& config);

// `progress(done, total, n)` is called as points finish (from worker threads, serialised).
SweepResult run_sweep(const SweepRequest& request, const std::function<void(size_t, size_t, int)>& progress);
SweepPoint sweep_point_from_report(int n, const nlohmann::json& report);
// Fills each valid configuration's recommendation and the result's best configuration.
void recommend(const SweepRequest& request, SweepResult& result);

nlohmann::json sweep_json(const SweepRequest& request, const SweepResult& result);
std::string sweep_text(const SweepRequest& request, const SweepResult& result);

}  // namespace mhc
