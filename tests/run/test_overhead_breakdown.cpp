// The report's overhead breakdown (report.cpp, /overhead_breakdown) term by term against a timeline
// worked out by hand: one pipeline rank whose mHC step and baseline step are built as task graphs
// from chosen op times, run through the engine, and read by report_json. Every term is non-zero and
// follows from the op times and the GPU model's sharing rule (engine/gpu_share.h) on paper.
#include <gtest/gtest.h>

#include "core/json_input.h"
#include "engine/engine.h"
#include "graph/evaluator.h"
#include "profile/profile.h"
#include "report/report.h"
#include "support/engine_test_util.h"

using namespace mhc;
using namespace mhc::test;

namespace {

constexpr double kS = 132, kCommSms = 20;  // h100_cluster's SMs; the SMs a transfer's kernel holds
constexpr double kNvlink = 450e9, kNvlinkLatency = 1e-6;

// One variant's op times on rank 0 (GPU 0). F and B are the forward and backward chunk as the stage
// costs give them by class; `hp` is the part of the backward's mHC kernels that runs as its own task
// on the high-priority stream beside B (the FFN post-res kernels, paper 4.3.3), on hp_sms SMs.
struct Ops {
  double f_layer, f_mhc;
  double b_layer, b_mhc, b_mhc_recompute;
  double hp, hp_sms;
  double transfer_s;  // a transfer GPU 0 -> GPU 1 that starts with B and must end before the optimizer
  double optimizer;
};

// F, then B (with the high-priority task and the transfer beside it), then the optimizer.
VariantRun variant(const Scenario& s, const ClusterSpec& c, const Ops& o) {
  VariantRun v;
  v.scenario = s;
  StageCost stage;
  stage.F.add("layer", o.f_layer);
  stage.F.add("mhc", o.f_mhc);
  stage.B.add("layer", o.b_layer);
  stage.B.add("mhc", o.b_mhc);
  if (o.b_mhc_recompute > 0) stage.B.add("mhc_recompute", o.b_mhc_recompute);
  v.costs.stages = {stage};
  v.schedule.ranks = 1;
  v.schedule.model_stages = 1;
  v.schedule.stage_of_chunk = {{0}};
  ScheduledTask f, b;
  f.phase = Phase::F, b.phase = Phase::B;
  f.micro = b.micro = 0, f.chunk = b.chunk = 0, f.stage = b.stage = 0;
  v.schedule.per_rank = {{f, b}};

  TaskGraph& g = v.step.graph;
  auto on_rank0 = [&](TaskId id, Phase phase, const std::string& category) {
    g[id].rank = 0, g[id].phase = phase, g[id].category = category;
    if (phase != Phase::none) g[id].micro = 0, g[id].chunk = 0;
    return id;
  };
  const TaskId F = on_rank0(add_compute(g, "F", 0, o.f_layer + o.f_mhc), Phase::F, "compute");
  const TaskId B = on_rank0(add_compute(g, "B", 0, o.b_layer + o.b_mhc - o.hp + o.b_mhc_recompute), Phase::B, "compute");
  const TaskId O = on_rank0(add_compute(g, "optimizer", 0, o.optimizer), Phase::none, "optimizer");
  // A lone NVLink flow takes its route latency plus bytes / bandwidth.
  const TaskId T = add_transfer(g, "T", 0, 1, kNvlink * (o.transfer_s - kNvlinkLatency), "dp");
  for (auto [from, to] : {std::pair{F, B}, {F, T}, {B, O}, {T, O}}) boost::add_edge(from, to, g);
  if (o.hp > 0) {
    const TaskId H = on_rank0(add_compute(g, "H", 0, o.hp, Stream::high_priority, o.hp_sms / kS), Phase::none, "mhc");
    boost::add_edge(F, H, g);
    boost::add_edge(H, O, g);
  }
  v.step.ranks = 1;
  EngineResult r = simulate(c, g, EngineOptions{});  // HBM unmodelled: kernels share SMs only
  v.timings = r.timings;
  v.step_time_s = r.makespan_s;
  v.shares = r.shares;
  v.ranks = rank_stats(g, v.timings, 1);
  return v;
}

}  // namespace

