// End-to-end properties of `mhcsim run` on the small scenario.
#include <algorithm>
#include <fstream>
#include <numeric>

#include <map>

#include <gtest/gtest.h>

#include "core/json_input.h"
#include "model/model.h"
#include "profile/profile.h"
#include "report/report.h"
#include "run/run.h"
#include "schedule/scenario_schedule.h"

using namespace mhc;

namespace {
const std::string kSmall = std::string(MHC_SOURCE_DIR) + "/scenarios/small.json";

Scenario small(std::vector<std::string> overrides = {}) { return load_scenario(kSmall, overrides); }

RunOptions zero_network() {
  RunOptions o;
  o.network = false;
  return o;
}

double busy(const VariantRun& v, int r) { return v.ranks.at(r).busy; }

// Model FLOPs against a count by hand of small-moe.json (C 1024, 8 GQA layers of 8 x 128 query and
// 2 x 128 KV heads, 16 experts of 512 top-2 + 1 shared, SwiGLU, vocabulary 32768, 2048 tokens):
// 2 FLOPs per multiply-add of every GEMM, causal attention over (s + 1) / 2 keys on average, 3 x the
// forward for forward + backward. Norms, RoPE and SwiGLU's products add 0.18%, inside the tolerance;
// a GEMM counted twice or missed, or attention counted over all s keys, is not.
double small_moe_flops_per_step_by_hand() {
  const double C = 1024, q = 8 * 128, kv = 2 * 128, s = 2048, expert = 512, vocab = 32768;
  const double projections = 2 * C * q + 2 * 2 * C * kv + 2 * q * C;  // Q, K and V, O
  const double attention = 2 * (2 * 8 * 128 * (s + 1) / 2);            // QK^T and PV per query
  const double router = 2 * C * 16;
  const double experts = 3 * (3 * 2 * C * expert);  // 2 routed + 1 shared, gate/up/down each
  const double per_token = 8 * (projections + attention + router + experts) + 2 * C * vocab;
  const double tokens = 16 * s;  // global batch 16 sequences
  return 3 * per_token * tokens;
}
}  // namespace

TEST(Run, NEqualsOneMhcIsTheBaselinePlusItsKernels) {
  auto s = small({"/mhc/n=1", "/mhc/recompute=false"});
  auto r = run_scenario(s, zero_network());
  // Same pipeline traffic, and each rank's extra busy time is exactly its mHC kernels.
  EXPECT_DOUBLE_EQ(r.mhc.costs.pp_bytes_per_microbatch, r.baseline.costs.pp_bytes_per_microbatch);
  double total_kernels = 0;
  for (int rank = 0; rank < r.mhc.schedule.ranks; ++rank) {
    auto m = rank_compute_by_class(r.mhc, rank), b = rank_compute_by_class(r.baseline, rank);
    const double kernels = m["mhc_forward"] + m["mhc_backward"] - b["mhc_forward"] - b["mhc_backward"];
    EXPECT_GT(kernels, 0);
    // The optimizer step also updates mHC's own parameters (phi, gates, biases) on the rank's stages.
    double optimizer = 0;
    for (int stage : r.mhc.schedule.stage_of_chunk[rank])
      optimizer += r.mhc.costs.stages[stage].optimizer_seconds - r.baseline.costs.stages[stage].optimizer_seconds;
    EXPECT_GT(optimizer, 0);
    EXPECT_NEAR(busy(r.mhc, rank) - busy(r.baseline, rank), kernels + optimizer, 1e-12);
    EXPECT_NEAR(m["layer"], b["layer"], 1e-12);
    total_kernels += kernels;
  }
  // A longer task can lengthen the longest path by at most the work added.
  const double delta = r.mhc.step_time_s - r.baseline.step_time_s;
  EXPECT_GT(delta, 0);
  EXPECT_LE(delta, total_kernels + 1e-12);
}

