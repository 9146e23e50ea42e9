// `mhcsim run --html`: the page of the small scenario against the JSON the same invocation printed
// (every number the JSON's, every chart there with its series), its flag's errors, and the page as
// headless Chromium renders it (DOM after the script ran; a screenshot that is not blank).
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "report/run_page.h"
#include "support/browser.h"
#include "support/html_page_check.h"
#include "support/page_run.h"

using namespace mhc;
using namespace mhc::test;
using nlohmann::json;

namespace {

const PageRun& small_page() {
  static const PageRun p = page_run("run scenarios/small.json", "run-page");
  return p;
}

// What the JSON says each figure must show, worked out from the report alone.
std::set<std::string> expected_timeline_kinds(const json& r) {
  std::set<std::string> k{"compute (GEMMs, attention, norms)"};
  bool bubble = false;
  for (const char* v : {"mhc", "baseline"}) {
    for (const auto& rank : r[v]["ranks"]) bubble = bubble || rank["bubble_s"].get<double>() > 0;
    for (const auto& [cat, bytes] : r[v]["network_bytes"]["by_category"].items()) {
      static const std::map<std::string, std::string> names{
          {"pp", "pipeline transfers"}, {"ep", "EP all-to-all"}, {"dp", "DP gradient reduction"}, {"tp", "TP collectives"}};
      if (bytes.get<double>() > 0) k.insert(names.count(cat) ? names.at(cat) : cat);
    }
  }
  if (bubble) k.insert("bubble (no compute)");
  if (r["scenario"]["variant"] != "residual") k.insert("mHC / residual-stream kernels");
  if (r["scenario"]["recompute"].get<bool>()) k.insert("mHC recomputation");
  // The optimizer step after each stage's gradient reduction (priced once per step).
  for (const auto& p : r["priced_ops"])
    if (p["per_step"].get<bool>()) k.insert("optimizer");
  return k;
}

std::set<std::string> expected_memory_items(const json& r) {
  std::set<std::string> k;
  for (const char* v : {"mhc", "baseline"})
    for (const auto& rank : r[v]["memory"])
      for (const auto& it : rank["items"])
        if (it["bytes"].get<double>() > 0) k.insert(it["name"].get<std::string>());
  return k;
}

void expect_figures(const HtmlDoc& doc, const json& r) {
  EXPECT_EQ(series_of_figure(doc, "timeline"), expected_timeline_kinds(r));
  EXPECT_EQ(series_of_figure(doc, "memory"), expected_memory_items(r));
  EXPECT_EQ(series_of_figure(doc, "io"), (std::set<std::string>{"read", "written"}));
  EXPECT_EQ(series_of_figure(doc, "breakdown").size(), breakdown_parts(r).size());
  for (const char* id : {"timeline", "breakdown", "memory", "io"}) {
    const HtmlNode* fig = doc.by_id(id);
    ASSERT_NE(fig, nullptr) << id;
    EXPECT_EQ(fig->attr("data-series"), std::to_string(series_of_figure(doc, id).size())) << id;
  }
}

}  // namespace

