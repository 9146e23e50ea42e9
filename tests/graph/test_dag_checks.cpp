// The dag checks: a hand-made deadlock is reported with its cycle, missing or duplicated work is
// named, peak activations and the critical path come out as expected, and the pieces of the graph
// (transfers, gpu mapping, costs) are what the engine needs.
#include <gtest/gtest.h>

#include "support/schedule_test_util.h"

namespace mhc {
namespace {

ScheduledTask make(Phase p, int micro, int rank) {
  ScheduledTask t;
  t.phase = p;
  t.micro = micro;
  t.chunk = 0;
  t.stage = rank;
  return t;
}

// Two ranks, two micro-batches, one chunk each, built by hand.
Schedule two_rank_schedule(std::vector<ScheduledTask> r0, std::vector<ScheduledTask> r1) {
  Schedule s;
  s.request = {ScheduleKind::one_f_one_b, 2, 2, 1};
  s.ranks = 2;
  s.model_stages = 2;
  s.stage_of_chunk = {{0}, {1}};
  s.per_rank = {std::move(r0), std::move(r1)};
  return s;
}

TEST(DagCheck, HandMadeCyclicScheduleIsReportedAsDeadlockWithTheCycle) {
  // Rank 0 waits for mb0's gradient before sending mb1 forward; rank 1 wants mb1's forward before
  // it runs mb0's backward: a deadlock.
  auto s = two_rank_schedule({make(Phase::F, 0, 0), make(Phase::BW, 0, 0), make(Phase::F, 1, 0), make(Phase::BW, 1, 0)},
                             {make(Phase::F, 0, 1), make(Phase::F, 1, 1), make(Phase::BW, 0, 1), make(Phase::BW, 1, 1)});
  auto pg = build_pipeline_graph(s, phase_time_costs(PhaseTimes{}), {});
  auto check = check_graph(pg.graph, s);
  EXPECT_FALSE(check.ok);
  ASSERT_GE(check.cycle.size(), 3u);
  EXPECT_EQ(check.cycle.front(), check.cycle.back());
  // The chain names the four tasks and both transfers involved.
  for (const char* name : {"r0 F mb1", "r1 F mb1", "r1 BW mb0", "r0 BW mb0", "pp r0->r1 mb1", "pp r1->r0 mb0"})
    EXPECT_NE(check.cycle_text.find(name), std::string::npos) << name << " not in " << check.cycle_text;
  // Each link of the chain is an edge of the graph.
  for (size_t i = 0; i + 1 < check.cycle.size(); ++i)
    EXPECT_TRUE(boost::edge(check.cycle[i], check.cycle[i + 1], pg.graph).second);
  ASSERT_FALSE(check.problems.empty());
  EXPECT_NE(check.problems.front().find("deadlock"), std::string::npos);
  try {
    evaluate_zero_cost(pg.graph);
    FAIL() << "evaluating a deadlocked graph must throw";
  } catch (const DeadlockError& e) {
    EXPECT_NE(std::string(e.what()).find("r1 F mb1"), std::string::npos) << e.what();
  }
}

TEST(DagCheck, BackwardBeforeItsOwnForwardIsADeadlock) {
  auto s = two_rank_schedule({make(Phase::F, 0, 0), make(Phase::F, 1, 0), make(Phase::BW, 0, 0), make(Phase::BW, 1, 0)},
                             {make(Phase::BW, 0, 1), make(Phase::F, 0, 1), make(Phase::F, 1, 1), make(Phase::BW, 1, 1)});
  auto pg = build_pipeline_graph(s, phase_time_costs(PhaseTimes{}), {});
  auto check = check_graph(pg.graph, s);
  EXPECT_FALSE(check.ok);
  // The two-task cycle, starting at either task.
  EXPECT_TRUE(check.cycle_text == "r1 BW mb0 c0 s1 -> r1 F mb0 c0 s1 -> r1 BW mb0 c0 s1" ||
              check.cycle_text == "r1 F mb0 c0 s1 -> r1 BW mb0 c0 s1 -> r1 F mb0 c0 s1")
      << check.cycle_text;
}

TEST(DagCheck, MissingAndDuplicatedWorkIsNamed) {
  auto s = two_rank_schedule({make(Phase::F, 0, 0), make(Phase::F, 1, 0), make(Phase::B, 0, 0), make(Phase::BW, 1, 0)},
                             {make(Phase::F, 0, 1), make(Phase::BW, 0, 1), make(Phase::F, 1, 1), make(Phase::BW, 1, 1),
                              make(Phase::W, 1, 1)});
  auto pg = build_pipeline_graph(s, phase_time_costs(PhaseTimes{}), {});
  auto check = check_graph(pg.graph, s);
  EXPECT_FALSE(check.ok);
  EXPECT_TRUE(check.cycle.empty());
  EXPECT_EQ(check.problem_count, 2u);
  std::string all;
  for (const auto& p : check.problems) all += p + "\n";
  EXPECT_NE(all.find("micro-batch 0 stage 0: weight gradient (W) runs 0 times"), std::string::npos) << all;
  EXPECT_NE(all.find("micro-batch 1 stage 1: weight gradient (W) runs 2 times"), std::string::npos) << all;
}

TEST(DagCheck, GeneratedSchedulesPassForEveryKind) {
  for (auto kind : {ScheduleKind::gpipe, ScheduleKind::one_f_one_b, ScheduleKind::interleaved, ScheduleKind::zb_h1,
                    ScheduleKind::zb_h2, ScheduleKind::dualpipe, ScheduleKind::dualpipe_v}) {
    ScheduleRequest req{kind, 4, 16, kind == ScheduleKind::interleaved ? 2 : 1};
    auto e = test::evaluate(req, PhaseTimes{});
    EXPECT_TRUE(e.check.ok) << to_string(kind) << ": " << (e.check.problems.empty() ? "" : e.check.problems.front());
    EXPECT_EQ(e.check.problem_count, 0u);
  }
}

TEST(DagGraph, TransfersCrossRanksOnTheGivenGpusWithTheirBytes) {
  auto s = generate_schedule({ScheduleKind::one_f_one_b, 4, 8, 1});
  PipelineCosts c = phase_time_costs(PhaseTimes{});
  c.transfer_bytes = [](int from, int to, const ScheduledTask& t) {
    EXPECT_EQ(std::abs(from - to), 1);
    EXPECT_TRUE(t.phase == Phase::F || t.phase == Phase::B);
    EXPECT_EQ(t.stage, from);  // the producer's stage
    return t.phase == Phase::F ? 100.0 : 200.0;
  };
  c.category = [](int, const ScheduledTask& t) { return t.phase == Phase::F ? std::string("fwd") : std::string("bwd"); };
  const std::vector<int> gpus = {10, 11, 12, 13};
  auto pg = build_pipeline_graph(s, c, gpus);
  // (P-1) activations and (P-1) gradients per micro-batch.
  ASSERT_EQ(pg.transfers.size(), size_t(2 * 3 * 8));
  for (TaskId x : pg.transfers) {
    const TaskNode& n = pg.graph[x];
    EXPECT_EQ(n.kind, NodeKind::transfer);
    EXPECT_EQ(n.category, "pp");
    EXPECT_EQ(n.bytes, n.dst_gpu > n.src_gpu ? 100.0 : 200.0) << n.name;
    EXPECT_EQ(boost::in_degree(x, pg.graph), 1u);
    EXPECT_EQ(boost::out_degree(x, pg.graph), 1u);
  }
  for (int r = 0; r < 4; ++r)
    for (size_t k = 0; k < s.per_rank[r].size(); ++k) {
      const TaskNode& n = pg.graph[pg.task_vertex[r][k]];
      EXPECT_EQ(n.gpu, gpus[r]);
      EXPECT_EQ(n.rank, r);
      EXPECT_EQ(n.category, n.phase == Phase::F ? "fwd" : "bwd");
    }
}

TEST(DagGraph, PipelineTransfersListEverySendOnce) {
  // 1F1B: (P-1) activations and (P-1) gradients per micro-batch; DualPipe the same per direction.
  for (auto kind : {ScheduleKind::one_f_one_b, ScheduleKind::dualpipe, ScheduleKind::interleaved}) {
    const int P = 4, M = 8, v = kind == ScheduleKind::interleaved ? 2 : 1;
    auto s = generate_schedule({kind, P, M, v});
    auto xs = pipeline_transfers(s);
    EXPECT_EQ(xs.size(), size_t(2 * (P * v - 1) * M)) << to_string(kind);
    auto pg = build_pipeline_graph(s, phase_time_costs(PhaseTimes{}), {});
    EXPECT_EQ(xs.size(), pg.transfers.size());
    for (const auto& x : xs) {
      const ScheduledTask& prod = s.per_rank[x.from_rank][x.producer_index];
      const ScheduledTask& cons = s.per_rank[x.to_rank][x.consumer_index];
      EXPECT_NE(x.from_rank, x.to_rank);
      if (x.sent.phase == Phase::F) {
        EXPECT_TRUE(prod.micro == x.sent.micro && prod.stage == x.sent.stage);
        EXPECT_TRUE((cons.micro == x.sent.micro && cons.stage == x.sent.stage + 1)) << task_name(x.to_rank, cons);
      } else {
        ASSERT_EQ(x.sent.phase, Phase::B);
        const bool fb = prod.phase == Phase::FB;
        EXPECT_EQ(fb ? prod.micro2 : prod.micro, x.sent.micro);
        const bool cfb = cons.phase == Phase::FB;
        EXPECT_EQ(cfb ? cons.stage2 : cons.stage, x.sent.stage - 1);
      }
    }
  }
}

TEST(DagCheck, TaskStageMustMatchTheChunkItsRankHolds) {
  auto s = two_rank_schedule({make(Phase::F, 0, 0), make(Phase::F, 1, 0), make(Phase::BW, 0, 0), make(Phase::BW, 1, 0)},
                             {make(Phase::F, 0, 1), make(Phase::BW, 0, 1), make(Phase::F, 1, 1), make(Phase::BW, 1, 1)});
  auto ok = check_graph(build_pipeline_graph(s, phase_time_costs(PhaseTimes{}), {}).graph, s);
  EXPECT_TRUE(ok.ok) << (ok.problems.empty() ? "" : ok.problems.front());
  s.per_rank[1][0].stage = 0;  // rank 1 holds stage 1 only
  auto bad = check_graph(build_pipeline_graph(s, phase_time_costs(PhaseTimes{}), {}).graph, s);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.problems.front().find("names a stage its rank does not hold"), std::string::npos) << bad.problems.front();
}

TEST(DagGraph, StreamOverlapIsFound) {
  TaskGraph g;
  TaskNode a;
  a.name = "a";
  a.gpu = 0;
  TaskNode b = a;
  b.name = "b";
  boost::add_vertex(a, g);
  boost::add_vertex(b, g);
  EXPECT_NE(stream_overlap(g, {{0, 2}, {1, 3}}).find("'b' starts at 1"), std::string::npos);
  EXPECT_EQ(stream_overlap(g, {{0, 2}, {2, 3}}), "");
}

TEST(DagGraph, CriticalPathOfOneFOneBRunsFromTheFirstForwardToTheLastBackward) {
  const int P = 4, M = 6;
  auto e = test::evaluate({ScheduleKind::one_f_one_b, P, M, 1}, PhaseTimes{});
  auto path = critical_path(e.pg.graph, e.timings);
  ASSERT_FALSE(path.empty());
  EXPECT_EQ(e.pg.graph[path.front()].name, "r0 F mb0 c0 s0");
  EXPECT_EQ(e.pg.graph[path.back()].name, "r0 BW mb5 c0 s0");
  double compute = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    if (i) {
      EXPECT_NEAR(e.timings[path[i]].start, e.timings[path[i - 1]].end, 1e-12);
    }
    if (e.pg.graph[path[i]].kind == NodeKind::compute) compute += e.pg.graph[path[i]].seconds;
  }
  EXPECT_NEAR(e.timings[path.front()].start, 0.0, 1e-12);
  EXPECT_NEAR(compute, e.stats[0].makespan, 1e-9);  // no gaps: the path is the makespan
}

