#include "run/run.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "core/json_input.h"
#include "cost/scenario_profile.h"
#include "model/model.h"
#include "profile/profile.h"
#include "schedule/scenario_schedule.h"

namespace mhc {

Scenario baseline_scenario(const Scenario& s) {
  Scenario b = s;
  b.mhc.variant = ResidualVariant::residual;
  b.mhc.n = 1;
  b.mhc.recompute = false;
  b.mhc.high_priority_stream = false;
  b.name = s.name + " (plain-residual baseline)";
  return b;
}

double model_flops_per_step(const Scenario& s) {
  // Model FLOPs do not depend on the layout: count the whole model's ops as one GPU (tp = 1) would
  // run them, so TP's replicated parts (MLA's down-projections) are counted once.
  Scenario b = baseline_scenario(s);
  b.parallel.tp = 1;
  // Per token of the micro-batch on one GPU: each op's FLOPs times the share of tokens it runs on, 3x
  // for forward and backward; an op without a backward (DeepSeek-V4's indexer, whose top-k passes no
  // gradient) once.
  auto step_flops = [](const OpPlan& plan) {
    double f = 0;
    for (const auto& op : plan.forward)
      if (op.kind != OpKind::mhc && op.kind != OpKind::residual) f += (op.forward_only ? 1.0 : 3.0) * op.flops * op.token_share;
    return f;
  };
  std::map<LayerKind, double> per_kind;
  for (const LayerKind& k : layer_kinds(b.model)) per_kind[k] = step_flops(layer_plan(b, k));
  double per_token = step_flops(embedding_plan(b)) + step_flops(head_plan(b));
  for (int64_t l = 0; l < b.model.layers; ++l) per_token += per_kind.at(layer_kind(b.model, l));
  const double tokens = double(b.parallel.global_batch) * double(b.model.seq_len);
  return per_token * tokens;
}

namespace {

// The step graph holds TP rank 0 of CP rank 0 of every pipeline replica (step_graph.h); the other
// ranks of its TP x CP block move the same bytes on their own GPUs. A collective node already spans
// its whole group: TP collectives the TP group (the other CP ranks have their own), CP exchanges,
// DP reductions (over DP x CP) and FSDP traffic the ranks of TP rank 0 (each TP rank has its own),
// EP groups that span TP ranks (ParallelSpec::ep_spans_tp) every rank; pipeline sends one GPU.
double other_ranks_factor(const ParallelSpec& p, const std::string& cat) {
  if (cat == "tp") return p.cp;
  if (cat == "ep" && p.ep_spans_tp()) return 1;
  if (cat == "cp" || cat == "dp" || cat == "fsdp" || cat == "ep") return p.tp;
  return double(p.tp) * p.cp;
}

void add_other_ranks_bytes(const ParallelSpec& p, const EngineResult& r, VariantRun& v) {
  for (auto& [cat, bytes] : v.network_bytes_by_category) bytes *= other_ranks_factor(p, cat);
  v.network_bytes_by_link_class.clear();
  for (const auto& [key, bytes] : r.bytes_by_category_link_class) {
    const size_t slash = key.rfind('/');
    v.network_bytes_by_link_class[key.substr(slash + 1)] += other_ranks_factor(p, key.substr(0, slash)) * bytes;
  }
}

// Everything before the simulation: the priced ops, the schedule, the step graph, and the options the
// engine will simulate it with.
VariantRun prepare_variant(const Scenario& s, const CostModel& cost, const RunOptions& options, EngineOptions& engine) {
  VariantRun v;
  v.scenario = s;
  v.costs = price_pipeline(s, cost);
  v.schedule = scenario_schedule(s);
  v.step = build_step_graph(s, v.schedule, v.costs);
  // Kernels share HBM up to the copy ceiling that priced the memory-bound ones.
  v.gpu = options.engine.gpu;
  v.gpu.hbm_Bps = cost.copy_bandwidth_Bps();
  engine = options.engine;
  engine.gpu = v.gpu;
  if (s.parallel.ep_all_to_all == "rail") engine.collective.all_to_all_algo = NcclAlgo::rail;
  return v;
}

// Everything after it: timings (the engine's, or the zero-cost evaluator's without a network), per
// rank statistics, time lost to sharing, memory.
void finish_variant(VariantRun& v, EngineResult* simulated) {
  const Scenario& s = v.scenario;
  const int ranks = v.schedule.ranks;
  if (simulated) {
    EngineResult& r = *simulated;
    v.timings = std::move(r.timings);
    v.step_time_s = r.makespan_s;
    v.network_bytes_by_category = r.bytes_by_category;
    v.network_bytes_by_link_class = r.bytes_by_link_class;
    if (s.parallel.replica_gpus() > 1) add_other_ranks_bytes(s.parallel, r, v);
    for (const auto& [cat, gpu_s] : r.exposed_comm_s_by_category) v.exposed_comm_s_by_category[cat] = gpu_s / ranks;
    v.engine_wall_s = r.wall_seconds;
    v.engine_activities = r.activities;
    v.shares = std::move(r.shares);
    v.comm_segments = std::move(r.comm_segments);
  } else {
    v.timings = evaluate_zero_cost(v.step.graph);
    for (const auto& t : v.timings) v.step_time_s = std::max(v.step_time_s, t.end);
  }
  v.ranks = rank_stats(v.step.graph, v.timings, ranks);
  v.pairs = overlapped_pairs(v.step.graph, v.timings, ranks);

  // Compute stretched beyond its own seconds, by cause (the engine's GPU model).
  for (TaskId id = 0; id < v.shares.size(); ++id) {
    const auto& n = v.step.graph[id];
    if (n.kind != NodeKind::compute || n.rank < 0) continue;
    v.lost_to_comm_s += v.shares[id].lost_to_comm_s / ranks;
    v.lost_to_corun_s += v.shares[id].lost_to_corun_s / ranks;
  }

  const auto live = live_chunk_events(v.step.graph, v.timings, ranks);
  for (int r = 0; r < ranks; ++r)
    v.memory.push_back(rank_memory(s, r, v.schedule.stage_of_chunk[r], v.ranks[r].peak_activations, live[r]));
  v.model_flops_per_step = model_flops_per_step(s);
}

}  // namespace

VariantRun run_variant(const Scenario& s, const CostModel& cost, const RunOptions& options) {
  EngineOptions engine;
  VariantRun v = prepare_variant(s, cost, options, engine);
  if (!options.network) {
    finish_variant(v, nullptr);
    return v;
  }
  EngineResult r = simulate(s.cluster, v.step.graph, engine);
  finish_variant(v, &r);
  return v;
}

RunResult run_scenario(const Scenario& s, const RunOptions& options) {
  RunResult r;
  r.profile = scenario_profile(s);
  r.pricing = options.pricing;
  const CostModel cost(r.profile, options.pricing);
  EngineOptions mhc_engine, baseline_engine;
  r.mhc = prepare_variant(s, cost, options, mhc_engine);
  r.baseline = prepare_variant(baseline_scenario(s), cost, options, baseline_engine);
  if (options.progress) {
    mhc_engine.progress_label = std::string(to_string(s.mhc.variant)) + " n = " + std::to_string(s.mhc.n);
    baseline_engine.progress_label = "baseline";
  }
  if (!options.network) {
    finish_variant(r.mhc, nullptr);
    finish_variant(r.baseline, nullptr);
    return r;
  }
  // The two simulations are independent: side by side, each in its own process.
  auto results = simulate_side_by_side({SimulationJob{&s.cluster, &r.mhc.step.graph, mhc_engine},
                                        SimulationJob{&r.baseline.scenario.cluster, &r.baseline.step.graph, baseline_engine}},
                                       options.simulations_at_once);
  finish_variant(r.mhc, &results[0]);
  finish_variant(r.baseline, &results[1]);
  return r;
}

}  // namespace mhc
