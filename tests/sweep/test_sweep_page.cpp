// `mhcsim sweep --html`: the page of a small sweep over two schedules (and a pipeline depth the
// scenario rejects) against the JSON the same invocation printed, its flag's errors, and the page in
// headless Chromium; a sweep with points that have no numbers (failed, or not finished on a cluster),
// and `mhcsim sweep-collect --html` writing the same page for what a Slurm sweep has finished.
#include <gtest/gtest.h>

#include <filesystem>

#include "sweep/sweep_page.h"
#include "support/browser.h"
#include "support/html_page_check.h"
#include "support/page_run.h"

using namespace mhc::test;
using nlohmann::json;

namespace {

const PageRun& sweep_page() {
  static const PageRun p = page_run(
      "sweep scenarios/small.json --n 1,4 --vary /schedule/kind=1f1b,zb1p --vary /parallelism/pp=4,3 "
      "--max-overhead 50 --max-memory 70 --jobs 2",
      "sweep-page");
  return p;
}

const std::vector<std::string> kFigures{"sweep-step", "sweep-overhead", "sweep-memory"};

// One series per valid configuration; one ringed point per configuration with a recommendation.
void expect_figures(const HtmlDoc& doc, const json& j) {
  std::set<std::string> configs;
  size_t recommended = 0;
  for (const auto& c : j["configurations"]) {
    if (c.contains("invalid")) continue;
    std::string label;
    for (const auto& s : c["settings"]) {
      if (!label.empty()) label += ' ';
      label += s.get<std::string>();
    }
    configs.insert(label);
    recommended += c["recommended_n"].is_number();
  }
  ASSERT_EQ(configs.size(), 2u);  // pp = 3 does not divide the 8 GPUs
  for (const auto& id : kFigures) {
    const HtmlNode* fig = doc.by_id(id);
    ASSERT_NE(fig, nullptr) << id;
    std::set<std::string> series;
    for (const auto& s : series_of_figure(doc, id)) series.insert(s.substr(0, s.find(" (fastest)")));
    EXPECT_EQ(series, configs) << id;
    EXPECT_EQ(fig->attr("data-series"), "2") << id;
    size_t marks = 0, budget_lines = 0;
    for (const auto& n : doc.nodes) {
      if (!doc.inside(n, *fig)) continue;
      marks += n.tag == "circle" && n.has_class("mark");
      budget_lines += n.tag == "g" && n.has_class("reference");
    }
    EXPECT_EQ(marks, recommended) << id;
    // Overhead: its budget; memory: the GPU's capacity and the budget; step time: none.
    EXPECT_EQ(budget_lines, id == "sweep-step" ? 0u : id == "sweep-overhead" ? 1u : 2u) << id;
  }
}

}  // namespace

TEST(SweepPage, EveryNumberIsTheJsonsAndEachConfigurationIsALine) {
  const PageRun& p = sweep_page();
  ASSERT_EQ(p.exit_code, 0);
  const HtmlDoc doc = parse_html(p.html);
  size_t checked = 0;
  for (const auto& e : check_numbers_against_json(doc, p.json, checked)) ADD_FAILURE() << e;
  EXPECT_GT(checked, 40u);
  for (const auto& t : bare_numbers(doc)) ADD_FAILURE() << "a number with no JSON pointer: '" << t << "'";
  expect_figures(doc, p.json);
  const auto on_page = pointers_on_page(doc);
  for (const char* m : {"/max_overhead_pct", "/max_memory_bytes", "/best_reason", "/configurations/1/invalid"})
    EXPECT_TRUE(on_page.count(m)) << m;
  for (size_t c = 0; c < p.json["configurations"].size(); ++c)
    for (size_t k = 0; k < p.json["configurations"][c].value("points", json::array()).size(); ++k)
      for (const char* f : {"step_time_s", "overhead_pct", "peak_memory_bytes"})
        EXPECT_TRUE(on_page.count("/configurations/" + std::to_string(c) + "/points/" + std::to_string(k) + "/" + f));
  for (const auto& n : doc.nodes) EXPECT_FALSE(n.attrs.count("src") || n.attrs.count("href")) << n.tag;
}

