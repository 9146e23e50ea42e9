// Tensor parallelism with sequence parallelism in `mhcsim run`: split GEMMs and heads, TP collectives
// priced by the NCCL model, TP bytes independent of mHC's n, memory of TP-split weights, and the
// node limit on a TP group.
#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "core/json_input.h"
#include "engine/nccl_model.h"
#include "model/model.h"
#include "profile/profile.h"
#include "report/report.h"
#include "run/run.h"

using namespace mhc;

namespace {
const std::string kSmall = std::string(MHC_SOURCE_DIR) + "/scenarios/small.json";
const std::string kDenseTp2 = std::string(MHC_SOURCE_DIR) + "/scenarios/dense-gpt-13b-h100-tp2.json";

// The small MoE scenario on 2 x 4 GPUs with TP2 PP4 (one replica, EP off).
Scenario small_tp2(std::vector<std::string> extra = {}) {
  std::vector<std::string> o = {"/parallelism/tp=2", "/parallelism/dp=1", "/parallelism/ep=1",
                                "/parallelism/global_batch=8"};
  o.insert(o.end(), extra.begin(), extra.end());
  return load_scenario(kSmall, o);
}

// The shipped dense 13B TP2 scenario, or the same at tp = 1 (dp doubled to keep the GPU count).
Scenario dense(int tp) {
  if (tp == 2) return load_scenario(kDenseTp2);
  return load_scenario(kDenseTp2, {"/parallelism/tp=1", "/parallelism/dp=32"});
}

const Op& find_op(const std::vector<Op>& ops, const std::string& name) {
  auto it = std::find_if(ops.begin(), ops.end(), [&](const Op& op) { return op.name == name; });
  if (it == ops.end()) throw std::runtime_error("no op " + name);
  return *it;
}
}  // namespace

TEST(TensorParallel, SplitGemmsAndHeadsHalveAtTp2) {
  const OpPlan one = layer_plan(dense(1), LayerKind::dense_ffn), two = layer_plan(dense(2), LayerKind::dense_ffn);
  for (const char* name : {"attn.qkv_proj", "attn.o_proj", "ffn.up", "ffn.down", "attn.core"}) {
    const Op &a = find_op(one.forward, name), &b = find_op(two.forward, name);
    EXPECT_EQ(b.flops * 2, a.flops) << name;
    EXPECT_EQ(b.token_share, 1.0) << name;  // TP regions see every token of the micro-batch
  }
  EXPECT_EQ(find_op(two.forward, "attn.core").attention.heads * 2, find_op(one.forward, "attn.core").attention.heads);
  // Weight-gradient GEMMs halve too.
  for (const char* name : {"attn.qkv_proj.wgrad", "ffn.down.wgrad"})
    EXPECT_EQ(find_op(two.backward_weight, name).flops * 2, find_op(one.backward_weight, name).flops) << name;
  // Outside the TP regions (norms, mHC kernels): same per-token work on half the tokens.
  for (const Op& op : two.forward)
    if (op.kind == OpKind::mhc || op.kind == OpKind::norm) {
      EXPECT_EQ(op.token_share, 0.5) << op.name;
      EXPECT_EQ(op.flops, find_op(one.forward, op.name).flops) << op.name;
    }
}

TEST(TensorParallel, MhcKernelTimePerGpuIsThatOfTheLocalTokens) {
  // At tp = 2 every mHC kernel is priced on T/2 tokens: exactly what a tp = 1 run with sequences of
  // half the length pays for them (the mHC kernels do not depend on the sequence length).
  const CostModel cost(load_profile(dense(2).profile));
  const auto tp2 = price_pipeline(dense(2), cost);
  const auto half = price_pipeline(load_scenario(kDenseTp2, {"/parallelism/tp=1", "/parallelism/dp=32",
                                                              "/model/seq_len=2048"}),
                                   cost);
  const auto full = price_pipeline(dense(1), cost);
  for (size_t st = 0; st < tp2.stages.size(); ++st) {
    const auto &a = tp2.stages[st], &h = half.stages[st], &f = full.stages[st];
    EXPECT_EQ(a.F.by_class.at("mhc"), h.F.by_class.at("mhc")) << st;
    EXPECT_EQ(a.B.by_class.at("mhc"), h.B.by_class.at("mhc")) << st;
    EXPECT_EQ(a.B.by_class.at("mhc_recompute"), h.B.by_class.at("mhc_recompute")) << st;
    // and that is about half the tp = 1 time (the profile's kernels are near-linear at 2k-4k tokens).
    EXPECT_NEAR(a.F.by_class.at("mhc") / f.F.by_class.at("mhc"), 0.5, 0.05) << st;
  }
}

