// Exposed communication on a hand-built timeline (timings set by hand, no simulation): each instant a
// compute task waits is split between the categories of its communication predecessors unfinished then.
#include <gtest/gtest.h>

#include "engine/exposed_comm.h"
#include "support/engine_test_util.h"

using namespace mhc;
using namespace mhc::test;

namespace {

void set(EngineResult& r, TaskId v, double start, double end) { r.timings[v] = {start, end}; }

}  // namespace

TEST(ExposedComm, EachInstantIsSplitBetweenTheCategoriesStillBlocking) {
  TaskGraph g;
  TaskId a = add_compute(g, "a", 0, 1.0);                           // [0, 1]
  TaskId pp = add_transfer(g, "pp recv", 1, 0, 1e6, "pp");         // ends 3
  TaskId ep = add_collective(g, "a2a", CollectiveOp::all_to_all, {0, 1}, 1e6, "ep");  // ends 6
  TaskId dp = add_collective(g, "dp", CollectiveOp::all_reduce, {0, 1}, 1e6, "dp");   // ends 2
  TaskId tp = add_collective(g, "tp", CollectiveOp::all_reduce, {0, 1}, 1e6, "tp");   // ends 0.5
  TaskId c = add_compute(g, "c", 0, 1.0);                           // starts 7
  for (TaskId u : {a, pp, ep, dp, tp}) boost::add_edge(u, c, g);
  // A second task waiting on two all-to-alls of one category: not split between them.
  TaskId ep2 = add_collective(g, "a2a 2", CollectiveOp::all_to_all, {0, 1}, 1e6, "ep");  // ends 9.5
  TaskId ep3 = add_collective(g, "a2a 3", CollectiveOp::all_to_all, {0, 1}, 1e6, "ep");  // ends 10
  TaskId d = add_compute(g, "d", 0, 1.0);                           // starts 10
  for (TaskId u : {c, ep2, ep3}) boost::add_edge(u, d, g);
  // A high-priority kernel waiting beside its pair is not counted again.
  TaskId h = add_compute(g, "h", 0, 0.1, Stream::high_priority);    // starts 10
  boost::add_edge(ep3, h, g);

  EngineResult r;
  r.timings.resize(boost::num_vertices(g));
  set(r, a, 0, 1);
  set(r, pp, 1, 3);
  set(r, ep, 1, 6);
  set(r, dp, 0, 2);
  set(r, tp, 0, 0.5);
  set(r, c, 7, 8);
  set(r, ep2, 8, 9.5);
  set(r, ep3, 8, 10);
  set(r, d, 10, 11);
  set(r, h, 10, 10.1);
  compute_exposed_comm(g, r);

  // c: ready at 1 (a's end). [1,2): pp, ep, dp unfinished, 1/3 s each; [2,3): pp, ep, 1/2 s each;
  // [3,6): ep alone; [6,7): nothing unfinished (c waited for something else), charged to none.
  // tp ended at 0.5, before c was ready: never blocking.
  // d: ready at 8 (c's end); [8,10): only "ep" unfinished, 2 s.
  const auto& x = r.exposed_comm_s_by_category;
  EXPECT_NEAR(x.at("pp"), 1.0 / 3 + 0.5, 1e-12);
  EXPECT_NEAR(x.at("dp"), 1.0 / 3, 1e-12);
  EXPECT_NEAR(x.at("ep"), 1.0 / 3 + 0.5 + 3.0 + 2.0, 1e-12);
  EXPECT_EQ(x.count("tp"), 0u);
  EXPECT_EQ(x.size(), 3u);
  // The old rule (all of c's wait to the communication that ended last) would give ep 6 s + 2 s and
  // pp nothing; the split keeps the total at the time some communication was unfinished: 5 + 2 s.
  EXPECT_NEAR(x.at("pp") + x.at("dp") + x.at("ep"), 7.0, 1e-12);
}

TEST(ExposedComm, NoWaitNoCharge) {
  std::map<std::string, double> by;
  const std::string pp = "pp";
  attribute_wait(2.0, 2.0, {{5.0, &pp}}, by);  // started as soon as ready
  attribute_wait(2.0, 3.0, {{1.0, &pp}}, by);  // the receive was already done
  EXPECT_TRUE(by.empty());
}