TEST(RunPage, EveryNumberIsTheJsonsAndEveryChartShowsItsSeries) {
  const PageRun& p = small_page();
  ASSERT_EQ(p.exit_code, 0);
  const HtmlDoc doc = parse_html(p.html);
  size_t checked = 0;
  for (const auto& e : check_numbers_against_json(doc, p.json, checked)) ADD_FAILURE() << e;
  EXPECT_GT(checked, 100u);
  for (const auto& t : bare_numbers(doc)) ADD_FAILURE() << "a number with no JSON pointer: '" << t << "'";
  expect_figures(doc, p.json);

  // The figures hold the numbers they are about.
  const auto on_page = pointers_on_page(doc);
  std::vector<std::string> must{"/step_time_s", "/baseline_step_time_s", "/overhead_pct", "/mfu/mhc", "/mfu/baseline",
                                "/memory/capacity_bytes", "/memory/peak_bytes", "/overhead_breakdown/delta_step_s"};
  for (const std::string v : {"/mhc", "/baseline"})
    for (size_t i = 0; i < p.json[v.substr(1)]["ranks"].size(); ++i) {
      const std::string row = std::to_string(i);
      must.push_back(v + "/ranks/" + row + "/bubble_fraction");
      must.push_back(v + "/memory/" + row + "/total_bytes");
    }
  for (const auto& [name, v] : p.json["io_per_token"]["variants"].items())
    for (const char* f : {"read_elems", "write_elems"}) must.push_back("/io_per_token/variants/" + name + "/" + f);
  for (const auto& part : breakdown_parts(p.json)) must.push_back(part.pointer);
  for (const auto& m : must) EXPECT_TRUE(on_page.count(m)) << m << " is not on the page";

  // The breakdown's parts add up to the step's difference, as the report promises.
  double sum = 0;
  for (const auto& part : breakdown_parts(p.json)) sum += p.json.at(json::json_pointer(part.pointer)).get<double>();
  EXPECT_NEAR(sum, p.json["overhead_breakdown"]["delta_step_s"].get<double>(), 1e-9);

  // The timeline's bubble drawn from the timings is the report's bubble (no high-priority stream here).
  int compute_lanes = 0;
  const HtmlNode* fig = doc.by_id("timeline");
  ASSERT_NE(fig, nullptr);
  std::vector<const HtmlNode*> panels;
  for (const auto& n : doc.nodes)
    if (n.tag == "svg" && n.has_class("timeline")) panels.push_back(&n);
  ASSERT_EQ(panels.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    const json& ranks = p.json[k == 0 ? "mhc" : "baseline"]["ranks"];
    for (const auto& n : doc.nodes) {
      if (n.tag != "g" || !n.has_class("lane") || n.attr("data-stream") != "compute" || !doc.inside(n, *panels[k])) continue;
      ++compute_lanes;
      const int r = std::stoi(n.attr("data-rank"));
      EXPECT_NEAR(std::stod(n.attr("data-idle-s")), ranks[r]["bubble_s"].get<double>(), 1e-9) << "rank " << r;
    }
  }
  EXPECT_EQ(compute_lanes, 8);

  // Self-contained: nothing is fetched.
  for (const auto& n : doc.nodes) {
    EXPECT_FALSE(n.attrs.count("src") || n.attrs.count("href")) << "<" << n.tag << "> refers outside the page";
    EXPECT_NE(n.tag, "link");
  }
  EXPECT_EQ(p.html.find("url("), std::string::npos);
  EXPECT_EQ(p.html.find("@import"), std::string::npos);
  // The footer names the scenario, the profile and the build.
  EXPECT_NE(p.html.find("scenarios/small.json"), std::string::npos);
  EXPECT_NE(p.html.find(p.json["profile"]["file"].get<std::string>()), std::string::npos);
  EXPECT_NE(p.html.find("<dt>mhcsim</dt><dd>version "), std::string::npos);
}

TEST(RunPage, AWhatIfIsNamedOnThePage) {
  const PageRun p = page_run("run scenarios/small.json --mhc-at-floor", "run-page-what-if");
  ASSERT_EQ(p.exit_code, 0);
  const HtmlDoc doc = parse_html(p.html);
  size_t checked = 0;
  for (const auto& e : check_numbers_against_json(doc, p.json, checked)) ADD_FAILURE() << e;
  ASSERT_EQ(p.json["what_if"].size(), 1u);
  EXPECT_TRUE(pointers_on_page(doc).count("/what_if/0"));
}

TEST(RunPage, AnUnwritablePathFailsBeforeTheSimulationNamingTheFlag) {
  const auto r = run_command(kMhcsim + " run scenarios/small.json --html /nonexistent-dir/page.html", true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.all, "error: mhcsim run: --html: cannot write '/nonexistent-dir/page.html': No such file or directory\n");
}

