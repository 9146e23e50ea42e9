// The main job: scenario -> model ops -> cost (the profile) -> schedule -> step graph -> engine
// (SimGrid) -> results, for the scenario and for its plain-residual baseline in the same invocation.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cost/cost.h"
#include "cost/memory.h"
#include "cost/stage_costs.h"
#include "engine/engine.h"
#include "graph/evaluator.h"
#include "graph/step_graph.h"
#include "scenario/scenario.h"
#include "schedule/schedule.h"

namespace mhc {

struct RunOptions {
  // false: zero-cost network (the schedule evaluator on the same graph, communication takes no time).
  bool network = true;
  EngineOptions engine;   // its gpu.hbm_Bps is set from the profile's copy ceiling
  PricingPolicy pricing;  // what-ifs (`mhcsim run --mhc-at-floor`); the report says when one is on
  // run_scenario: the mHC and baseline simulations side by side (2: two processes, on two cores and
  // in twice the memory), or one after the other (1: a sweep, which runs points side by side already).
  int simulations_at_once = 2;
  // run_scenario: a progress line on stderr every few seconds of each simulation (`mhcsim run` on a
  // terminal, unless --quiet), naming it "mHC" or "baseline".
  bool progress = false;
};

struct VariantRun {
  Scenario scenario;
  PipelineCostTable costs;
  Schedule schedule;
  StepGraph step;
  std::vector<TaskTiming> timings;
  double step_time_s = 0;
  std::vector<RankStats> ranks;
  std::vector<PairStats> pairs;  // DualPipe pairs beside their all-to-all, per rank (pairs = 0 without FB tasks)
  std::vector<RankMemory> memory;  // per pipeline rank
  // Per step, what the step graph holds (step_graph.h): DP reductions over their whole groups;
  // pipeline transfers, EP all-to-alls and TP collectives of pipeline replica 0 (and its EP group),
  // with all of its TP ranks. Not the whole cluster for pp, ep and tp.
  std::map<std::string, double> network_bytes_by_category;
  std::map<std::string, double> network_bytes_by_link_class;
  std::map<std::string, double> exposed_comm_s_by_category;  // mean per pipeline GPU
  // How compute tasks shared their GPUs (engine/gpu_share.h), by TaskId of step.graph; empty without
  // the network. Mean per pipeline GPU: time lost to communication kernels and to co-running kernels.
  std::vector<TaskShare> shares;
  std::map<int, std::vector<GpuTimeline::Segment>> comm_segments;  // when options.engine.gpu.record_segments
  double lost_to_comm_s = 0;
  double lost_to_corun_s = 0;
  GpuModelOptions gpu;  // what the engine shared the GPUs with
  double model_flops_per_step = 0;
  double engine_wall_s = 0;
  long engine_activities = 0;
};

// The same scenario with a plain residual: n = 1, no mHC kernels, no recomputation, no
// high-priority stream; everything else (model, layout, schedule, cluster, profile) unchanged.
Scenario baseline_scenario(const Scenario& s);

VariantRun run_variant(const Scenario& s, const CostModel& cost, const RunOptions& options);

struct RunResult {
  Profile profile;  // what priced both variants
  PricingPolicy pricing;
  VariantRun mhc;
  VariantRun baseline;
};
RunResult run_scenario(const Scenario& s, const RunOptions& options);

// Model FLOPs of one step: 3 x the forward FLOPs of the plain-residual model's layer, embedding and
// head ops (GEMMs, attention, norms, elementwise) per token x the global batch's tokens. mHC kernels
// and recomputation are not model FLOPs (they are the overhead being measured).
double model_flops_per_step(const Scenario& s);

}  // namespace mhc
