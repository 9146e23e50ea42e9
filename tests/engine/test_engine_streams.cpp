// Kernels on one GPU sharing SMs and HBM (engine/gpu_share.h), run by the engine: closed forms.
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "support/engine_test_util.h"

using namespace mhc;
using namespace mhc::test;

namespace {

constexpr double kS = 132.0;   // SMs of h100_cluster()
constexpr double kB = 3.0e12;  // HBM bytes/s given to the engine below

EngineOptions with_hbm() {
  EngineOptions o;
  o.gpu.hbm_Bps = kB;
  return o;
}

}  // namespace

TEST(EngineStreams, AComputeBoundKernelAloneTakesItsTime) {
  ClusterSpec c = h100_cluster(1, 1);
  TaskGraph g;
  TaskId k = add_compute(g, "gemm", 0, 0.7, Stream::compute, 1.0, 0.2 * kB * 0.7);
  EngineResult r = simulate(c, g, with_hbm());
  EXPECT_NEAR(r.timings[k].end, 0.7, 1e-12);
  EXPECT_NEAR(r.shares[k].lost_to_comm_s + r.shares[k].lost_to_corun_s, 0.0, 1e-12);
  EXPECT_NEAR(r.shares[k].sm_seconds, kS * 0.7, 1e-9);
}

// A memory-bound kernel on 40 SMs beside a GEMM: it keeps its pace (HBM has room), the GEMM runs on
// the other 92 SMs meanwhile, so the pair ends at the GEMM's time plus the SM share the memory-bound
// kernel took, t_g + t_m a_m / S: above the roofline bound max(SM work, HBM bytes / B).
TEST(EngineStreams, MemoryBoundBesideComputeBoundEndsAtTheRooflinePlusItsSmShare) {
  ClusterSpec c = h100_cluster(1, 1);
  TaskGraph g;
  const double tm = 0.2, tg = 1.0, am = 40.0;
  TaskId m = add_compute(g, "post-res", 0, tm, Stream::high_priority, am / kS, 0.9 * kB * tm);
  TaskId k = add_compute(g, "gemm", 0, tg, Stream::compute, 1.0, 0.1 * kB * tg);
  EngineResult r = simulate(c, g, with_hbm());
  EXPECT_NEAR(r.timings[m].end, tm, 1e-12);
  EXPECT_NEAR(r.timings[k].end, tg + tm * am / kS, 1e-12);
  const double sm_bound = (kS * tg + am * tm) / kS, hbm_bound = (0.1 * kB * tg + 0.9 * kB * tm) / kB;
  EXPECT_GE(r.makespan_s, std::max(sm_bound, hbm_bound) - 1e-12);
  EXPECT_NEAR(r.shares[k].lost_to_corun_s, tm * am / kS, 1e-12);
  EXPECT_NEAR(r.shares[k].lost_to_comm_s, 0.0, 1e-15);
}

TEST(EngineStreams, TwoMemoryBoundKernelsSerialiseOnHbm) {
  ClusterSpec c = h100_cluster(1, 1);
  TaskGraph g;
  TaskId a = add_compute(g, "a", 0, 0.5, Stream::compute, 40.0 / kS, kB * 0.5);
  TaskId b = add_compute(g, "b", 0, 0.3, Stream::high_priority, 40.0 / kS, kB * 0.3);
  EngineResult r = simulate(c, g, with_hbm());
  // Half of the HBM each until b is done at 0.6; a then has 0.2 s of work left alone.
  EXPECT_NEAR(r.timings[b].end, 0.6, 1e-12);
  EXPECT_NEAR(r.timings[a].end, 0.8, 1e-12);  // = 0.5 + 0.3: the bytes of both at B
}

// The high-priority stream's blocks are scheduled first: a kernel that wants 100 SMs gets them and
// ends at about its own time alone (here exactly: the GEMM's HBM traffic on 32 SMs leaves room);
// on a stream of equal priority it would get half the SMs.
TEST(EngineStreams, AHighPriorityKernelBesideAGemmTakesItsTimeAlone) {
  ClusterSpec c = h100_cluster(1, 1);
  const double th = 0.1, ah = 100.0;
  for (Stream stream : {Stream::high_priority, Stream::compute}) {
    TaskGraph g;
    TaskId h = add_compute(g, "post-res", 0, th, stream, ah / kS, 0.8 * kB * th);
    TaskId k = add_compute(g, "gemm", 0, 1.0, Stream::compute, 1.0, 0.1 * kB);
    EngineResult r = simulate(c, g, with_hbm());
    if (stream == Stream::high_priority) {
      EXPECT_NEAR(r.timings[h].end, th, 1e-12);
      EXPECT_NEAR(r.timings[k].end, 1.0 + th * ah / kS, 1e-12);
    } else {
      EXPECT_NEAR(r.timings[h].end, th * ah / (kS / 2), 1e-12);
    }
  }
}