TEST(Run, OverheadGrowsWithN) {
  double last = -1;
  for (int n : {1, 2, 4, 8}) {
    auto r = run_scenario(small({"/mhc/n=" + std::to_string(n)}), RunOptions{});
    const double overhead = r.mhc.step_time_s / r.baseline.step_time_s - 1;
    EXPECT_GT(overhead, last) << "n = " << n;
    last = overhead;
  }
}

TEST(Run, UnfusedCostsMoreByExactlyTheKernelTimeDifference) {
  auto fused = run_scenario(small({"/mhc/recompute=false"}), zero_network());
  auto unfused = run_scenario(small({"/mhc/recompute=false", "/mhc/fused=false"}), zero_network());
  EXPECT_GT(unfused.mhc.step_time_s, fused.mhc.step_time_s);
  EXPECT_DOUBLE_EQ(unfused.baseline.step_time_s, fused.baseline.step_time_s);

  // Independently: price each variant's residual-stream kernels of one sublayer with the profile.
  const Scenario s = small();
  const CostModel cost(load_profile_parts(s.profile, s.published_parts));
  const double T = double(s.parallel.micro_batch * s.model.seq_len);
  auto sublayer_seconds = [&](bool is_fused, Pass pass) {
    double t = 0;
    for (const auto& op : residual_stream_ops(ResidualVariant::mhc, is_fused, s.mhc.n, s.model.hidden,
                                              s.mhc.sinkhorn_iters, pass, "x"))
      t += cost.price(op, T).seconds;
    return t;
  };
  const double per_sublayer_fwd = sublayer_seconds(false, Pass::forward) - sublayer_seconds(true, Pass::forward);
  const double per_sublayer_bwd =
      sublayer_seconds(false, Pass::backward_input) - sublayer_seconds(true, Pass::backward_input);
  ASSERT_GT(per_sublayer_fwd, 0);
  for (int rank = 0; rank < fused.mhc.schedule.ranks; ++rank) {
    // Every rank runs M forward and M backward chunks of its stage's 2 x layers sublayers.
    const double sublayers = 2.0 * double(s.parallel.stage_layers[rank]) * double(s.parallel.micro_batches());
    EXPECT_NEAR(busy(unfused.mhc, rank) - busy(fused.mhc, rank), sublayers * (per_sublayer_fwd + per_sublayer_bwd),
                1e-9 * busy(fused.mhc, rank));
  }
}

TEST(Run, ZeroCostNetworkEngineEqualsTheScheduleEvaluator) {
  // The pipeline alone (compute and transfers) on a network with no latency and the readers' largest
  // bandwidth (1e9 GB/s: 100 MB cross in 1e-10 s).
  auto s = small({"/cluster/nvlink/bandwidth_GBps=1e9", "/cluster/nvlink/latency_us=0",
                  "/cluster/nics/bandwidth_GBps=1e9", "/cluster/nics/latency_us=0", "/cluster/gpu/comm_sms=0"});
  const CostModel cost(load_profile_parts(s.profile, s.published_parts));
  auto costs = price_pipeline(s, cost);
  auto schedule = scenario_schedule(s);
  StepGraphOptions pipeline_only;
  pipeline_only.with_collectives = false;
  auto step = build_step_graph(s, schedule, costs, pipeline_only);
  auto engine = simulate(s.cluster, step.graph, EngineOptions{});
  auto eval = evaluate_zero_cost(step.graph);
  ASSERT_EQ(engine.timings.size(), eval.size());
  double makespan = 0;
  for (const auto& t : eval) makespan = std::max(makespan, t.end);
  // The engine gives every route the same tiny raw latency so that SimGrid shares links fairly
  // (CM02 weights a flow's share by its route latency); on a zero-latency network that leaves about 1e-10 s per transfer. A real
  // error (a task priced or ordered differently) would be a microsecond or more.
  const double tol = 1e-6 * makespan;
  EXPECT_NEAR(engine.makespan_s, makespan, tol);
  for (size_t i = 0; i < eval.size(); ++i) {
    EXPECT_NEAR(engine.timings[i].start, eval[i].start, tol) << step.graph[i].name;
    EXPECT_NEAR(engine.timings[i].end, eval[i].end, tol) << step.graph[i].name;
  }
}