TEST(TensorParallel, CollectivesOnAnIdleNodeMatchNcclsClosedForm) {
  const Scenario s = small_tp2();
  const CostModel cost(load_profile_parts(s.profile, s.published_parts));
  const VariantRun v = run_variant(s, cost, RunOptions{});
  // The first all-gather and the first reduce-scatter of the step: nothing else is on the network.
  std::map<CollectiveOp, TaskId> first;
  for (TaskId id = 0; id < boost::num_vertices(v.step.graph); ++id) {
    const TaskNode& n = v.step.graph[id];
    if (n.kind != NodeKind::collective || n.category != "tp") continue;
    auto it = first.find(n.op);
    if (it == first.end() || v.timings[id].start < v.timings[it->second].start) first[n.op] = id;
  }
  ASSERT_EQ(first.size(), 2u);
  for (auto [op, id] : first) {
    const TaskNode& n = v.step.graph[id];
    EXPECT_EQ(n.group, (std::vector<int>{0, 1}));
    EXPECT_EQ(n.bytes, 2048.0 * 1024 * 2);  // T x C bf16
    const double closed = nccl_select(op, group_shape(s.cluster, n.group), n.bytes).time_s;
    EXPECT_NEAR((v.timings[id].end - v.timings[id].start) / closed, 1.0, 1e-6) << to_string(op);
  }
  // TP waits are counted as exposed communication of their own category.
  EXPECT_GT(v.exposed_comm_s_by_category.at("tp"), 0);
}

TEST(TensorParallel, TpBytesDoNotGrowWithN) {
  const CostModel cost(load_profile(small_tp2().profile));
  const VariantRun n1 = run_variant(small_tp2({"/mhc/n=1"}), cost, RunOptions{});
  const VariantRun n4 = run_variant(small_tp2({"/mhc/n=4"}), cost, RunOptions{});
  const double b1 = n1.network_bytes_by_category.at("tp"), b4 = n4.network_bytes_by_category.at("tp");
  EXPECT_EQ(b1, b4);
  // By hand: per micro-batch, every layer's attention (all) and dense FFN (the small model's leading
  // dense layers) pair an all-gather and a reduce-scatter forward and backward and re-gather its
  // input for the weight gradient; the embedding and the head add one each way and the head a
  // re-gather. A 2-GPU ring moves (p - 1) x T x C x 2 B per collective.
  const Scenario s = small_tp2();
  const double sublayers = double(s.model.layers + s.model.ffn.dense_layers);
  const double per_microbatch = 5 * sublayers + 5;
  const double ring_bytes = 1.0 * 2048 * 1024 * 2;
  EXPECT_DOUBLE_EQ(b1, per_microbatch * double(s.parallel.micro_batches()) * ring_bytes);
  // The pipeline, by contrast, carries the n-stream residual (on T/tp tokens per GPU).
  EXPECT_DOUBLE_EQ(n4.costs.pp_bytes_per_microbatch, 4 * n1.costs.pp_bytes_per_microbatch);
  EXPECT_DOUBLE_EQ(n1.costs.pp_bytes_per_microbatch, 2048.0 / 2 * 1024 * 2);
}

