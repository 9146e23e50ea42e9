// Training steps: published runs against the step time `mhcsim run` predicts for them.
#include <cmath>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cost/scenario_profile.h"
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
  o << s.cluster.total_gpus() << " x " << s.cluster.gpu << ", TP" << p.tp;
  if (p.cp > 1) o << " CP" << p.cp;
  o << " PP" << p.pp;
  if (s.model.ffn.kind == FfnSpec::Kind::moe) o << " EP" << p.ep;
  if (p.etp > 1) o << " ETP" << p.etp;
  o << " DP" << p.dp << " ZeRO-" << p.zero_stage << ", " << s.schedule.kind;
  if (s.schedule.kind == "interleaved") o << " x" << s.schedule.virtual_stages;
  o << ", " << p.micro_batches() << " micro-batch" << (p.micro_batches() > 1 ? "es" : "") << " of " << p.micro_batch
    << " x " << s.model.seq_len << " tokens, " << to_string(s.model.precision.gemm_dtype());
  return o.str();
}

// One case, run in a child process (SimGrid runs once per process; the engine forks again below it).
std::string simulate_case(const StepCase& c) {
  const Scenario s = load_scenario(c.scenario);
  const Profile profile = scenario_profile(s);
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
  size_t done = 0;
  std::exception_ptr error;
  // Cases that cannot be expressed are reported without a simulation.
  std::vector<size_t> simulated;
  for (size_t i = 0; i < cases.size(); ++i) {
    if (cases[i].expressible) {
      simulated.push_back(i);
      continue;
    }
    out[i] = step_result(suite, cases[i], nlohmann::json::object());
    if (progress) progress(++done, cases.size(), cases[i].id);
  }
  const int n = std::max(1, std::min<int>(jobs, static_cast<int>(simulated.size())));
  run_in_children(
      simulated.size(), n, [&](size_t k) { return simulate_case(cases[simulated[k]]); },
      [&](size_t k) { return "accuracy case " + cases[simulated[k]].id; },
      [&](size_t k, ChildAnswer answer) {
        const size_t i = simulated[k];
        try {
          if (answer.error) std::rethrow_exception(answer.error);
          out[i] = step_result(suite, cases[i], nlohmann::json::parse(answer.value));
          out[i].wall_seconds = answer.seconds;
          if (progress) progress(++done, cases.size(), cases[i].id);
        } catch (...) {
          if (!error) error = std::current_exception();
        }
      });
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace mhc