TEST(DagGraph, PeakActivationsCountForwardsWhoseBackwardHasNotEnded) {
  // 1F1B rank r holds P - r micro-batches; GPipe holds all M.
  const int P = 6, M = 12;
  auto e = test::evaluate({ScheduleKind::one_f_one_b, P, M, 1}, PhaseTimes{});
  for (const auto& s : e.stats) EXPECT_EQ(s.peak_activations, P - s.rank);
  // Interleaved with v chunks: rank 0 warms up with 2(P-1) + (v-1)P chunk forwards, plus one.
  auto iv = test::evaluate({ScheduleKind::interleaved, P, M, 2}, PhaseTimes{});
  EXPECT_EQ(iv.stats[0].peak_activations, 2 * (P - 1) + P + 1);
}

TEST(DagGraph, RankStatsOnOverlappingStreamsSeparateBusyFromIdle) {
  // A hand-built graph as the engine might time it: two overlapping compute tasks on rank 0.
  TaskGraph g;
  TaskNode a;
  a.name = "a";
  a.rank = 0;
  a.seconds = 2;
  TaskNode b = a;
  b.name = "b";
  b.stream = Stream::high_priority;
  auto va = boost::add_vertex(a, g);
  auto vb = boost::add_vertex(b, g);
  std::vector<TaskTiming> t(2);
  t[va] = {0, 2};
  t[vb] = {1, 3};
  auto st = rank_stats(g, t, 1);
  EXPECT_DOUBLE_EQ(st[0].makespan, 3);
  EXPECT_DOUBLE_EQ(st[0].busy, 4);
  EXPECT_DOUBLE_EQ(st[0].bubble, -1);
  EXPECT_DOUBLE_EQ(st[0].idle, 0);
}

