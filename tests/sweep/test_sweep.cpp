// mhcsim sweep: the grid of varied settings, the recommendation rules, and a small end-to-end sweep.
#include <gtest/gtest.h>

#include <signal.h>

#include "core/json_input.h"
#include "report/report.h"
#include "run/run.h"
#include "sweep/sweep.h"

using namespace mhc;

namespace {

const std::string kSmall = std::string(MHC_SOURCE_DIR) + "/scenarios/small.json";

SweepPoint point(int n, double step, double baseline, double memory_gb, double capacity_gb = 80) {
  SweepPoint p;
  p.n = n;
  p.step_time_s = step;
  p.baseline_step_time_s = baseline;
  p.overhead_pct = 100 * (step / baseline - 1);
  p.peak_memory_bytes = memory_gb * 1e9;
  p.capacity_bytes = capacity_gb * 1e9;
  p.fits_memory = memory_gb <= capacity_gb;
  return p;
}

SweepConfig config(std::vector<std::string> settings, std::vector<SweepPoint> points) {
  SweepConfig c;
  c.settings = std::move(settings);
  c.points = std::move(points);
  return c;
}

}  // namespace

TEST(Sweep, AxisParsesPointerAndValuesAndRejectsMalformedText) {
  SweepAxis a = parse_sweep_axis("/parallelism/pp=2,4,8", "--vary");
  EXPECT_EQ(a.pointer, "/parallelism/pp");
  EXPECT_EQ(a.values, (std::vector<std::string>{"2", "4", "8"}));
  for (const char* bad : {"parallelism/pp=2", "/parallelism/pp", "/=2", "/parallelism/pp=", "/parallelism/pp=2,,4"}) {
    try {
      parse_sweep_axis(bad, "--vary");
      ADD_FAILURE() << bad;
    } catch (const InputError& e) {
      EXPECT_EQ(e.path(), "--vary") << bad;
    }
  }
}

TEST(Sweep, GridIsTheCartesianProductLastAxisFastest) {
  auto grid = sweep_grid({{"/a", {"1", "2"}}, {"/b", {"x", "y", "z"}}});
  ASSERT_EQ(grid.size(), 6u);
  EXPECT_EQ(grid[0], (std::vector<std::string>{"/a=1", "/b=x"}));
  EXPECT_EQ(grid[1], (std::vector<std::string>{"/a=1", "/b=y"}));
  EXPECT_EQ(grid[5], (std::vector<std::string>{"/a=2", "/b=z"}));
  EXPECT_EQ(sweep_grid({}), std::vector<std::vector<std::string>>{{}});
}

TEST(Sweep, RecommendsTheLargestNWithinBothBudgetsAndTheFastestConfiguration) {
  SweepRequest req;
  req.max_overhead_pct = 20;
  SweepResult r;
  // A: n = 4 within 20% (15%), n = 8 over it. B: n = 4 at 10% but over memory, n = 2 fits and is faster
  // than A's n = 4 in absolute step time. C: rejected by the scenario. D: nothing fits.
  r.configs.push_back(config({"/x=a"}, {point(1, 1.02, 1.0, 40), point(4, 1.15, 1.0, 50), point(8, 1.5, 1.0, 60)}));
  r.configs.push_back(config({"/x=b"}, {point(1, 0.81, 0.8, 70), point(2, 0.88, 0.8, 78), point(4, 0.88, 0.8, 81)}));
  SweepConfig invalid;
  invalid.settings = {"/x=c"};
  invalid.invalid = "small.json: /parallelism/pp: must divide the layers";
  r.configs.push_back(invalid);
  r.configs.push_back(config({"/x=d"}, {point(1, 2.0, 1.0, 90)}));
  recommend(req, r);
  EXPECT_EQ(r.configs[0].recommended_n, 4);
  EXPECT_NE(r.configs[0].reason.find("n = 8 rejected: overhead 50.00% > 20.00%"), std::string::npos) << r.configs[0].reason;
  EXPECT_EQ(r.configs[1].recommended_n, 2);
  EXPECT_NE(r.configs[1].reason.find("memory 81.0 GB > 80.0 GB"), std::string::npos) << r.configs[1].reason;
  EXPECT_FALSE(r.configs[2].recommended_n);
  EXPECT_FALSE(r.configs[3].recommended_n);
  ASSERT_TRUE(r.best_config);
  EXPECT_EQ(*r.best_config, 1u);
  EXPECT_NE(r.best_reason.find("/x=b at n = 2: step 0.8800 s, the fastest of 2 configurations"), std::string::npos)
      << r.best_reason;
  // A tighter budget leaves no configuration.
  req.max_overhead_pct = 1;
  recommend(req, r);
  EXPECT_FALSE(r.best_config);
}