TEST(TensorParallel, ReportShowsTpTrafficAndAccountsForBusyTime) {
  const RunResult r = run_scenario(small_tp2(), RunOptions{});
  const auto j = report_json(r);
  EXPECT_GT(j["network_bytes"]["mhc"]["by_category"]["tp"].get<double>(), 0);
  EXPECT_GT(j["overhead_breakdown"]["exposed_comm_s_mean_per_gpu"]["mhc"]["tp"].get<double>(), 0);
  // The breakdown's terms are pinned by hand in test_overhead_breakdown.cpp (their sum closes by
  // construction); with TP collectives blocking compute, the engine's losses still account for all
  // of the bottleneck rank's busy time beyond its tasks' own seconds.
  EXPECT_NEAR(j["overhead_breakdown"]["checks"]["busy_unaccounted_s"].get<double>(), 0.0, 1e-9);
  // Blocking TP collectives lengthen the step beyond the zero-cost network's.
  RunOptions free_network;
  free_network.network = false;
  EXPECT_GT(r.mhc.step_time_s, run_scenario(small_tp2(), free_network).mhc.step_time_s);
  EXPECT_NE(report_text(j).find("  tp "), std::string::npos);
}

TEST(TensorParallel, OverlappedCollectivesKeepOneChunkOnTheCriticalPath) {
  // tp_comm_overlap: every TP collective becomes a blocking chunk of 1/tp of its bytes, after the
  // compute as before, and the rest (tp - 1)/tp in a chain on the communication stream that starts
  // with the compute. Bytes on the wire are unchanged, the step is shorter.
  const Scenario plain = small_tp2(), over = small_tp2({"/parallelism/tp_comm_overlap=true"});
  const CostModel cost(load_profile_parts(plain.profile, plain.published_parts));
  const VariantRun a = run_variant(plain, cost, RunOptions{}), b = run_variant(over, cost, RunOptions{});
  const double full = 2048.0 * 1024 * 2;  // T x C bf16
  int blocking = 0, overlapped = 0, starts_with_compute = 0;
  const TaskGraph& g = b.step.graph;
  for (TaskId id = 0; id < boost::num_vertices(g); ++id) {
    const TaskNode& n = g[id];
    if (n.kind != NodeKind::collective || n.category != "tp" || n.name.find("regather") != std::string::npos) continue;
    if (n.name.ends_with(" overlapped")) {
      ++overlapped;
      EXPECT_DOUBLE_EQ(n.bytes, full / 2) << n.name;
      bool head = true;  // the chain's first collective: no overlapped predecessor
      for (auto [e, end] = boost::in_edges(id, g); e != end; ++e)
        head = head && !g[boost::source(*e, g)].name.ends_with(" overlapped");
      if (!head) continue;
      // It starts with its task's compute, beside it, not after it.
      const std::string owner = n.name.substr(0, n.name.find(" tp "));
      for (TaskId c = 0; c < boost::num_vertices(g); ++c)
        if (g[c].kind == NodeKind::compute && g[c].name == owner) {
          EXPECT_FALSE(boost::edge(c, id, g).second) << n.name;
          EXPECT_NEAR(b.timings[id].start, b.timings[c].start, 1e-12) << n.name;
          ++starts_with_compute;
        }
    } else {
      ++blocking;
      EXPECT_DOUBLE_EQ(n.bytes, full / 2) << n.name;
    }
  }
  EXPECT_GT(overlapped, 0);
  EXPECT_EQ(blocking, overlapped);
  EXPECT_GT(starts_with_compute, 0);
  EXPECT_DOUBLE_EQ(a.network_bytes_by_category.at("tp"), b.network_bytes_by_category.at("tp"));
  EXPECT_LT(b.step_time_s, a.step_time_s);
  EXPECT_LT(b.exposed_comm_s_by_category.at("tp"), a.exposed_comm_s_by_category.at("tp"));
}