TEST(RunPage, RendersInChromiumWithEveryChartDrawnAndNoScriptError) {
  if (!chromium_path()) GTEST_SKIP() << "chromium is not installed (.ci/setup installs it): the browser check is skipped";
  const PageRun& p = small_page();
  ASSERT_EQ(p.exit_code, 0);
  const auto b = run_chromium(p.page_path, "--dump-dom");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const HtmlDoc doc = parse_html(b.out);
  const auto html = doc.all("html");
  ASSERT_EQ(html.size(), 1u) << b.out.substr(0, 400);
  EXPECT_EQ(html[0]->attr("data-script"), "ok") << "the page's script did not run to its end";
  EXPECT_EQ(html[0]->attr("data-script-error"), "");
  expect_figures(doc, p.json);
  // The script's own count: series with a non-empty box once laid out.
  for (const char* id : {"timeline", "breakdown", "memory", "io"}) {
    const HtmlNode* fig = doc.by_id(id);
    ASSERT_NE(fig, nullptr) << id;
    EXPECT_EQ(fig->attr("data-drawn"), fig->attr("data-series")) << id;
  }
}

TEST(RunPage, ZoomButtonsMoveBothTimelinesTogether) {
  if (!chromium_path()) GTEST_SKIP() << "chromium is not installed (.ci/setup installs it): the browser check is skipped";
  const PageRun& p = small_page();
  ASSERT_EQ(p.exit_code, 0);
  // A copy of the page that presses "zoom in" then "->" once loaded, as a reader would.
  std::string html = p.html;
  const std::string press =
      "<script>document.querySelector('[data-zoom=in]').click();"
      "document.querySelector('[data-zoom=right]').click();</script></body>";
  html.replace(html.rfind("</body>"), 7, press);
  const std::string zoomed = std::filesystem::path(p.page_path).replace_filename("zoomed.html").string();
  std::ofstream(zoomed, std::ios::binary) << html;
  const auto b = run_chromium(zoomed, "--dump-dom");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const HtmlDoc doc = parse_html(b.out);
  EXPECT_EQ(doc.all("html")[0]->attr("data-script-error"), "");
  // Zoom in keeps the middle half [S/4, 3S/4]; "->" moves it by half its width: [S/2, S] (in ms).
  const double span_ms = 1e3 * std::max(p.json["step_time_s"].get<double>(), p.json["baseline_step_time_s"].get<double>());
  int panels = 0;
  for (const auto& n : doc.nodes) {
    if (n.tag != "svg" || !n.has_class("lanes")) continue;
    ++panels;
    std::istringstream vb(n.attr("viewBox"));
    double x = 0, y = 0, w = 0;
    vb >> x >> y >> w;
    EXPECT_NEAR(x, span_ms / 2, 1e-6 * span_ms) << n.attr("viewBox");
    EXPECT_NEAR(w, span_ms / 2, 1e-6 * span_ms) << n.attr("viewBox");
  }
  EXPECT_EQ(panels, 2);
  // The time axis was redrawn for the visible half: its first tick is at or after S/2.
  for (const auto& n : doc.nodes)
    if (n.tag == "text" && n.has_class("tick") && doc.nodes[n.parent].parent >= 0 &&
        doc.nodes[doc.nodes[n.parent].parent].has_class("time-axis")) {
      EXPECT_GE(std::stod(n.text), span_ms / 2e3 - 1e-9);
      break;
    }
}

TEST(RunPage, ScreenshotIsNotBlank) {
  if (!chromium_path()) GTEST_SKIP() << "chromium is not installed (.ci/setup installs it): the screenshot check is skipped";
#ifndef MHC_HAVE_PNG
  GTEST_SKIP() << "libpng is not installed (.ci/setup installs libpng-dev): the screenshot cannot be read";
#endif
  const PageRun& p = small_page();
  ASSERT_EQ(p.exit_code, 0);
  const std::string png = std::filesystem::path(p.page_path).replace_extension(".png").string();
  const auto b = run_chromium(p.page_path, "--screenshot=" + png + " --window-size=1200,1600 --hide-scrollbars");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto s = screenshot_stats(png);
  ASSERT_TRUE(s.read) << png;
  EXPECT_EQ(s.width, 1200);
  EXPECT_EQ(s.height, 1600);
  // A blank page is its two backgrounds; this one is covered by charts: the timeline's compute colour
  // (#4e79a7) and its mHC colour (#f28e2b) fill visible areas.
  EXPECT_GT(s.beyond_top(2), 0.05);
  EXPECT_GT(s.share(0x4e79a7), 0.01);
  EXPECT_GT(s.share(0xf28e2b), 0.001);
}