// The overhead breakdown's terms are each checked against a timeline by hand in
// test_overhead_breakdown.cpp; here, on the small scenario: the report's keys, the engine's loss
// accounting, MFU against a hand count, the pipeline bytes and the priced ops' sources.
TEST(Run, ReportHasEveryKeyAndMfuByHand) {
  auto r = run_scenario(small(), RunOptions{});
  auto j = report_json(r);
  for (auto key : {"step_time_s", "baseline_step_time_s", "overhead_pct", "bubble", "memory", "io_per_token",
                   "network_bytes", "mfu", "overhead_breakdown", "priced_ops"})
    EXPECT_TRUE(j.contains(key)) << key;
  // Busy time on the bottleneck rank = its tasks' own seconds (from the stage costs) + what the engine
  // says they lost to communication and co-running kernels: nothing unaccounted.
  EXPECT_NEAR(j["overhead_breakdown"]["checks"]["busy_unaccounted_s"].get<double>(), 0.0, 1e-9);
  // MFU = model FLOPs / (step x GPUs x peak), every factor from outside the report: the FLOPs counted by
  // hand (ModelFlopsPerStepMatchACountByHand), the cluster's 2 x 4 GPUs, the profile's measured bf16
  // GEMM ceiling read from its file. 0.5%: the hand count leaves out norms and elementwise ops
  // (0.18% today); a factor error (GPUs of one replica, forward FLOPs only, a wrong peak) is far outside.
  const double gpus = 2 * 4;
  const double peak = nlohmann::json::parse(std::ifstream(r.mhc.scenario.profile))["ceilings"]["peak_flops"]["bf16"]["value"].get<double>();
  EXPECT_DOUBLE_EQ(j["mfu"]["peak_flops_per_gpu"].get<double>(), peak);
  const double flops = small_moe_flops_per_step_by_hand();
  EXPECT_NEAR(j["mfu"]["mhc"].get<double>() / (flops / (r.mhc.step_time_s * gpus * peak)), 1.0, 0.005);
  EXPECT_NEAR(j["mfu"]["baseline"].get<double>() / (flops / (r.baseline.step_time_s * gpus * peak)), 1.0, 0.005);
  // Pipeline bytes: n x C per token for mHC, C for the baseline, bf16.
  EXPECT_DOUBLE_EQ(r.mhc.costs.pp_bytes_per_microbatch, 2048.0 * 4 * 1024 * 2);
  EXPECT_DOUBLE_EQ(r.baseline.costs.pp_bytes_per_microbatch, 2048.0 * 1024 * 2);
  // Every priced op says how and from what.
  for (const auto& p : j["priced_ops"]) EXPECT_FALSE(p["source"].get<std::string>().empty()) << p["op"];
}

// Paper 4.3.3: the FFN's post-res kernels on a high-priority stream run beside the other chunk of a
// DualPipe pair, on SMs the pair's compute leaves and HBM its GEMMs do not use; off, they run in
// their own chunk. The baseline has no mHC kernels, so only the mHC step moves.
TEST(Run, HighPriorityStreamHidesPostResUnderTheOtherChunk) {
  auto on = run_scenario(small({"/schedule/kind=dualpipe", "/mhc/high_priority_stream=true"}), RunOptions{});
  auto off = run_scenario(small({"/schedule/kind=dualpipe", "/mhc/high_priority_stream=false"}), RunOptions{});
  EXPECT_LT(on.mhc.step_time_s, off.mhc.step_time_s);
  EXPECT_DOUBLE_EQ(on.baseline.step_time_s, off.baseline.step_time_s);
  const auto hidden = [](const RunResult& r) {
    return report_json(r)["overhead_breakdown"]["mhc_hidden_under_other_kernels_s"].get<double>();
  };
  EXPECT_LT(hidden(on), 0.0);
  EXPECT_NEAR(hidden(off), 0.0, 1e-12);
  // Every high-priority kernel co-ran with its pair's compute: it lost time to it, or took SMs from it.
  double corun = 0;
  for (TaskId id = 0; id < on.mhc.shares.size(); ++id)
    if (on.mhc.step.graph[id].stream == Stream::high_priority || on.mhc.step.graph[id].phase == Phase::FB)
      corun += on.mhc.shares[id].lost_to_corun_s;
  EXPECT_GT(corun, 0.0);
}