// While a transfer's flow moves data, its communication kernels hold comm_sms SMs on both GPUs.
TEST(EngineStreams, ACommunicationKernelHoldsItsSmsWhileItMovesData) {
  ClusterSpec c = h100_cluster(1, 2);
  c.comm_sms = 20;
  TaskGraph g;
  TaskId k = add_compute(g, "k", 0, 1.0);
  TaskId k1 = add_compute(g, "k1", 1, 1.0);
  TaskId t = add_transfer(g, "t", 0, 1, 450e9 * 0.5 - 450e9 * 1e-6);  // ends at exactly 0.5 s
  EngineResult r = simulate(c, g, {});
  ASSERT_NEAR(r.timings[t].end, 0.5, 1e-9);
  for (TaskId x : {k, k1}) {
    EXPECT_NEAR(r.timings[x].end, 1.0 + 0.5 * 20.0 / kS, 1e-9);
    EXPECT_NEAR(r.shares[x].lost_to_comm_s, 0.5 * 20.0 / kS, 1e-9);
    EXPECT_NEAR(r.shares[x].lost_to_corun_s, 0.0, 1e-12);
  }
}

// A collective waits out NCCL's latency term before its flows start: its kernels hold no SMs then.
TEST(EngineStreams, ACommunicationKernelHoldsNoSmsWhileWaiting) {
  ClusterSpec c = h100_cluster(1, 4);
  c.comm_sms = 33;
  TaskGraph g;
  TaskId x = add_collective(g, "ar", CollectiveOp::all_reduce, {0, 1, 2, 3}, 4e9);
  TaskId k1 = add_compute(g, "k1", 1, 10.0);
  EngineResult r = simulate(c, g, {});
  const double latency = plan_collective(Topology(c), CollectiveOp::all_reduce, {0, 1, 2, 3}, 4e9).latency_s;
  ASSERT_GT(latency, 0.0);
  const double moving = r.timings[x].end - latency;
  EXPECT_NEAR(r.timings[k1].end, 10.0 + moving * 33.0 / kS, 1e-9);
}

// A flow's bytes are read from the sender's HBM and stored, read back and written at the receiver
// (nccl #1428): memory-bound kernels at both ends lose that bandwidth while the flow moves.
TEST(EngineStreams, FlowsDrawHbmAtBothEnds) {
  ClusterSpec c = h100_cluster(1, 2);
  TaskGraph g;
  const double R = 450e9;  // the lone flow's rate (NVLink)
  TaskId m0 = add_compute(g, "m0", 0, 1.0, Stream::compute, 40.0 / kS, kB);
  TaskId m1 = add_compute(g, "m1", 1, 1.0, Stream::compute, 40.0 / kS, kB);
  TaskId t = add_transfer(g, "t", 0, 1, R * 0.5 - R * 1e-6);
  EngineOptions o = with_hbm();
  EngineResult r = simulate(c, g, o);
  ASSERT_NEAR(r.timings[t].end, 0.5, 1e-9);
  const double send = o.gpu.hbm_per_byte_sent_nvlink * R / kB, recv = o.gpu.hbm_per_byte_received * R / kB;
  EXPECT_NEAR(r.timings[m0].end, 1.0 + 0.5 * send, 1e-9);
  EXPECT_NEAR(r.timings[m1].end, 1.0 + 0.5 * recv, 1e-9);
  EXPECT_NEAR(r.shares[m1].lost_to_comm_s, 0.5 * recv, 1e-9);
}

TEST(EngineStreams, TasksOnOneStreamFollowTheirEdges) {
  ClusterSpec c = h100_cluster(1, 1);
  TaskGraph g;
  TaskId a = add_compute(g, "a", 0, 0.3);
  TaskId b = add_compute(g, "b", 0, 0.2);
  TaskId d = add_compute(g, "d", 0, 0.1);
  boost::add_edge(a, b, g);
  boost::add_edge(b, d, g);
  EngineResult r = simulate(c, g, {});
  EXPECT_NEAR(r.timings[b].start, 0.3, 1e-12);
  EXPECT_NEAR(r.timings[d].start, 0.5, 1e-12);
  EXPECT_NEAR(r.makespan_s, 0.6, 1e-12);
}

TEST(EngineStreams, RecordedSegmentsShowEachKernelsShare) {
  ClusterSpec c = h100_cluster(1, 1);
  TaskGraph g;
  TaskId m = add_compute(g, "m", 0, 0.2, Stream::high_priority, 40.0 / kS, 0.9 * kB * 0.2);
  TaskId k = add_compute(g, "k", 0, 1.0);
  EngineOptions o = with_hbm();
  o.gpu.record_segments = true;
  EngineResult r = simulate(c, g, o);
  ASSERT_EQ(r.shares[k].segments.size(), 2u);  // 92 SMs beside m, then all 132
  EXPECT_NEAR(r.shares[k].segments[0].sms, kS - 40.0, 1e-12);
  EXPECT_NEAR(r.shares[k].segments[1].start, 0.2, 1e-12);
  EXPECT_NEAR(r.shares[k].segments[1].sms, kS, 1e-12);
  ASSERT_EQ(r.shares[m].segments.size(), 1u);
  EXPECT_NEAR(r.shares[m].segments[0].hbm_Bps, 0.9 * kB, 1e-3);
}