TEST(TensorParallel, EpGroupsSpanningTpRanksHoldWholeTpGroups) {
  // TP2 PP2 DP2 on 8 GPUs with EP4: 4 does not divide dp, so each EP group is both TP ranks of both
  // replicas of a pipeline rank (Megatron's EP over TP x DP with expert TP 1).
  const Scenario s = load_scenario(kSmall, {"/parallelism/tp=2", "/parallelism/pp=2", "/parallelism/dp=2",
                                            "/parallelism/ep=4", "/parallelism/global_batch=8"});
  ASSERT_TRUE(s.parallel.ep_spans_tp());
  EXPECT_EQ(s.parallel.ep_replicas(), 2);
  const CostModel cost(load_profile_parts(s.profile, s.published_parts));
  const VariantRun v = run_variant(s, cost, RunOptions{});
  const TaskGraph& g = v.step.graph;
  double expected = 0;
  int all_to_alls = 0;
  for (TaskId id = 0; id < boost::num_vertices(g); ++id) {
    const TaskNode& n = g[id];
    if (n.kind != NodeKind::collective || n.category != "ep") continue;
    ++all_to_alls;
    // Four consecutive GPUs from the rank's first: TP ranks 0 and 1 of replicas 0 and 1.
    const int first = *std::min_element(n.group.begin(), n.group.end());
    EXPECT_EQ(n.group, (std::vector<int>{first, first + 1, first + 2, first + 3})) << n.name;
    // NCCL's direct all-to-all: every member sends 3 of its 4 shares to the others.
    expected += 4 * n.bytes * 3 / 4;
  }
  ASSERT_GT(all_to_alls, 0);
  // Every member is in the graph, so EP bytes are counted once, not once per TP rank.
  EXPECT_NEAR(v.network_bytes_by_category.at("ep") / expected, 1.0, 1e-9);
  // One EP group per pipeline rank, so the expert gradients have no replica to be reduced with.
  for (TaskId id = 0; id < boost::num_vertices(g); ++id)
    EXPECT_EQ(g[id].name.find("expert grads"), std::string::npos) << g[id].name;
}

TEST(TensorParallel, ShippedEpAcrossTpScenarioRuns) {
  // scenarios/deepseek-v2-128-h100-tp2-ep32.json: Megatron-Core's EP over TP x DP ranks.
  const Scenario s = load_scenario(std::string(MHC_SOURCE_DIR) + "/scenarios/deepseek-v2-128-h100-tp2-ep32.json");
  ASSERT_TRUE(s.parallel.ep_spans_tp());
  const RunResult r = run_scenario(s, RunOptions{});
  EXPECT_GT(r.mhc.step_time_s, r.baseline.step_time_s);
  EXPECT_GT(r.mhc.network_bytes_by_category.at("ep"), 0);
  EXPECT_GT(r.mhc.network_bytes_by_link_class.at("nic"), 0);  // 32 consecutive GPUs: 4 nodes
}

TEST(TensorParallel, FoldedAllToAllGivesTheStepOfTheWholeOne) {
  // The same scenario's baseline with every all-to-all flow simulated and with each folded to its
  // computing member's flows (engine/fold_all_to_all.h): the same step, bytes and exposed time.
  const Scenario s = baseline_scenario(
      load_scenario(std::string(MHC_SOURCE_DIR) + "/scenarios/deepseek-v2-128-h100-tp2-ep32.json"));
  const CostModel cost(load_profile_parts(s.profile, s.published_parts));
  RunOptions whole, folded;
  whole.engine.fold_all_to_all = false;
  const VariantRun a = run_variant(s, cost, whole), b = run_variant(s, cost, folded);
  EXPECT_NEAR(b.step_time_s, a.step_time_s, 1e-9 * a.step_time_s);
  EXPECT_EQ(b.network_bytes_by_category, a.network_bytes_by_category);
  EXPECT_NEAR(b.exposed_comm_s_by_category.at("ep"), a.exposed_comm_s_by_category.at("ep"), 1e-9);
  EXPECT_LT(b.engine_activities * 2, a.engine_activities);
}

