// The zero-cost evaluator against the closed forms (deepseek-ai/DualPipe README table; Narayanan et al.
// SC'21 Sec. 2.2; Qi et al. "Zero Bubble Pipeline Parallelism", ICLR 2024), with
// unit-free times. B is always the full backward; a split input-gradient task costs B - W.
#include <gtest/gtest.h>

#include "support/schedule_test_util.h"

namespace mhc {
namespace {

using test::evaluate;
using test::times;

constexpr double kTol = 1e-9;

struct Sizes {
  int P, M;
};
const std::vector<Sizes> kSizes = {{1, 1}, {2, 2}, {2, 5}, {3, 3}, {4, 4}, {4, 9}, {8, 8}, {8, 32}, {16, 16}, {16, 67}};
const std::vector<PhaseTimes> kTimes = {times(1, 2, 1, 3), times(1.5, 2.5, 0.5, 4), times(3, 4, 1, 7), times(2, 2, 0, 4)};

void expect_runs_every_task_once_in_order(const test::Evaluated& e) {
  EXPECT_TRUE(e.check.ok) << (e.check.problems.empty() ? "" : e.check.problems.front());
  EXPECT_EQ(dependency_violation(e.pg.graph, e.timings), "");
  EXPECT_EQ(stream_overlap(e.pg.graph, e.timings), "");
  size_t compute = 0;
  for (TaskId v = 0; v < boost::num_vertices(e.pg.graph); ++v) {
    const TaskNode& n = e.pg.graph[v];
    if (n.kind == NodeKind::compute) {
      ++compute;
      EXPECT_NEAR(e.timings[v].end - e.timings[v].start, n.seconds, kTol) << n.name;
    } else {
      EXPECT_EQ(e.timings[v].end, e.timings[v].start) << "transfers are free here: " << n.name;
    }
  }
  EXPECT_EQ(compute, e.schedule.task_count());
}

TEST(ScheduleClosedForm, OneFOneBBubbleIsPMinusOneTimesFPlusBOnEveryRank) {
  for (auto [P, M] : kSizes)
    for (const auto& t : kTimes) {
      auto e = evaluate({ScheduleKind::one_f_one_b, P, M, 1}, t);
      expect_runs_every_task_once_in_order(e);
      ASSERT_EQ(e.stats.size(), size_t(P));
      for (const auto& s : e.stats) {
        EXPECT_NEAR(s.bubble, (P - 1) * (t.F + t.B), kTol) << "P=" << P << " M=" << M << " rank " << s.rank;
        EXPECT_NEAR(s.busy, M * (t.F + t.B), kTol);
        // Megatron's bubble fraction (p-1)/m is bubble over ideal (busy) time.
        if (s.busy > 0) {
          EXPECT_NEAR(s.bubble / s.busy, double(P - 1) / M, kTol);
        }
        EXPECT_NEAR(s.bubble / s.makespan, double(P - 1) / (M + P - 1), kTol);
        EXPECT_EQ(s.idle, s.bubble);  // one stream: idle time is the bubble
      }
      // DualPipe README table: 1F1B holds PP activations (rank 0).
      EXPECT_EQ(e.stats[0].peak_activations, P);
      EXPECT_EQ(e.max_peak(), P);
    }
}

TEST(ScheduleClosedForm, GPipeHasTheSameBubbleButHoldsEveryMicroBatch) {
  for (auto [P, M] : kSizes) {
    auto t = times(1, 2, 1, 3);
    auto e = evaluate({ScheduleKind::gpipe, P, M, 1}, t);
    expect_runs_every_task_once_in_order(e);
    for (const auto& s : e.stats) {
      EXPECT_NEAR(s.bubble, (P - 1) * (t.F + t.B), kTol);
      EXPECT_EQ(s.peak_activations, M);
    }
  }
}

TEST(ScheduleClosedForm, InterleavedBubbleFractionIsPMinusOneOverVM) {
  for (int P : {2, 4, 8})
    for (int v : {1, 2, 3, 4})
      for (int k : {1, 2, 3}) {
        const int M = k * P;
        for (const auto& t : {times(1, 2, 1, 3), times(1.5, 2.5, 0.5, 4)}) {
          auto e = evaluate({ScheduleKind::interleaved, P, M, v}, t);
          expect_runs_every_task_once_in_order(e);
          for (const auto& s : e.stats) {
            // Chunk times are 1/v of a stage's, so (P-1)(F+B) per chunk is (P-1)(F+B)/v per stage.
            EXPECT_NEAR(s.bubble, (P - 1) * (t.F + t.B), kTol) << "P=" << P << " v=" << v << " M=" << M;
            EXPECT_NEAR(s.bubble / s.busy, double(P - 1) / (v * M), kTol);
          }
        }
      }
}

TEST(ScheduleClosedForm, ZbH1BubbleIsPMinusOneTimesFPlusBMinusTwoW) {
  // DualPipe README table: ZB1P (PP-1)(F+B-2W) with B the full backward, i.e. Zero Bubble's (p-1)(T_F+T_B-T_W).
  for (auto [P, M] : kSizes)
    for (const auto& t : {times(1, 2, 1, 3), times(1.5, 2.5, 0.5, 4), times(3, 4, 1, 7), times(2, 3, 1, 5)}) {
      auto e = evaluate({ScheduleKind::zb_h1, P, M, 1}, t);
      expect_runs_every_task_once_in_order(e);
      for (const auto& s : e.stats)
        EXPECT_NEAR(s.bubble, (P - 1) * (t.F + t.B - 2 * t.W), kTol) << "P=" << P << " M=" << M << " rank " << s.rank;
      EXPECT_EQ(e.stats[0].peak_activations, P);  // same memory as 1F1B
    }
}

}  // namespace
}  // namespace mhc

namespace mhc {
namespace {

TEST(ScheduleClosedForm, ZbH2LeavesOnlyTheStartSkewWhenInputGradientFitsInAForward) {
  // ZB-H2 removes the warm-up/cool-down bubble; what makespan - busy still sees is the start skew
  // (P-1)F that no schedule avoids on the last rank. Holds (2P-1) activations on rank 0.
  for (int P : {1, 2, 4, 8, 16})
    for (int M : {2 * P, 2 * P + 3, 4 * P})
      for (const auto& t : {test::times(1, 2, 1, 3), test::times(1, 1.5, 0.5, 2.5), test::times(2, 2.5, 1, 4.5)}) {
        ASSERT_LE(t.B - t.W, t.F);
        auto e = test::evaluate({ScheduleKind::zb_h2, P, M, 1}, t);
        expect_runs_every_task_once_in_order(e);
        for (const auto& s : e.stats) EXPECT_NEAR(s.bubble, (P - 1) * t.F, kTol) << "P=" << P << " M=" << M;
        EXPECT_EQ(e.stats[0].peak_activations, std::min(2 * P - 1, M));
      }
}

TEST(ScheduleClosedForm, ZbH2NeverWorseThanZbH1) {
  for (int P : {2, 4, 8})
    for (int M : {P, 2 * P, 4 * P + 1})
      for (const auto& t : {test::times(1, 2.5, 0.5, 3), test::times(1, 3, 1, 3.5), test::times(1, 2, 1, 3)}) {
        auto h1 = test::evaluate({ScheduleKind::zb_h1, P, M, 1}, t);
        auto h2 = test::evaluate({ScheduleKind::zb_h2, P, M, 1}, t);
        expect_runs_every_task_once_in_order(h2);
        EXPECT_LE(h2.max_bubble(), h1.max_bubble() + kTol) << "P=" << P << " M=" << M;
      }
}

}  // namespace
}  // namespace mhc
