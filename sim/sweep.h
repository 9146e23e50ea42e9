// A sweep over the expansion rate n: each point is a full `mhcsim run` (scenario and baseline) in its
// own process, points run in parallel over the machine's cores, and the recommendation is the
// largest n whose overhead and memory fit the budgets.
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

struct SweepRequest {
  std::string scenario;
  std::vector<int> n_values;
  std::vector<std::string> overrides;  // --set, applied to every point before /mhc/n
  std::optional<double> max_overhead_pct;
  std::optional<double> max_memory_bytes;  // else the GPU's capacity
  int jobs = 1;
};

struct SweepResult {
  std::vector<SweepPoint> points;  // in the order of n_values
  std::optional<int> recommended_n;
  std::string reason;
};

// `progress(done, total, n)` is called as points finish (from worker threads, serialised).
SweepResult run_sweep(const SweepRequest& request, const std::function<void(size_t, size_t, int)>& progress);
SweepPoint sweep_point_from_report(int n, const nlohmann::json& report);
void recommend(const SweepRequest& request, SweepResult& result);

nlohmann::json sweep_json(const SweepRequest& request, const SweepResult& result);
std::string sweep_text(const SweepRequest& request, const SweepResult& result);

}  // namespace mhc