TEST(Run, AnEpGroupInsideOneReplicaIsItsTpRanks) {
  // ep divides dp x tp but not dp: the EP group is the replica's two TP ranks (ParallelSpec::ep_spans_tp).
  auto s = small({"/parallelism/tp=2", "/parallelism/dp=1", "/parallelism/ep=2", "/parallelism/global_batch=8"});
  ASSERT_TRUE(s.parallel.ep_spans_tp());
  const RunResult r = run_scenario(s, RunOptions{});
  int all_to_alls = 0;
  for (TaskId id = 0; id < boost::num_vertices(r.mhc.step.graph); ++id) {
    const TaskNode& n = r.mhc.step.graph[id];
    if (n.kind != NodeKind::collective || n.category != "ep") continue;
    ++all_to_alls;
    ASSERT_EQ(n.group.size(), 2u) << n.name;
    EXPECT_EQ(n.group[1], n.group[0] + 1) << n.name;  // the TP pair, on NVLink
  }
  EXPECT_GT(all_to_alls, 0);
  EXPECT_GT(r.mhc.network_bytes_by_category.at("ep"), 0);
}

TEST(Run, FoldedStepGraphEqualsEveryReplicaSimulated) {
  // One pipeline replica with collectives over whole groups (what `run` simulates) against every
  // data-parallel replica on its own GPUs with each collective joined across its members.
  // The last case adds TP (groups on NVLink pairs) under EP and DP: TP2 PP2 DP2 EP2.
  const std::vector<std::vector<std::string>> cases = {
      {"/schedule/kind=1f1b"},
      {"/schedule/kind=zb1p"},
      {"/schedule/kind=dualpipe"},
      {"/schedule/kind=1f1b", "/parallelism/tp=2", "/parallelism/pp=2", "/parallelism/dp=2"}};
  for (const auto& overrides : cases) {
    const std::string schedule = overrides.size() > 1 ? "tp2 1f1b" : overrides[0];
    auto s = small(overrides);
    const CostModel cost(load_profile_parts(s.profile, s.published_parts));
    auto costs = price_pipeline(s, cost);
    auto sched = scenario_schedule(s);
    StepGraphOptions unfolded;
    unfolded.all_replicas = true;
    auto folded_graph = build_step_graph(s, sched, costs);
    auto full_graph = build_step_graph(s, sched, costs, unfolded);
    ASSERT_GT(boost::num_vertices(full_graph.graph), boost::num_vertices(folded_graph.graph));
    EngineOptions no_engine_fold;
    no_engine_fold.fold_replicas = false;
    auto folded = simulate(s.cluster, folded_graph.graph, no_engine_fold);
    auto full = simulate(s.cluster, full_graph.graph, no_engine_fold);
    EXPECT_NEAR(folded.makespan_s, full.makespan_s, 1e-9 * full.makespan_s) << schedule;
    // Replica 0's tasks start and end at the same times in both (found by name: the optimizer steps
    // follow the DP reductions, which the two graphs hold in different numbers).
    std::map<std::string, TaskId> in_full;
    for (TaskId v = 0; v < boost::num_vertices(full_graph.graph); ++v) in_full[full_graph.graph[v].name] = v;
    for (TaskId v = 0; v < boost::num_vertices(folded_graph.graph); ++v) {
      if (folded_graph.graph[v].kind != NodeKind::compute) continue;
      auto it = in_full.find(folded_graph.graph[v].name);
      ASSERT_NE(it, in_full.end()) << folded_graph.graph[v].name;
      EXPECT_NEAR(folded.timings[v].end, full.timings[it->second].end, 1e-9 * full.makespan_s) << folded_graph.graph[v].name;
    }
  }
}

