// Training steps: published runs against the step time `mhcsim run` predicts for them.
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "accuracy/accuracy_tiers.h"
#include "engine/child_process.h"
#include "profile/profile.h"
#include "run/run.h"
#include "scenario/scenario.h"

namespace mhc {

namespace {

std::string layout_of(const Scenario& s) {
  const auto& p = s.parallel;
  std::ostringstream o;
  o << s.cluster.total_gpus() << " x " << s.cluster.gpu << ", TP" << p.tp << " PP" << p.pp;
  if (s.model.ffn.kind == FfnSpec::Kind::moe) o << " EP" << p.ep;
  o << " DP" << p.dp << " ZeRO-" << p.zero_stage << ", " << s.schedule.kind;
  if (s.schedule.kind == "interleaved") o << " x" << s.schedule.virtual_stages;
  o << ", " << p.micro_batches() << " micro-batch" << (p.micro_batches() > 1 ? "es" : "") << " of " << p.micro_batch
    << " x " << s.model.seq_len << " tokens, " << to_string(s.model.precision.gemm_dtype());
  return o.str();
}

// One case in a child process (SimGrid runs once per process; the engine forks again below it).
nlohmann::json simulate_case(const StepCase& c) {
  const std::string out = run_in_child(
      [&] {
        const Scenario s = load_scenario(c.scenario);
        const Profile profile = load_profile_parts(s.profile, s.published_parts);
        const CostModel cost(profile);
        const VariantRun v = run_variant(s, cost, RunOptions{});
        std::map<std::string, int> methods;
        for (const PricedOpRecord& p : v.costs.priced) ++methods[p.method];
        nlohmann::json j;
        j["step_time_s"] = v.step_time_s;
        j["model_flops_per_step"] = v.model_flops_per_step;
        j["priced_methods"] = methods;
        j["profile"] = s.profile;
        j["cluster"] = s.cluster.file;
        j["layout"] = layout_of(s);
        return j.dump();
      },
      "accuracy case " + c.id);
  return nlohmann::json::parse(out);
}

CaseResult step_result(const AccuracySuite& suite, const StepCase& c, const nlohmann::json& sim) {
  CaseResult r;
  r.tier = Tier::steps;
  r.id = c.id;
  r.source = c.source;
  r.measured_text = c.measured_text();
  r.unit = Unit::seconds;
  std::ostringstream notes;
  notes << "measured: " << c.derivation;
  for (const std::string& a : c.approximations) notes << " | approximated: " << a;
  r.notes = notes.str();
  if (!c.expressible) {
    r.expressible = false;
    r.not_expressible_reason = c.not_expressible_reason;
    r.what = c.hardware;
    r.mfu_published = c.published_mfu;
    return r;
  }
  r.what = sim["layout"].get<std::string>();
  r.measured = c.measured_step_s();
  r.predicted = sim["step_time_s"].get<double>();
  r.signed_error = (r.predicted - r.measured) / r.measured;
  r.abs_error = std::fabs(r.signed_error);
  const PeakFlops& peak = suite.peak_for(c);
  const double flops = sim["model_flops_per_step"].get<double>();
  r.mfu_measured = flops / (c.gpus * peak.flops * r.measured);
  r.mfu_predicted = flops / (c.gpus * peak.flops * r.predicted);
  r.mfu_published = c.published_mfu;
  std::ostringstream pk;
  pk << to_string(c.gemm_dtype) << " " << peak.flops / 1e12 << " TFLOP/s (" << peak.source << ")";
  r.mfu_peak = pk.str();
  std::ostringstream rel;
  rel << sim["profile"].get<std::string>() << " (";
  bool first = true;
  for (const auto& [method, count] : sim["priced_methods"].items()) {
    rel << (first ? "" : ", ") << count.get<int>() << " ops " << method;
    first = false;
  }
  rel << "); " << sim["cluster"].get<std::string>() << " links; NCCL 2.23 tuner constants";
  r.relied_on = rel.str();
  return r;
}

}  // namespace

std::vector<CaseResult> run_step_cases(const AccuracySuite& suite, int jobs,
                                       const std::function<void(size_t, size_t, const std::string&)>& progress) {
  const auto& cases = suite.steps;
  std::vector<CaseResult> out(cases.size());
  std::atomic<size_t> next{0};
  size_t done = 0;
  std::mutex mutex;
  std::exception_ptr error;
  auto worker = [&] {
    for (size_t i = next++; i < cases.size(); i = next++) {
      try {
        const auto t0 = std::chrono::steady_clock::now();
        const nlohmann::json sim = cases[i].expressible ? simulate_case(cases[i]) : nlohmann::json::object();
        CaseResult r = step_result(suite, cases[i], sim);
        r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::lock_guard<std::mutex> lock(mutex);
        out[i] = std::move(r);
        if (progress) progress(++done, cases.size(), cases[i].id);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  const int n = std::max(1, std::min<int>(jobs, static_cast<int>(cases.size())));
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace mhc
