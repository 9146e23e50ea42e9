// Context parallelism (parallelism.cp, graph/step_graph.cpp): every token-wise op and activation on
// T / cp tokens, the sequence's keys and values exchanged per attention core (bytes by hand), the
// exchange's time on the engine against NCCL's closed form, hidden behind the attention ("p2p") or in
// front of it ("all_gather"), and the gradient reduction over DP x CP.
#include <gtest/gtest.h>

#include "cost/memory.h"
#include "llama8b_step_graph.h"
#include "run/run.h"

using namespace mhc;
using namespace mhc::test;

namespace {

// Llama 3.1 8B on 8 H100 at CP 2 x DP 4 (ZeRO-1, so only the CP exchange and the final gradient
// reduction use the network), or the published DP 8 layout.
std::vector<std::string> cp2(std::vector<std::string> extra = {}) {
  std::vector<std::string> o = {"/parallelism/cp=2", "/parallelism/dp=4", "/parallelism/zero_stage=1"};
  o.insert(o.end(), extra.begin(), extra.end());
  return o;
}

// A micro-batch's keys and values over the whole sequence: 2 sequences x 8192 tokens, 8 KV heads of
// 128 for K and 128 for V, bf16.
constexpr double kKvBytes = 2.0 * 8192 * 8 * (128 + 128) * 2;

std::vector<TaskId> nodes(const TaskGraph& g, const std::string& category, CollectiveOp op) {
  std::vector<TaskId> out;
  for (TaskId v = 0; v < boost::num_vertices(g); ++v)
    if (g[v].kind == NodeKind::collective && g[v].category == category && g[v].op == op) out.push_back(v);
  return out;
}

TaskId named(const TaskGraph& g, const std::string& name) {
  for (TaskId v = 0; v < boost::num_vertices(g); ++v)
    if (g[v].name == name) return v;
  throw std::runtime_error("no node " + name);
}

PipelineCostTable priced(const Scenario& s) {
  return price_pipeline(s, CostModel(load_profile_parts(s.profile, s.published_parts)));
}

}  // namespace

TEST(ContextParallel, CostsSplitTokensAndCountOneExchangePerAttentionCore) {
  const BuiltStep one = build_llama8b({"/parallelism/zero_stage=1"}), two = build_llama8b(cp2());
  const PipelineCostTable c1 = priced(one.s), c2 = priced(two.s);
  EXPECT_EQ(c2.tokens_per_microbatch, 8192.0);  // 2 x 8192 / cp
  ASSERT_EQ(c2.stages.size(), 1u);
  const StageCost &a = c1.stages[0], &b = c2.stages[0];
  EXPECT_EQ(a.cp_kv_bytes, 0.0);
  EXPECT_DOUBLE_EQ(b.cp_kv_bytes, kKvBytes);
  EXPECT_EQ(b.cp_gathers_forward, 32);   // one per layer
  EXPECT_EQ(b.cp_gathers_backward, 32);  // no recomputation: K/V again for each core's backward
  EXPECT_EQ(b.cp_scatters_backward, 32);
  // The attention cores on half the tokens of the same sequence: half the FLOPs at the same rate.
  EXPECT_NEAR(b.F.attention_seconds / a.F.attention_seconds, 0.5, 1e-9);
  EXPECT_NEAR(b.B.attention_seconds / a.B.attention_seconds, 0.5, 1e-9);
  EXPECT_GT(b.F.attention_seconds, 0.1 * b.F.seconds);  // at 8k tokens attention is a real share
  // Activations on T / cp tokens: half of them.
  const StageActivations m1 = stage_activations(one.s, 0, 1), m2 = stage_activations(two.s, 0, 1);
  EXPECT_NEAR(m2.sublayers / m1.sublayers, 0.5, 1e-12);
}

