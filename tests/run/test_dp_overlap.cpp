// ZeRO-1/2 gradient reduction overlapped with the backward in buckets (graph/step_graph.cpp
// dp_buckets, Megatron-LM's overlap_grad_reduce): the buckets' bytes, and their time on the engine
// against NCCL's closed form (engine/nccl_model.h), with the overlap off and on.
#include <gtest/gtest.h>

#include "llama8b_step_graph.h"

using namespace mhc;
using namespace mhc::test;

namespace {

// Llama 3.1 8B on 8 H100 (llama8b_step_graph.h), one pipeline rank, DP 8, one micro-batch per step;
// as ZeRO-2.
constexpr double kBlock = kLlama8bBlock, kTable = kLlama8bTable;

BuiltStep build(std::vector<std::string> sets) {
  sets.push_back("/parallelism/zero_stage=2");
  return build_llama8b(sets);
}

// The DP reductions in graph (= issue) order.
std::vector<TaskId> reductions(const TaskGraph& g) {
  std::vector<TaskId> out;
  for (TaskId v = 0; v < boost::num_vertices(g); ++v)
    if (g[v].category == "dp") out.push_back(v);
  return out;
}

// The backward's compute nodes (one whole task, or its layer pieces), in graph order.
std::vector<TaskId> backward(const TaskGraph& g) {
  std::vector<TaskId> out;
  for (TaskId v = 0; v < boost::num_vertices(g); ++v)
    if (g[v].kind == NodeKind::compute && g[v].phase == Phase::BW) out.push_back(v);
  return out;
}

double optimizer_seconds(const TaskGraph& g) {
  for (TaskId v = 0; v < boost::num_vertices(g); ++v)
    if (g[v].category == "optimizer") return g[v].seconds;
  return 0;
}

double all_reduce_time(const BuiltStep& b, double bytes) { return dp_collective_time(b, CollectiveOp::all_reduce, bytes); }

}  // namespace

TEST(DpOverlap, BucketsKeepTheBytesInBackwardOrder) {
  const BuiltStep off = build({});
  const BuiltStep on = build({"/parallelism/dp_overlap_grad_reduce=true"});
  const auto one = reductions(off.step.graph);
  const auto buckets = reductions(on.step.graph);
  ASSERT_EQ(one.size(), 1u);
  const double total = 2.0 * (32 * kBlock + 2 * kTable);  // bf16 gradients of the whole model
  EXPECT_DOUBLE_EQ(off.step.graph[one[0]].bytes, total);
  // Megatron's default bucket, max(40M, 1M x 8) parameters, is smaller than a block (218M): one
  // bucket per layer, the head's gradients with the last layer's (first in the backward), the
  // embedding's with the first layer's.
  ASSERT_EQ(buckets.size(), 32u);
  double sum = 0;
  for (TaskId v : buckets) sum += on.step.graph[v].bytes;
  EXPECT_DOUBLE_EQ(sum, total);
  EXPECT_DOUBLE_EQ(on.step.graph[buckets.front()].bytes, 2.0 * (kBlock + kTable));
  EXPECT_DOUBLE_EQ(on.step.graph[buckets[1]].bytes, 2.0 * kBlock);
  EXPECT_DOUBLE_EQ(on.step.graph[buckets.back()].bytes, 2.0 * (kBlock + kTable));
  EXPECT_EQ(backward(on.step.graph).size(), 32u);
  // Buckets of 500M parameters: the last layer with the head (743M), then every third layer (3 x 218M
  // >= 500M) for 30 layers, then the first layer with the embedding: 12 of them.
  const BuiltStep big = build({"/parallelism/dp_overlap_grad_reduce=true", "/parallelism/dp_bucket_params=500000000"});
  const auto twelve = reductions(big.step.graph);
  ASSERT_EQ(twelve.size(), 12u);
  EXPECT_DOUBLE_EQ(big.step.graph[twelve[0]].bytes, 2.0 * (kBlock + kTable));
  EXPECT_DOUBLE_EQ(big.step.graph[twelve[1]].bytes, 2.0 * 3 * kBlock);
  EXPECT_DOUBLE_EQ(big.step.graph[twelve[11]].bytes, 2.0 * (kBlock + kTable));
}

// Overlap off: the one reduction starts when the backward ends and the optimizer waits for it.
TEST(DpOverlap, OffReducesOnceAfterTheBackward) {
  const BuiltStep b = build({"/parallelism/dp_overlap_grad_reduce=false"});
  const EngineResult r = run_unfolded(b);
  const auto bw = backward(b.step.graph);
  ASSERT_EQ(bw.size(), 1u);
  const double ar = all_reduce_time(b, 2.0 * (32 * kBlock + 2 * kTable));
  EXPECT_NEAR(r.makespan_s, r.timings[bw[0]].end + ar + optimizer_seconds(b.step.graph), 1e-9);
  EXPECT_NEAR(r.exposed_comm_s_by_category.at("dp"), ar, 1e-9);
}

// NVLink cut to 2 GB/s: the buckets run back to back from the end of the first layer's backward.
TEST(DpOverlap, SlowLinkLlama8bRunsTheBucketsBackToBack) {
  const BuiltStep b = build({"/parallelism/dp_overlap_grad_reduce=true", "/cluster/nvlink/bandwidth_GBps=2"});
  const EngineResult r = run_unfolded(b);
  const auto bw = backward(b.step.graph);
  ASSERT_EQ(bw.size(), 32u);
  const double first = all_reduce_time(b, 2.0 * (kBlock + kTable));
  const double layer = all_reduce_time(b, 2.0 * kBlock);
  ASSERT_GT(layer, 2 * b.step.graph[bw[0]].seconds);  // 0.26 s against 28 ms: each bucket waits
  const double done = r.timings[bw[0]].end + 2 * first + 30 * layer;
  EXPECT_NEAR(r.makespan_s, done + optimizer_seconds(b.step.graph), 1e-6 * done);
}

// Full NVLink: every bucket but the last hides under the layers still computing.
TEST(DpOverlap, FastLinkExposesOnlyTheLastBucket) {
  const BuiltStep b = build({"/parallelism/dp_overlap_grad_reduce=true"});
  const EngineResult r = run_unfolded(b);
  const double last = all_reduce_time(b, 2.0 * (kBlock + kTable));
  EXPECT_NEAR(r.exposed_comm_s_by_category.at("dp"), last, 0.01 * last);
  const BuiltStep off = build({});
  const EngineResult r_off = run_unfolded(off);
  EXPECT_GT(r_off.exposed_comm_s_by_category.at("dp"), 5 * last);
  EXPECT_LT(r.makespan_s, r_off.makespan_s);
}

TEST(DpOverlap, RefusesAnEmptyBucket) {
  try {
    build({"/parallelism/dp_bucket_params=0"});
    FAIL() << "a bucket of 0 parameters loaded";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/parallelism/dp_bucket_params"), std::string::npos) << e.what();
  }
}
