// `mhcsim sweep --html`: the page of a small sweep over two schedules (and a pipeline depth the
// scenario rejects) against the JSON the same invocation printed, its flag's errors, and the page in
// headless Chromium.
#include <gtest/gtest.h>

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
    for (const auto& s : c["settings"]) label += (label.empty() ? "" : " ") + s.get<std::string>();
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

TEST(SweepPage, AnUnwritablePathFailsBeforeAnyPointRuns) {
  // Progress lines go to stderr as points finish: the output being the one error line shows none ran.
  const auto r = run_command(kMhcsim + " sweep scenarios/small.json --n 1,4 --html /nonexistent-dir/s.html", true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.all, "error: mhcsim sweep: --html: cannot open '/nonexistent-dir/s.html' for writing\n");
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