TEST(ContextParallel, StepGraphExchangesKvAndReducesOverDpTimesCp) {
  const BuiltStep b = build_llama8b(cp2());
  const TaskGraph& g = b.step.graph;
  // 2 micro-batches (16 / (DP 4 x 2)): each forward gathers K/V once, each backward once and
  // reduce-scatters their gradients once, the stage's 32 cores summed into one node each.
  const auto gathers = nodes(g, "cp", CollectiveOp::all_gather), scatters = nodes(g, "cp", CollectiveOp::reduce_scatter);
  ASSERT_EQ(gathers.size(), 4u);
  ASSERT_EQ(scatters.size(), 2u);
  for (TaskId v : gathers) {
    EXPECT_DOUBLE_EQ(g[v].bytes, 32 * kKvBytes);
    EXPECT_EQ(g[v].group, (std::vector<int>{0, 1}));  // the two CP ranks of replica 0 (TP 1)
  }
  // The gradients are reduced over every GPU holding the parameters: DP 4 x CP 2.
  EXPECT_EQ(b.step.layout.dp_group[0], (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  // p2p: the ring starts with the attention's first cp - 1 blocks, after the rest of the task; the
  // last block waits for both.
  const TaskId f = named(g, "r0 F mb0 c0 s0"), att = named(g, "r0 F mb0 c0 s0 attn"), kv = named(g, "r0 F mb0 c0 s0 cp kv");
  const TaskId tail = named(g, "r0 F mb0 c0 s0 attn last block");
  EXPECT_TRUE(boost::edge(f, att, g).second);
  EXPECT_TRUE(boost::edge(f, kv, g).second);
  EXPECT_FALSE(boost::edge(kv, att, g).second);
  EXPECT_TRUE(boost::edge(att, tail, g).second);
  EXPECT_TRUE(boost::edge(kv, tail, g).second);
  const PipelineCostTable c = priced(b.s);
  EXPECT_NEAR(g[att].seconds + g[tail].seconds, c.stages[0].F.attention_seconds, 1e-12);
  EXPECT_NEAR(g[tail].seconds, c.stages[0].F.attention_seconds / 2, 1e-12);  // one block of cp = 2
  // all_gather: K/V first, then the attention.
  const BuiltStep ag = build_llama8b(cp2({"/parallelism/cp_comm=\"all_gather\""}));
  const TaskGraph& h = ag.step.graph;
  EXPECT_TRUE(boost::edge(named(h, "r0 F mb0 c0 s0 cp kv"), named(h, "r0 F mb0 c0 s0 attn"), h).second);
  EXPECT_TRUE(boost::edge(named(h, "r0 BW mb0 c0 s0 attn"), named(h, "r0 BW mb0 c0 s0 cp dkv"), h).second);
}

TEST(ContextParallel, ExchangeTimeOnTheEngineIsNcclsClosedForm) {
  // all_gather, NVLink cut to 20 GB/s: the first forward's K/V gather is alone on the network.
  const BuiltStep b = build_llama8b(cp2({"/parallelism/cp_comm=\"all_gather\"", "/cluster/nvlink/bandwidth_GBps=20"}));
  const EngineResult r = run_unfolded(b);
  const TaskGraph& g = b.step.graph;
  const TaskId kv = named(g, "r0 F mb0 c0 s0 cp kv"), att = named(g, "r0 F mb0 c0 s0 attn");
  const double closed = nccl_select(CollectiveOp::all_gather, group_shape(b.s.cluster, g[kv].group), g[kv].bytes).time_s;
  EXPECT_NEAR((r.timings[kv].end - r.timings[kv].start) / closed, 1.0, 1e-6);
  // By hand: a 2-GPU ring moves half the buffer over one 20 GB/s link.
  EXPECT_NEAR(closed, 32 * kKvBytes / 2 / 20e9, 0.1 * closed);
  EXPECT_NEAR(r.timings[att].start, r.timings[kv].end, 1e-9);
  EXPECT_GT(r.exposed_comm_s_by_category.at("cp"), 0.0);
  // p2p on the same link: the ring outlasts the first block, so the last block starts when it ends
  // and the task's attention takes ring + A / cp instead of ring + A.
  const BuiltStep p = build_llama8b(cp2({"/cluster/nvlink/bandwidth_GBps=20"}));
  const EngineResult q = run_unfolded(p);
  const TaskGraph& h = p.step.graph;
  const TaskId ring = named(h, "r0 F mb0 c0 s0 cp kv"), first = named(h, "r0 F mb0 c0 s0 attn"),
               last = named(h, "r0 F mb0 c0 s0 attn last block");
  ASSERT_GT(q.timings[ring].end, q.timings[first].end);
  EXPECT_NEAR(q.timings[last].start, q.timings[ring].end, 1e-9);
  EXPECT_NEAR(q.timings[ring].start, q.timings[first].start, 1e-9);
}

TEST(ContextParallel, RingHidesBehindTheAttentionWhenFaster) {
  // NVLink at 450 GB/s: each task's ring ends before its attention (p2p), so the step is that of
  // the compute alone; the same exchange before the attention (all_gather) adds its time.
  const BuiltStep p2p = build_llama8b(cp2()), ag = build_llama8b(cp2({"/parallelism/cp_comm=\"all_gather\""}));
  const EngineResult rp = run_unfolded(p2p), ra = run_unfolded(ag);
  const TaskGraph& g = p2p.step.graph;
  for (const char* task : {"r0 F mb0 c0 s0", "r0 BW mb1 c0 s0"}) {
    // The last block starts as soon as the blocks before it end: the ring was already done.
    const TaskId first = named(g, std::string(task) + " attn"), last = named(g, std::string(task) + " attn last block");
    EXPECT_NEAR(rp.timings[last].start, rp.timings[first].end, 1e-12) << task;
    EXPECT_LT(rp.timings[named(g, std::string(task) + " cp kv")].end, rp.timings[first].end) << task;
  }
  EXPECT_NEAR(rp.exposed_comm_s_by_category.count("cp") ? rp.exposed_comm_s_by_category.at("cp") : 0.0, 0.0, 1e-9);
  EXPECT_LT(rp.makespan_s, ra.makespan_s);
}

TEST(ContextParallel, ShippedScenarioRuns) {
  const Scenario s = load_scenario(std::string(MHC_SOURCE_DIR) + "/scenarios/llama3-70b-256-h100-tp8-cp4.json");
  EXPECT_EQ(s.parallel.cp, 4);
  const CostModel cost(load_profile_parts(s.profile, s.published_parts));
  const VariantRun v = run_variant(s, cost, RunOptions{});
  EXPECT_GT(v.step_time_s, 0.0);
  // Each TP rank has its own CP ring: the bytes count every TP rank (run.cpp other_ranks_factor).
  EXPECT_GT(v.network_bytes_by_category.at("cp"), 0.0);
}