TEST(Run, DualPipeReducesEachStageOnceOverBothOfItsCopies) {
  // DualPipe holds stage s on ranks s and P-1-s: one gradient reduction per stage spans both copies'
  // data-parallel groups and waits for the last weight gradient of each copy. 1F1B holds each stage once.
  for (const char* schedule : {"dualpipe", "1f1b"}) {
    auto s = small({std::string("/schedule/kind=") + schedule});
    const CostModel cost(load_profile_parts(s.profile, s.published_parts));
    auto sched = scenario_schedule(s);
    auto graph = build_step_graph(s, sched, price_pipeline(s, cost));
    const TaskGraph& g = graph.graph;
    const int P = s.parallel.pp, dp = s.parallel.dp;
    const bool two_copies = std::string(schedule) == "dualpipe";
    int reductions = 0;
    for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
      const TaskNode& n = g[v];
      if (n.kind != NodeKind::collective || n.category != "dp" || n.name.find("expert") != std::string::npos) continue;
      ++reductions;
      std::vector<int> expected = graph.layout.dp_group[n.rank];
      std::vector<int> ranks_waited;
      for (auto [e, end] = boost::in_edges(v, g); e != end; ++e) ranks_waited.push_back(g[boost::source(*e, g)].rank);
      std::sort(ranks_waited.begin(), ranks_waited.end());
      ranks_waited.erase(std::unique(ranks_waited.begin(), ranks_waited.end()), ranks_waited.end());
      if (two_copies) {
        const auto& mirror = graph.layout.dp_group[P - 1 - n.rank];
        expected.insert(expected.end(), mirror.begin(), mirror.end());
        EXPECT_EQ(ranks_waited, (std::vector<int>{n.rank, P - 1 - n.rank})) << n.name;
      } else {
        EXPECT_EQ(ranks_waited, std::vector<int>{n.rank}) << n.name;
      }
      EXPECT_EQ(n.group, expected) << n.name;
      EXPECT_EQ(static_cast<int>(n.group.size()), (two_copies ? 2 : 1) * dp) << n.name;
    }
    EXPECT_EQ(reductions, P) << schedule << ": one reduction per model stage";
  }
}

// The optimizer steps once the rank's whole schedule has run (training loops call it after the
// pipeline schedule returns): under DualPipe a rank holds two stages, and neither stage's optimizer
// step may overlap the other chunk's compute.
TEST(Run, OptimizerStepStartsAfterEveryComputeTaskOfItsGpu) {
  auto r = run_scenario(small({"/schedule/kind=dualpipe"}), RunOptions{});
  const TaskGraph& g = r.mhc.step.graph;
  std::map<int, double> last_compute_end;  // by GPU
  for (TaskId v = 0; v < boost::num_vertices(g); ++v)
    if (g[v].kind == NodeKind::compute && g[v].category != "optimizer")
      last_compute_end[g[v].gpu] = std::max(last_compute_end[g[v].gpu], r.mhc.timings[v].end);
  int steps = 0;
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
    if (g[v].category != "optimizer" || g[v].rank < 0) continue;  // replica 0's
    ++steps;
    EXPECT_GE(r.mhc.timings[v].start, last_compute_end.at(g[v].gpu)) << g[v].name;
  }
  EXPECT_EQ(steps, 2 * r.mhc.scenario.parallel.pp);  // two stages per rank
}

