// The timeline of a run against the run's own statistics: on the small scenario priced without a
// network (so a task's duration is its priced seconds), each rank's drawn bubble is rank_stats' bubble
// and its drawn mHC time is what report.cpp's rank_compute_by_class counts.
#include <gtest/gtest.h>

#include "report/report.h"
#include "report/timeline.h"
#include "run/run.h"
#include "scenario/scenario.h"

using namespace mhc;

namespace {

double total(const Timeline& t, int rank, const std::string& stream, const std::string& kind) {
  double s = 0;
  for (const auto& lane : t.lanes)
    if (lane.rank == rank && lane.stream == stream)
      for (const auto& seg : lane.segments)
        if (seg.kind == kind) s += seg.end - seg.start;
  return s;
}

}  // namespace

TEST(Timeline, LanesAgreeWithTheRunsBubbleAndKernelTime) {
  const Scenario s = load_scenario(std::string(MHC_SOURCE_DIR) + "/scenarios/small.json");
  RunOptions opt;
  opt.network = false;
  const VariantRun v = run_scenario(s, opt).mhc;
  const Timeline t = step_timeline(v);
  ASSERT_EQ(t.ranks, 4);
  EXPECT_DOUBLE_EQ(t.step_s, v.step_time_s);
  for (int r = 0; r < t.ranks; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    // No high-priority stream here: the gaps between compute tasks are the whole bubble.
    EXPECT_NEAR(t.idle_s[r], v.ranks[r].bubble, 1e-9 * v.step_time_s);
    EXPECT_NEAR(total(t, r, "compute", "idle"), v.ranks[r].bubble, 1e-9 * v.step_time_s);
    auto by_class = rank_compute_by_class(v, r);
    EXPECT_NEAR(total(t, r, "compute", "mhc"), by_class["mhc_forward"] + by_class["mhc_backward"], 1e-9 * v.step_time_s);
    EXPECT_NEAR(total(t, r, "compute", "mhc_recompute"), by_class["mhc_recompute"], 1e-9 * v.step_time_s);
    EXPECT_NEAR(total(t, r, "compute", "layer"), by_class["layer"], 1e-9 * v.step_time_s);
    EXPECT_GT(total(t, r, "compute", "mhc_recompute"), 0);  // recompute is on in small.json
    // Segments of a lane never run past the step and are in order.
    for (const auto& lane : t.lanes)
      for (size_t i = 0; i < lane.segments.size(); ++i) {
        EXPECT_LE(lane.segments[i].end, t.step_s * (1 + 1e-12));
        if (i > 0) {
          EXPECT_LE(lane.segments[i - 1].start, lane.segments[i].start);
        }
      }
  }
  // Every rank sends in 1F1B (activations down, gradients up), so each has a pipeline-transfer lane.
  for (int r = 0; r < t.ranks; ++r) {
    bool pp = false;
    for (const auto& lane : t.lanes) pp = pp || (lane.rank == r && lane.stream == "pp" && !lane.segments.empty());
    EXPECT_TRUE(pp) << "rank " << r;
  }
}
