// ZeRO-3 as FSDP2 runs it (graph/step_graph.cpp fsdp_plan): per-block parameter all-gathers and
// gradient reduce-scatters, their bytes against the hand-counted parameters of Llama 3.1 8B, and
// their exposed time on the engine against NCCL's closed form (engine/nccl_model.h).
#include <gtest/gtest.h>

#include "cost/memory.h"
#include "llama8b_step_graph.h"

using namespace mhc;
using namespace mhc::test;

namespace {

// Llama 3.1 8B on 8 H100 (llama8b_step_graph.h). The root unit: embedding and head, the final norm.
constexpr double kBlock = kLlama8bBlock;
constexpr double kRoot = 2 * kLlama8bTable + kLlama8bC;

double fsdp_bytes(const TaskGraph& g, CollectiveOp op) {
  double sum = 0;
  for (TaskId v = 0; v < boost::num_vertices(g); ++v)
    if (g[v].category == "fsdp" && g[v].op == op) sum += g[v].bytes;
  return sum;
}

int count_category(const TaskGraph& g, const std::string& category) {
  int n = 0;
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) n += g[v].category == category;
  return n;
}

// The compute pieces of one phase, in graph (= issue) order.
std::vector<TaskId> pieces(const TaskGraph& g, Phase phase) {
  std::vector<TaskId> out;
  for (TaskId v = 0; v < boost::num_vertices(g); ++v)
    if (g[v].kind == NodeKind::compute && g[v].phase == phase && g[v].unit >= 0) out.push_back(v);
  return out;
}

}  // namespace

TEST(Fsdp, BytesPerStepMatchTheHandCountedUnits) {
  // One micro-batch (global 16 / DP 8 / micro-batch 2), no PP: the forward gathers the root and all 32
  // blocks; the backward re-gathers every block but the last (torchtitan keeps the last block
  // gathered; the root is never resharded after forward); all 33 units reduce-scatter once.
  const BuiltStep b = build_llama8b({});
  const TaskGraph& g = b.step.graph;
  EXPECT_DOUBLE_EQ(fsdp_bytes(g, CollectiveOp::all_gather), 2.0 * (kRoot + 32 * kBlock + 31 * kBlock));
  EXPECT_DOUBLE_EQ(fsdp_bytes(g, CollectiveOp::reduce_scatter), 4.0 * (kRoot + 32 * kBlock));
  EXPECT_EQ(count_category(g, "dp"), 0) << "ZeRO-3 keeps no whole-step gradient all-reduce";
  EXPECT_EQ(pieces(g, Phase::F).size(), 32u);
  EXPECT_EQ(pieces(g, Phase::BW).size(), 32u);

  // "always": every block again for the backward; "never": no backward gathers.
  const BuiltStep always = build_llama8b({"/parallelism/fsdp_reshard_after_forward=\"always\""});
  EXPECT_DOUBLE_EQ(fsdp_bytes(always.step.graph, CollectiveOp::all_gather), 2.0 * (kRoot + 64 * kBlock));
  const BuiltStep never = build_llama8b({"/parallelism/fsdp_reshard_after_forward=\"never\""});
  EXPECT_DOUBLE_EQ(fsdp_bytes(never.step.graph, CollectiveOp::all_gather), 2.0 * (kRoot + 32 * kBlock));

  // Two micro-batches without PP: gathers and reduce-scatters per micro-batch (torchtitan's
  // gradient accumulation runs backward() per micro-batch with gradient sync on).
  const BuiltStep two = build_llama8b({"/parallelism/micro_batch=1"});
  EXPECT_DOUBLE_EQ(fsdp_bytes(two.step.graph, CollectiveOp::all_gather), 2 * 2.0 * (kRoot + 63 * kBlock));
  EXPECT_DOUBLE_EQ(fsdp_bytes(two.step.graph, CollectiveOp::reduce_scatter), 2 * 4.0 * (kRoot + 32 * kBlock));

  // ZeRO-2: today's one gradient reduction per stage, no FSDP traffic.
  const BuiltStep zero2 = build_llama8b({"/parallelism/zero_stage=2"});
  EXPECT_EQ(count_category(zero2.step.graph, "fsdp"), 0);
  EXPECT_EQ(count_category(zero2.step.graph, "dp"), 1);
}

TEST(Fsdp, MemoryHoldsTheRootAndTwoGatheredBlocks) {
  const Scenario s = load_scenario(kLlama8bRun);
  const RankMemory m = rank_memory(s, 0, {0}, 1);
  double gathered = -1;
  for (const auto& it : m.items)
    if (it.name == "gathered parameters (FSDP)") gathered = it.bytes;
  EXPECT_DOUBLE_EQ(gathered, 2.0 * (kRoot + 2 * kBlock));
  const Scenario never = load_scenario(kLlama8bRun, {"/parallelism/fsdp_reshard_after_forward=\"never\""});
  for (const auto& it : rank_memory(never, 0, {0}, 1).items)
    if (it.name == "gathered parameters (FSDP)") gathered = it.bytes;
  EXPECT_DOUBLE_EQ(gathered, 2.0 * (kRoot + 32 * kBlock));
}

