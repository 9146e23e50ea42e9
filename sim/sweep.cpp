#include "sweep.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <mutex>
#include <sstream>
#include <thread>

#include "child_process.h"
#include "report.h"
#include "run.h"
#include "scenario_checks.h"
#include "text_format.h"

namespace mhc {

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

void recommend(const SweepRequest& req, SweepResult& r) {
  std::ostringstream why;
  const SweepPoint* best = nullptr;
  for (const auto& p : r.points) {
    const double mem_budget = req.max_memory_bytes.value_or(p.capacity_bytes);
    const bool mem_ok = p.peak_memory_bytes <= mem_budget;
    const bool time_ok = !req.max_overhead_pct || p.overhead_pct <= *req.max_overhead_pct;
    if (mem_ok && time_ok && (!best || p.n > best->n)) best = &p;
  }
  const std::string mem_name = req.max_memory_bytes ? "the memory budget" : "the GPU's memory";
  if (!best) {
    r.recommended_n.reset();
    why << "no n fits: ";
  } else {
    r.recommended_n = best->n;
    why << "n = " << best->n << ": overhead " << fmt("%.2f%%", best->overhead_pct)
        << (req.max_overhead_pct ? " <= " + fmt("%.2f%%", *req.max_overhead_pct) : std::string(" (no overhead budget given)"))
        << ", peak memory " << fmt("%.1f GB", best->peak_memory_bytes / 1e9) << " <= " << mem_name << " ("
        << fmt("%.1f GB", req.max_memory_bytes.value_or(best->capacity_bytes) / 1e9) << ")";
  }
  // Say why every larger n was rejected.
  for (const auto& p : r.points) {
    if (best && p.n <= best->n) continue;
    const double mem_budget = req.max_memory_bytes.value_or(p.capacity_bytes);
    std::vector<std::string> reasons;
    if (req.max_overhead_pct && p.overhead_pct > *req.max_overhead_pct)
      reasons.push_back("overhead " + fmt("%.2f%%", p.overhead_pct) + " > " + fmt("%.2f%%", *req.max_overhead_pct));
    if (p.peak_memory_bytes > mem_budget)
      reasons.push_back("memory " + fmt("%.1f GB", p.peak_memory_bytes / 1e9) + " > " + fmt("%.1f GB", mem_budget / 1e9));
    if (reasons.empty()) continue;
    why << (best ? "; n = " : "n = ") << p.n << " rejected: " << reasons[0] << (reasons.size() > 1 ? ", " + reasons[1] : "");
    if (!best) why << ";";
  }
  r.reason = why.str();
}

SweepResult run_sweep(const SweepRequest& req, const std::function<void(size_t, size_t, int)>& progress) {
  // Every point is loaded and checked here first, so bad input fails before any work starts.
  std::vector<Scenario> scenarios;
  for (int n : req.n_values) {
    auto overrides = req.overrides;
    overrides.push_back("/mhc/n=" + std::to_string(n));
    scenarios.push_back(load_scenario(req.scenario, overrides));
    check_scenario_schedule(scenarios.back());
  }
  SweepResult result;
  result.points.resize(req.n_values.size());
  std::atomic<size_t> next{0};
  size_t done = 0;
  std::mutex mutex;
  std::exception_ptr error;
  auto worker = [&] {
    for (size_t i = next++; i < scenarios.size(); i = next++) {
      try {
        const Scenario& s = scenarios[i];
        std::string out = run_in_child([&] { return report_json(run_scenario(s, RunOptions{})).dump(); },
                                       "sweep point n = " + std::to_string(s.mhc.n));
        auto point = sweep_point_from_report(s.mhc.n, nlohmann::json::parse(out));
        std::lock_guard<std::mutex> lock(mutex);
        result.points[i] = point;
        if (progress) progress(++done, scenarios.size(), s.mhc.n);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  const int jobs = std::max(1, std::min<int>(req.jobs, static_cast<int>(scenarios.size())));
  std::vector<std::thread> threads;
  for (int t = 0; t < jobs; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  recommend(req, result);
  return result;
}

nlohmann::json sweep_json(const SweepRequest& req, const SweepResult& r) {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& p : r.points)
    points.push_back({{"n", p.n}, {"step_time_s", p.step_time_s}, {"baseline_step_time_s", p.baseline_step_time_s},
                      {"overhead_pct", p.overhead_pct}, {"peak_memory_bytes", p.peak_memory_bytes},
                      {"capacity_bytes", p.capacity_bytes}, {"fits_memory", p.fits_memory}, {"mfu", p.mfu}});
  nlohmann::json j = {{"scenario", req.scenario}, {"overrides", req.overrides}, {"points", points}, {"reason", r.reason}};
  j["recommended_n"] = r.recommended_n ? nlohmann::json(*r.recommended_n) : nlohmann::json(nullptr);
  j["max_overhead_pct"] = req.max_overhead_pct ? nlohmann::json(*req.max_overhead_pct) : nlohmann::json(nullptr);
  j["max_memory_bytes"] = req.max_memory_bytes ? nlohmann::json(*req.max_memory_bytes) : nlohmann::json(nullptr);
  return j;
}

std::string sweep_text(const SweepRequest& req, const SweepResult& r) {
  std::ostringstream os;
  os << "mhcsim sweep: " << req.scenario;
  for (const auto& o : req.overrides) os << " --set " << o;
  os << "\n\n     n    step s  baseline s  overhead   peak memory   fits    MFU\n";
  for (const auto& p : r.points)
    os << fmt("  %4.0f", p.n) << fmt("  %8.4f", p.step_time_s) << fmt("  %10.4f", p.baseline_step_time_s)
       << fmt("  %+7.2f%%", p.overhead_pct) << fmt("  %9.1f GB", p.peak_memory_bytes / 1e9)
       << (p.fits_memory ? "   yes " : "   no  ") << fmt("  %5.1f%%", 100 * p.mfu) << "\n";
  os << "\nrecommendation: " << (r.recommended_n ? "n = " + std::to_string(*r.recommended_n) : std::string("none"))
     << "\n  " << r.reason << "\n";
  return os.str();
}

}  // namespace mhc