TEST(OverheadBreakdown, EveryTermAgainstATimelineByHand) {
  ClusterSpec c = h100_cluster(1, 2);
  c.comm_sms = int(kCommSms);
  const Scenario s = load_scenario(std::string(MHC_SOURCE_DIR) + "/scenarios/small.json");
  RunResult r;
  r.profile = load_profile_parts(s.profile, s.published_parts);
  // mHC: kernels of 0.05 s forward, 0.08 s backward (0.04 s of them on the high-priority stream on 40
  // SMs) and 0.02 s recomputed; a 4x larger transfer (0.9 s: n x the baseline's bytes, plus latency);
  // the optimizer also updates mHC's parameters (0.010 s against 0.008 s).
  const Ops m{0.30, 0.05, 0.60, 0.08, 0.02, 0.04, 40, 0.9, 0.010};
  const Ops b{0.30, 0.00, 0.60, 0.00, 0.00, 0.00, 0, 0.2, 0.008};
  r.mhc = variant(s, c, m);
  r.baseline = variant(s, c, b);

  // By hand. The transfer's kernel holds 20 of 132 SMs from B's start to the transfer's end.
  // mHC, from F's end: H takes its 40 SMs first (high priority) and runs at full speed for 0.04 s,
  // B gets the remaining 72 (speed 72/132; 92/132 without the transfer); then 112/132 until B ends,
  // which is before the transfer does (0.79 s < 0.9 s). B's work 0.66 s alone:
  const double b_work = m.b_layer + m.b_mhc - m.hp + m.b_mhc_recompute;
  const double b_m = m.hp + (b_work - m.hp * (kS - kCommSms - m.hp_sms) / kS) * kS / (kS - kCommSms);
  ASSERT_LT(b_m, m.transfer_s);
  // B loses 20/132 of every second it runs to the transfer, and 40/132 of H's 0.04 s to H.
  const double comm_m = b_m * kCommSms / kS, corun_m = m.hp * m.hp_sms / kS;
  // The optimizer waits for the transfer: the rank idles from B's end to the transfer's end.
  const double step_m = m.f_layer + m.f_mhc + m.transfer_s + m.optimizer, idle_m = m.transfer_s - b_m;
  // Baseline: B runs at 112/132 during the 0.2 s transfer, then alone; no idle time.
  const double b_b = b.b_layer + b.transfer_s * kCommSms / kS, comm_b = b.transfer_s * kCommSms / kS;
  const double step_b = b.f_layer + b_b + b.optimizer;
  ASSERT_GT(b_b, b.transfer_s);
  // The engine runs that timeline (checked here so that a failure below points at the report).
  ASSERT_NEAR(r.mhc.step_time_s, step_m, 1e-9);
  ASSERT_NEAR(r.baseline.step_time_s, step_b, 1e-9);

  const auto j = report_json(r);
  const auto& br = j["overhead_breakdown"];
  const double tol = 1e-9;  // the engine's clock (SimGrid's timing precision) over ~1 s
  EXPECT_EQ(br["rank"], 0);
  EXPECT_NEAR(br["delta_step_s"].get<double>(), step_m - step_b, tol);
  EXPECT_NEAR(j["overhead_pct"].get<double>(), 100 * (1.26 / 0.938303030303 - 1), 1e-8);  // 34.28%
  // The mHC kernels, by pass, from the stage costs: forward 0.05, backward 0.08 (the high-priority
  // part included), recompute 0.02.
  EXPECT_NEAR(br["mhc_kernels_s"]["forward"].get<double>(), 0.05, 1e-15);
  EXPECT_NEAR(br["mhc_kernels_s"]["backward"].get<double>(), 0.08, 1e-15);
  EXPECT_NEAR(br["mhc_kernels_s"]["recompute"].get<double>(), 0.02, 1e-15);
  EXPECT_NEAR(br["mhc_kernels_s"]["total"].get<double>(), 0.15, 1e-15);
  // Other compute: the optimizer's extra 0.002 s (layers unchanged).
  EXPECT_NEAR(br["other_compute_s"].get<double>(), 0.002, 1e-15);
  // Compute slowed by communication: 20/132 x (0.792 s of mHC B - 0.2 s of baseline B under a transfer).
  EXPECT_NEAR(br["compute_slowed_by_comm_s"].get<double>(), comm_m - comm_b, tol);
  // Hidden: H's 0.04 s ran inside B's span, less the 40/132 of it that B lost to H: -0.04 x 92/132.
  EXPECT_NEAR(br["mhc_hidden_under_other_kernels_s"].get<double>(), -(m.hp - corun_m), tol);
  EXPECT_NEAR(br["mhc_hidden_under_other_kernels_s"].get<double>(), -0.04 * 92 / 132, tol);
  // Bubble: the mHC rank idles 0.9 - 0.792 s waiting on its longer transfer; the baseline never idles.
  EXPECT_NEAR(br["bubble_s"].get<double>(), idle_m, tol);
  // The engine's losses account for every second of busy time beyond the tasks' own (a check on the
  // engine's accounting, not on the sum: the terms above are each pinned by hand).
  EXPECT_NEAR(br["checks"]["busy_unaccounted_s"].get<double>(), 0.0, tol);
  // The hand values: 0.15 + 0.002 + 0.0897 - 0.0279 + 0.1078 = 0.3217 s.
  EXPECT_NEAR(0.15 + 0.002 + (comm_m - comm_b) - (m.hp - corun_m) + idle_m, step_m - step_b, 1e-12);
}