// The exposed FSDP time of a step from the closed forms: each forward block waits until its own
// all-gather ends, the all-gathers running back to back from time zero (root first) whenever they are
// slower than the compute; the optimizer waits for the reduce-scatters the last blocks leave behind.
TEST(Fsdp, AllGathersHideUnderComputeOnNvlink) {
  const BuiltStep b = build_llama8b({});
  const EngineResult r = run_unfolded(b);
  const double ag_root = dp_collective_time(b, CollectiveOp::all_gather, 2 * kRoot);
  const double ag = dp_collective_time(b, CollectiveOp::all_gather, 2 * kBlock);
  const double rs_root = dp_collective_time(b, CollectiveOp::reduce_scatter, 4 * kRoot);
  const double rs = dp_collective_time(b, CollectiveOp::reduce_scatter, 4 * kBlock);
  const auto f = pieces(b.step.graph, Phase::F);
  // At 450 GB/s a block's gather (~2 ms) hides under its neighbour's forward (~10 ms): only the
  // first block waits, for the root's and its own gather; only the last block's and the root's
  // reduce-scatters are left after the backward.
  ASSERT_GT(b.step.graph[f[0]].seconds, 3 * ag);
  EXPECT_NEAR(r.timings[f[0]].start, ag_root + ag, 1e-6 * (ag_root + ag));
  EXPECT_NEAR(r.exposed_comm_s_by_category.at("fsdp"), ag_root + ag + rs + rs_root, 1e-6);
}

TEST(Fsdp, AllGathersExposedOnASlowLink) {
  // NVLink cut to 2 GB/s; no re-gathers in the backward ("never"), so the forward's gathers run
  // alone and the backward's reduce-scatters run alone.
  const BuiltStep b = build_llama8b({"/cluster/nvlink/bandwidth_GBps=2", "/parallelism/fsdp_reshard_after_forward=\"never\""});
  const EngineResult r = run_unfolded(b);
  const double ag_root = dp_collective_time(b, CollectiveOp::all_gather, 2 * kRoot);
  const double ag = dp_collective_time(b, CollectiveOp::all_gather, 2 * kBlock);
  const double rs_root = dp_collective_time(b, CollectiveOp::reduce_scatter, 4 * kRoot);
  const double rs = dp_collective_time(b, CollectiveOp::reduce_scatter, 4 * kBlock);
  const auto f = pieces(b.step.graph, Phase::F);
  const auto bw = pieces(b.step.graph, Phase::BW);
  ASSERT_EQ(f.size(), 32u);
  ASSERT_LT(b.step.graph[f[0]].seconds, ag / 3);
  // Block k starts when the (k+1)-th block gather ends: the gathers run back to back.
  double expected = 0, prev_end = 0;
  for (size_t k = 0; k < f.size(); ++k) {
    const double ready = ag_root + double(k + 1) * ag;
    EXPECT_NEAR(r.timings[f[k]].start, ready, 1e-6 * ready) << k;
    expected += ready - prev_end;
    prev_end = r.timings[f[k]].end;
  }
  // The backward's first block (the last one, still gathered) starts with the forward's end; the
  // reduce-scatters then run back to back after it and the optimizer waits for the last.
  const double rs_done = r.timings[bw.front()].end + 32 * rs + rs_root;
  expected += rs_done - r.timings[bw.back()].end;
  EXPECT_NEAR(r.exposed_comm_s_by_category.at("fsdp"), expected, 1e-6 * expected);
}

TEST(Fsdp, RefusesSchedulesItDoesNotBuild) {
  try {
    load_scenario(kLlama8bRun, {"/schedule/kind=\"zb1p\""});
    FAIL() << "zb1p with ZeRO-3 loaded";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/parallelism/zero_stage"), std::string::npos) << e.what();
  }
}

TEST(Fsdp, TensorParallelCollectivesFollowTheirBlocks) {
  // TP2 x DP4: the same TP collectives as without FSDP, spread over the blocks (two all-gathers and
  // two reduce-scatters per layer), each block after the first waiting for its predecessor's share.
  const BuiltStep b = build_llama8b({"/parallelism/tp=2", "/parallelism/dp=4", "/parallelism/global_batch=8"});
  const BuiltStep zero2 = build_llama8b({"/parallelism/tp=2", "/parallelism/dp=4", "/parallelism/global_batch=8",
                             "/parallelism/zero_stage=2"});
  EXPECT_EQ(count_category(b.step.graph, "tp"), count_category(zero2.step.graph, "tp"));
  const TaskGraph& g = b.step.graph;
  const auto f = pieces(g, Phase::F);
  ASSERT_EQ(f.size(), 32u);
  for (size_t k = 1; k < f.size(); ++k) {
    int tp_before = 0;
    for (auto [e, end] = boost::in_edges(f[k], g); e != end; ++e) tp_before += g[boost::source(*e, g)].category == "tp";
    EXPECT_EQ(tp_before, 1) << g[f[k]].name;
  }
}