// --max-memory replaces the GPU's capacity as the memory budget, in the choice and in the reason.
TEST(Sweep, AMemoryBudgetBelowTheCapacityDecidesTheRecommendation) {
  SweepRequest req;  // no overhead budget: memory alone decides
  SweepResult r;
  r.configs.push_back(config({"/x=a"}, {point(1, 1.02, 1.0, 40), point(4, 1.15, 1.0, 50), point(8, 1.5, 1.0, 60)}));
  recommend(req, r);
  EXPECT_EQ(r.configs[0].recommended_n, 8) << "60 GB fits the GPU's 80 GB";
  EXPECT_NE(r.configs[0].reason.find("peak memory 60.0 GB <= the GPU's memory (80.0 GB)"), std::string::npos)
      << r.configs[0].reason;
  req.max_memory_bytes = 55e9;
  recommend(req, r);
  EXPECT_EQ(r.configs[0].recommended_n, 4);
  EXPECT_NE(r.configs[0].reason.find("peak memory 50.0 GB <= the memory budget (55.0 GB)"), std::string::npos)
      << r.configs[0].reason;
  EXPECT_NE(r.configs[0].reason.find("n = 8 rejected: memory 60.0 GB > 55.0 GB"), std::string::npos) << r.configs[0].reason;
  req.max_memory_bytes = 39e9;
  recommend(req, r);
  EXPECT_FALSE(r.configs[0].recommended_n);
  EXPECT_FALSE(r.best_config);
  EXPECT_NE(r.configs[0].reason.find("no n fits: n = 1 rejected: memory 40.0 GB > 39.0 GB"), std::string::npos)
      << r.configs[0].reason;
}

TEST(Sweep, VariedScheduleMatchesSeparateRunsAndInvalidLayoutsAreReported) {
  SweepRequest req;
  req.scenario = kSmall;
  req.n_values = {1, 4};
  req.vary = {{"/schedule/kind", {"1f1b", "zb1p"}}, {"/parallelism/pp", {"4", "3"}}};
  req.jobs = 2;
  SweepResult r = run_sweep(req, nullptr);
  ASSERT_EQ(r.configs.size(), 4u);
  for (const SweepConfig& c : r.configs) {
    if (c.settings[1] == "/parallelism/pp=3") {
      EXPECT_NE(c.invalid.find("/parallelism"), std::string::npos) << c.invalid;  // 3 does not divide 8 GPUs
      EXPECT_TRUE(c.points.empty());
      continue;
    }
    ASSERT_EQ(c.invalid, "");
    ASSERT_EQ(c.points.size(), 2u);
    for (const SweepPoint& p : c.points) {
      const Scenario s = load_scenario(kSmall, {c.settings[0], c.settings[1], "/mhc/n=" + std::to_string(p.n)});
      const auto alone = report_json(run_scenario(s, RunOptions{}));
      EXPECT_DOUBLE_EQ(p.step_time_s, alone["step_time_s"].get<double>()) << c.settings[0] << " n=" << p.n;
      EXPECT_DOUBLE_EQ(p.baseline_step_time_s, alone["baseline_step_time_s"].get<double>());
    }
  }
  ASSERT_TRUE(r.best_config);
  // Every combination rejected: the first rejection is the error.
  req.vary = {{"/parallelism/pp", {"3", "5"}}};
  EXPECT_THROW(run_sweep(req, nullptr), InputError);
}

TEST(Sweep, AWorkerThatDiesCostsOnlyItsPoint) {
  SweepRequest req;
  req.scenario = kSmall;
  req.n_values = {1, 2, 4};
  req.jobs = 2;
  // The worker of n = 4 dies as a segfaulting or OOM-killed simulation would.
  const SweepResult r = run_sweep(req, nullptr, [](const Scenario& s) {
    if (s.mhc.n == 4) ::raise(SIGKILL);
    return run_point_report(s);
  });
  ASSERT_EQ(r.configs.size(), 1u);
  const auto& points = r.configs[0].points;
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(missing_points(r), 1u);
  EXPECT_EQ(points[2].n, 4);
  EXPECT_EQ(points[2].missing, "failed: sweep point n = 4: the worker process died (killed by signal 9)");
  for (int k : {0, 1}) {  // the finished points keep their numbers: those of a separate run
    EXPECT_EQ(points[k].missing, "");
    const auto alone = report_json(run_scenario(load_scenario(kSmall, {"/mhc/n=" + std::to_string(points[k].n)}), RunOptions{}));
    EXPECT_DOUBLE_EQ(points[k].step_time_s, alone["step_time_s"].get<double>());
  }
  // No budget: the largest n with a result, and the reason says that n = 4 was not run.
  EXPECT_EQ(r.configs[0].recommended_n, 2);
  EXPECT_NE(r.configs[0].reason.find("; n = 4 not considered: it has no result"), std::string::npos) << r.configs[0].reason;
  EXPECT_NE(sweep_text(req, r).find("     4  failed: sweep point n = 4: the worker process died (killed by signal 9)\n"),
            std::string::npos)
      << sweep_text(req, r);
  EXPECT_EQ(sweep_json(req, r)["points"][2], (nlohmann::json{{"n", 4}, {"missing", points[2].missing}}));
}