TEST(TensorParallel, MemoryOfSplitParametersByHand) {
  const Scenario s = dense(2);  // 13B: C 5120, 40 heads of 128, GELU FFN 20480, mHC n = 4; PP8 DP16 ZeRO-1
  const double C = 5120, attention = 4 * C * C / 2, ffn = 2 * C * 20480 / 2, norms = 2 * C;
  const double mhc = 2 * (4 * C * 24 + 3 + 24);  // phi, gates and biases of two sublayers
  const double per_layer = attention + ffn + norms + mhc;
  EXPECT_EQ(layer_params_per_gpu(s, LayerKind::dense_ffn).replicated, per_layer);
  const RankMemory m = rank_memory(s, 1, {1}, 1);  // a middle stage: 5 layers, no embedding
  ASSERT_EQ(m.items[0].name, "parameters");
  EXPECT_DOUBLE_EQ(m.items[0].bytes, 5 * per_layer * 2);
  ASSERT_EQ(m.items[2].name, "optimizer state");
  EXPECT_DOUBLE_EQ(m.items[2].bytes, 5 * per_layer * 12 / 16);
  // Sequence parallelism: the mHC residual stream on T/2 tokens.
  const double at_tp1 = stage_activations(dense(1), 1).residual_stream;
  EXPECT_DOUBLE_EQ(stage_activations(s, 1).residual_stream * 2, at_tp1);
}

TEST(TensorParallel, GroupLargerThanANodeIsRefused) {
  try {
    load_scenario(kSmall, {"/parallelism/tp=8", "/parallelism/pp=1", "/parallelism/dp=1"});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), kSmall);
    EXPECT_EQ(e.path(), "/parallelism/tp");
    EXPECT_NE(e.message().find("must divide the GPUs of one node (4"), std::string::npos) << e.message();
  }
}

TEST(TensorParallel, ExpertTensorParallelSplitsExpertsAndGathersTheirRows) {
  // The small MoE at TP2 PP2 DP2 EP2, experts whole (etp 1) or split over the TP pair (etp 2).
  const std::vector<std::string> layout = {"/parallelism/tp=2", "/parallelism/pp=2", "/parallelism/dp=2",
                                           "/parallelism/ep=2"};
  std::vector<std::string> split = layout;
  split.push_back("/parallelism/etp=2");
  const Scenario one = load_scenario(kSmall, layout), two = load_scenario(kSmall, split);
  const LayerKind moe = layer_kind(one.model, 0);
  ASSERT_TRUE(moe.moe());
  EXPECT_DOUBLE_EQ(layer_params_per_gpu(two, moe).experts * 2, layer_params_per_gpu(one, moe).experts);
  EXPECT_EQ(one.parallel.expert_dp(), 2);  // dp x tp / ep
  EXPECT_EQ(two.parallel.expert_dp(), 1);  // dp x tp / (ep x etp)
  // Half the width on all T tokens instead of the full width on T/2: the same FLOPs per GPU.
  const OpPlan a = layer_plan(one, moe), b = layer_plan(two, moe);
  for (const char* name : {"ffn.experts_up_gate", "ffn.experts_down"}) {
    const Op &x = find_op(a.forward, name), &y = find_op(b.forward, name);
    EXPECT_EQ(x.token_share, 0.5) << name;
    EXPECT_EQ(y.token_share, 1.0) << name;
    EXPECT_DOUBLE_EQ(y.flops * 2, x.flops) << name;
  }
  EXPECT_EQ(find_op(b.forward, "ffn.router").token_share, 0.5);  // routing stays on the local tokens
  // The TP bytes grow by the rows each MoE layer gathers and reduce-scatters, by hand: per micro-
  // batch and layer, forward and backward each an all-gather and a reduce-scatter of T x top_k x C
  // bf16 (2048 x 2 x 1024 x 2 B); 8 micro-batches (16 / DP 2), 8 MoE layers.
  const CostModel cost(load_profile_parts(one.profile, one.published_parts));
  auto tp_bytes = [&](const Scenario& s) {
    const VariantRun v = run_variant(s, cost, RunOptions{});
    EXPECT_GT(v.step_time_s, 0.0);
    double sum = 0;
    for (TaskId id = 0; id < boost::num_vertices(v.step.graph); ++id)
      if (v.step.graph[id].category == "tp") sum += v.step.graph[id].bytes;
    return sum;
  };
  EXPECT_DOUBLE_EQ(tp_bytes(two) - tp_bytes(one), 8.0 * 8 * 4 * (2048.0 * 2 * 1024 * 2));
}