TEST(SweepPage, APointWithoutNumbersIsATableRowAndNoDot) {
  mhc::SweepRequest req;
  req.scenario = std::string(MHC_SOURCE_DIR) + "/scenarios/small.json";
  req.n_values = {1, 4, 8};
  req.max_overhead_pct = 50;
  mhc::SweepResult r;
  mhc::SweepConfig c;
  for (int n : req.n_values) {
    mhc::SweepPoint p;
    p.n = n;
    p.step_time_s = 0.01 * n;  // hand-made numbers: the page only draws them
    p.baseline_step_time_s = 0.01;
    p.overhead_pct = 100.0 * (n - 1);
    p.peak_memory_bytes = 1e9 * n;
    p.capacity_bytes = 80e9;
    p.fits_memory = true;
    p.mfu = 0.3 / n;
    c.points.push_back(p);
  }
  c.points[0].missing = "failed: the worker was killed";  // the first point: the capacity comes from another
  r.configs.push_back(c);
  mhc::recommend(req, r);
  const json j = mhc::sweep_json(req, r);
  const HtmlDoc doc = parse_html(mhc::sweep_page_html(req, r));
  size_t checked = 0;
  for (const auto& e : check_numbers_against_json(doc, j, checked)) ADD_FAILURE() << e;
  for (const auto& t : bare_numbers(doc)) ADD_FAILURE() << "a number with no JSON pointer: '" << t << "'";
  EXPECT_TRUE(pointers_on_page(doc).count("/points/0/missing"));
  EXPECT_TRUE(pointers_on_page(doc).count("/points/1/capacity_bytes"));
  for (const auto& id : kFigures) {
    const HtmlNode* fig = doc.by_id(id);
    ASSERT_NE(fig, nullptr);
    size_t dots = 0;
    for (const auto& n : doc.nodes) dots += n.tag == "circle" && n.has_class("dot") && doc.inside(n, *fig);
    EXPECT_EQ(dots, 2u) << id;
  }
}

TEST(SweepPage, SweepCollectWritesThePageOfTheFinishedPoints) {
  namespace fs = std::filesystem;
  const std::string dir = scratch_dir("sweep-collect-page");
  fs::remove_all(dir + "/sweep");
  // Planned as a Slurm array without submitting it; one of its two points run as its array task would.
  const std::string sweep = dir + "/sweep";
  ASSERT_EQ(run_command(kMhcsim + " sweep scenarios/small.json --n 1,4 --slurm " + sweep + " --dry-run", true).exit_code, 0);
  const auto point = run_command(kMhcsim + " sweep-point " + sweep + " 0", true);
  ASSERT_EQ(point.exit_code, 0) << point.all;
  const auto r = run_command(kMhcsim + " sweep-collect " + dir + "/sweep --json --html " + dir + "/page.html", false);
  EXPECT_EQ(r.exit_code, 1);  // a point has no result
  const json j = json::parse(r.out);
  const HtmlDoc doc = parse_html(read_file(dir + "/page.html"));
  size_t checked = 0;
  for (const auto& e : check_numbers_against_json(doc, j, checked)) ADD_FAILURE() << e;
  EXPECT_GT(checked, 5u);
  EXPECT_TRUE(pointers_on_page(doc).count("/points/0/step_time_s"));
  EXPECT_TRUE(pointers_on_page(doc).count("/points/1/missing"));
  const auto bad = run_command(kMhcsim + " sweep-collect " + dir + "/sweep --html /nonexistent-dir/c.html", true);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.all, "error: mhcsim sweep-collect: --html: cannot write '/nonexistent-dir/c.html': No such file or directory\n");
  fs::remove_all(dir);
}

TEST(SweepPage, AnUnwritablePathFailsBeforeAnyPointRuns) {
  // Progress lines go to stderr as points finish: the output being the one error line shows none ran.
  const auto r = run_command(kMhcsim + " sweep scenarios/small.json --n 1,4 --html /nonexistent-dir/s.html", true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.all, "error: mhcsim sweep: --html: cannot write '/nonexistent-dir/s.html': No such file or directory\n");
}

TEST(SweepPage, RendersInChromiumWithEveryLineDrawnAndNoScriptError) {
  if (!chromium_path()) GTEST_SKIP() << "chromium is not installed (.ci/setup installs it): the browser check is skipped";
  const PageRun& p = sweep_page();
  ASSERT_EQ(p.exit_code, 0);
  const auto b = run_chromium(p.page_path, "--dump-dom");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const HtmlDoc doc = parse_html(b.out);
  const auto html = doc.all("html");
  ASSERT_EQ(html.size(), 1u);
  EXPECT_EQ(html[0]->attr("data-script"), "ok");
  EXPECT_EQ(html[0]->attr("data-script-error"), "");
  expect_figures(doc, p.json);
  for (const auto& id : kFigures) {
    const HtmlNode* fig = doc.by_id(id);
    ASSERT_NE(fig, nullptr);
    EXPECT_EQ(fig->attr("data-drawn"), fig->attr("data-series")) << id;
  }
}