TEST(DagGraph, OverlappedPairsSetEachFbTaskBesideItsAllToAll) {
  // Rank 0 runs two DualPipe pairs: the first outlasts its all-to-all, the second waits 1.5 s past
  // its compute for it. Rank 1 runs a plain forward, so it has no pairs; a lone all-to-all matches
  // no FB task.
  TaskGraph g;
  TaskNode fb;
  fb.rank = 0;
  fb.phase = Phase::FB;
  fb.name = "r0 FB 1";
  TaskNode a2a;
  a2a.kind = NodeKind::collective;
  a2a.op = CollectiveOp::all_to_all;
  a2a.rank = 0;
  a2a.name = all_to_all_name(fb.name);
  auto p1 = boost::add_vertex(fb, g);
  auto a1 = boost::add_vertex(a2a, g);
  fb.name = "r0 FB 2";
  a2a.name = all_to_all_name(fb.name);
  auto p2 = boost::add_vertex(fb, g);
  auto a2 = boost::add_vertex(a2a, g);
  TaskNode f = fb;
  f.rank = 1;
  f.phase = Phase::F;
  f.name = "r1 F 1";
  auto v3 = boost::add_vertex(f, g);
  a2a.name = all_to_all_name(f.name);
  auto a3 = boost::add_vertex(a2a, g);
  std::vector<TaskTiming> t(6);
  t[p1] = {0, 4};
  t[a1] = {0.5, 3};
  t[p2] = {4, 6};
  t[a2] = {4, 7.5};
  t[v3] = {0, 1};
  t[a3] = {0, 9};
  auto pairs = overlapped_pairs(g, t, 2);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].pairs, 2);
  EXPECT_DOUBLE_EQ(pairs[0].compute_s, 4 + 2);
  EXPECT_DOUBLE_EQ(pairs[0].all_to_all_s, 2.5 + 3.5);
  EXPECT_EQ(pairs[0].all_to_all_bound, 1);
  EXPECT_DOUBLE_EQ(pairs[0].beyond_compute_s, 1.5);
  EXPECT_EQ(pairs[1].rank, 1);
  EXPECT_EQ(pairs[1].pairs, 0);
  EXPECT_DOUBLE_EQ(pairs[1].all_to_all_s, 0);
}

}  // namespace
}  // namespace mhc