TEST(Run, MhcAtFloorWhatIfPricesOnlyTheMhcKernelsAtTheirRoofline) {
  RunOptions floor_opts;
  floor_opts.pricing.mhc_at_floor = true;
  auto measured = run_scenario(small(), RunOptions{});
  auto at_floor = run_scenario(small(), floor_opts);
  auto j = report_json(at_floor);
  ASSERT_EQ(j["what_if"].size(), 1u);
  EXPECT_EQ(report_json(measured)["what_if"].size(), 0u);
  // The baseline has no mHC kernels: identical. Perfect kernels cannot be slower than measured ones.
  EXPECT_DOUBLE_EQ(at_floor.baseline.step_time_s, measured.baseline.step_time_s);
  EXPECT_LT(at_floor.mhc.step_time_s, measured.mhc.step_time_s);
  // Each mHC op's price is the roofline of its own query; other ops keep their measured prices.
  int mhc_ops = 0;
  for (size_t i = 0; i < at_floor.mhc.costs.priced.size(); ++i) {
    const auto& p = at_floor.mhc.costs.priced[i];
    const auto& q = measured.mhc.costs.priced[i];
    ASSERT_EQ(p.op, q.op);
    if (p.kernel.rfind("mhc_", 0) == 0) {
      ++mhc_ops;
      EXPECT_EQ(p.source.rfind("what-if --mhc-at-floor", 0), 0u) << p.op;
      EXPECT_EQ(p.method, "roofline") << p.op;
    } else {
      EXPECT_EQ(p.seconds, q.seconds) << p.op;
      EXPECT_EQ(p.source, q.source) << p.op;
    }
  }
  EXPECT_GT(mhc_ops, 0);
}

TEST(Run, MfuIsTakenAgainstThePeakOfTheGemmPrecision) {
  // An FP8 run against the FP8 peak (issue 18): against bf16 the same run could pass 100%.
  auto r = run_scenario(small({"/model/precision=fp8-tensor"}), RunOptions{});
  auto j = report_json(r);
  EXPECT_EQ(j["mfu"]["peak_dtype"], "fp8");
  const CostModel cost(r.profile);
  EXPECT_DOUBLE_EQ(j["mfu"]["peak_flops_per_gpu"].get<double>(), cost.peak_flops(DType::fp8));
  EXPECT_GT(cost.peak_flops(DType::fp8), cost.peak_flops(DType::bf16));
  EXPECT_LE(j["mfu"]["baseline"].get<double>(), 1.0);
  auto bf = report_json(run_scenario(small(), RunOptions{}));
  EXPECT_EQ(bf["mfu"]["peak_dtype"], "bf16");
  EXPECT_DOUBLE_EQ(bf["mfu"]["peak_flops_per_gpu"].get<double>(), cost.peak_flops(DType::bf16));
}

// The scenario and its baseline simulated side by side (two processes) give exactly what they give one
// after the other: the engine's answers travel whole through the pipes and land in their own variant.
TEST(Run, SideBySideSimulationsEqualOneAfterTheOther) {
  const Scenario s = small({"/mhc/n=4"});
  RunOptions one, two;
  one.simulations_at_once = 1;
  two.simulations_at_once = 2;
  const RunResult a = run_scenario(s, one), b = run_scenario(s, two);
  for (auto [x, y] : {std::pair{&a.mhc, &b.mhc}, std::pair{&a.baseline, &b.baseline}}) {
    EXPECT_EQ(x->step_time_s, y->step_time_s);
    EXPECT_EQ(x->engine_activities, y->engine_activities);
    ASSERT_EQ(x->timings.size(), y->timings.size());
    for (size_t i = 0; i < x->timings.size(); ++i) {
      EXPECT_EQ(x->timings[i].start, y->timings[i].start) << "task " << i;
      EXPECT_EQ(x->timings[i].end, y->timings[i].end) << "task " << i;
    }
    EXPECT_EQ(x->network_bytes_by_category, y->network_bytes_by_category);
    EXPECT_EQ(x->exposed_comm_s_by_category, y->exposed_comm_s_by_category);
  }
  EXPECT_NE(a.mhc.step_time_s, a.baseline.step_time_s) << "the two variants are told apart";
}

TEST(Run, ModelFlopsPerStepMatchACountByHand) {
  EXPECT_NEAR(model_flops_per_step(small()) / small_moe_flops_per_step_by_hand(), 1.0, 0.005);
}
