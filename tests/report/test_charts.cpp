// The page's charts drawn from hand-made data: bar lengths, the waterfall's running sum, marks and
// reference lines, and the timeline's lanes, checked on the SVG they write.
#include <cstdlib>

#include <gtest/gtest.h>

#include "report/chart_lines.h"
#include "report/chart_stacked_bars.h"
#include "report/chart_timeline.h"
#include "report/chart_waterfall.h"
#include "support/html_page_check.h"

using namespace mhc;
using mhc::test::parse_html;

namespace {

PageNumber pn(const std::string& ptr, double v, double scale = 1) { return PageNumber{ptr, v, scale, 2, "", false, ""}; }
double attr(const test::HtmlNode* n, const char* a) { return std::strtod(n->attr(a).c_str(), nullptr); }

// The rectangles of the series named `name`, in document order.
std::vector<const test::HtmlNode*> rects_of(const test::HtmlDoc& doc, const std::string& name) {
  std::vector<const test::HtmlNode*> out;
  for (const auto& n : doc.nodes)
    if (n.tag == "g" && n.has_class("series") && n.attr("data-name") == name)
      for (const auto& r : doc.nodes)
        if (r.tag == "rect" && doc.inside(r, n)) out.push_back(&r);
  return out;
}

}  // namespace

TEST(Charts, StackedBarsAreProportionalAndOnlyDrawnSeriesCount) {
  StackedBars c;
  c.series = {"weights", "activations", "never"};
  c.rows.push_back({"a", std::nullopt, {{0, pn("/a/w", 10)}, {1, pn("/a/x", 30)}, {2, pn("/a/n", 0)}}, pn("/a/t", 40), false});
  c.rows.push_back({"b", std::nullopt, {{0, pn("/b/w", 10)}}, std::nullopt, true});
  c.lines.push_back({"capacity", pn("/cap", 35)});
  const ChartOut out = stacked_bars_svg(c);
  EXPECT_EQ(out.series, 2u);  // "never" has no positive segment
  const auto doc = parse_html(out.markup);
  // Axis 0..40 (ticks of 5) over x = 170..900: 10 -> 182.5 px, 30 -> 547.5 px, stacked after it.
  const auto w = rects_of(doc, "weights"), a = rects_of(doc, "activations");
  ASSERT_EQ(w.size(), 2u);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_NEAR(attr(w[0], "x"), 170, 0.01);
  EXPECT_NEAR(attr(w[0], "width"), 182.5, 0.01);
  EXPECT_NEAR(attr(a[0], "x"), 352.5, 0.01);
  EXPECT_NEAR(attr(a[0], "width"), 547.5, 0.01);
  EXPECT_TRUE(rects_of(doc, "never").empty());
  // The capacity line at 35 -> 170 + 730 x 35/40.
  bool line = false;
  for (const auto& n : doc.nodes)
    if (n.tag == "line" && doc.nodes[n.parent].has_class("reference")) line = std::abs(attr(&n, "x1") - 808.75) < 0.01;
  EXPECT_TRUE(line);
  EXPECT_NE(out.markup.find(">activations</span>"), std::string::npos);  // legend
  EXPECT_EQ(out.markup.find(">never</span>"), std::string::npos);
}

TEST(Charts, WaterfallPartsRunFromTheEndOfThePreviousOne) {
  Waterfall wf;
  wf.parts = {{"kernels", pn("/k", 0.44)}, {"slowdown", pn("/s", 0.13)}, {"bubble", pn("/b", -0.05)}};
  wf.total_label = "difference";
  wf.total = pn("/d", 0.52);
  const ChartOut out = waterfall_svg(wf);
  EXPECT_EQ(out.series, 3u);
  const auto doc = parse_html(out.markup);
  // Axis: nice ticks over [0, 0.57] with 8 intervals: 0 .. 0.6 by 0.1, x = 290 .. 860 (570 px).
  auto x = [](double v) { return 290 + 570 * v / 0.6; };
  const auto k = rects_of(doc, "kernels"), s = rects_of(doc, "slowdown"), b = rects_of(doc, "bubble");
  ASSERT_TRUE(k.size() == 1 && s.size() == 1 && b.size() == 1);
  EXPECT_NEAR(attr(k[0], "x"), x(0), 0.01);
  EXPECT_NEAR(attr(s[0], "x"), x(0.44), 0.01);
  EXPECT_NEAR(attr(s[0], "x") + attr(s[0], "width"), x(0.57), 0.01);
  // A decrease runs back from 0.57 to 0.52 and is coloured as one.
  EXPECT_NEAR(attr(b[0], "x"), x(0.52), 0.01);
  EXPECT_NEAR(attr(b[0], "width"), x(0.57) - x(0.52), 0.01);
  EXPECT_TRUE(b[0]->has_class("down"));
  EXPECT_TRUE(k[0]->has_class("up"));
}

TEST(Charts, LineChartMarksTheChosenPointAndDrawsBudgets) {
  LineChart c;
  LineSeries a{"dualpipe", {}, 1, PageNumber{"/rec", 4, 1, 0, "", false, "n = "}, true};
  a.points = {{pn("/p/0/n", 1), pn("/p/0/o", 5)}, {pn("/p/1/n", 4), pn("/p/1/o", 20)}, {pn("/p/2/n", 8), pn("/p/2/o", 60)}};
  LineSeries b{"1f1b", {{pn("/q/0/n", 1), pn("/q/0/o", 3)}, {pn("/q/1/n", 8), pn("/q/1/o", 40)}}, std::nullopt, std::nullopt, false};
  c.series = {a, b};
  c.lines.push_back({"overhead budget", pn("/max", 25)});
  const ChartOut out = line_chart_svg(c);
  EXPECT_EQ(out.series, 2u);
  const auto doc = parse_html(out.markup);
  int dots = 0, marks = 0;
  const test::HtmlNode* mark = nullptr;
  for (const auto& n : doc.nodes) {
    dots += n.tag == "circle" && n.has_class("dot");
    if (n.tag == "circle" && n.has_class("mark")) mark = &n, ++marks;
  }
  EXPECT_EQ(dots, 5);
  ASSERT_EQ(marks, 1);
  // The mark sits on dualpipe's second dot (n = 4, y = 20): y axis 0..60 over 250..20.
  EXPECT_NEAR(attr(mark, "cy"), 250 - 230 * 20.0 / 60, 0.01);
  EXPECT_NE(out.markup.find("class=\"series s0 best\""), std::string::npos);
  // The recommendation is named in the legend, tied to its pointer.
  EXPECT_NE(out.markup.find("dualpipe: <span data-json=\"/rec\" data-value=\"4\">n = 4</span>"), std::string::npos);
}

TEST(Charts, TimelineDrawsEveryLaneInMillisecondsWithOneSeriesPerKind) {
  Timeline t;
  t.step_s = 2.0;
  t.ranks = 2;
  t.lanes = {{0, "compute", {{0, 1.5, "layer"}, {1.5, 2.0, "idle"}}},
             {0, "pp", {{1.5, 1.6, "pp"}}},
             {1, "compute", {{0, 0.5, "idle"}, {0.5, 1.8, "layer"}, {1.8, 2.0, "mhc"}}}};
  t.idle_s = {0.5, 0.5};
  Timeline half = t;
  half.step_s = 1.0;
  half.lanes = {{0, "compute", {{0, 1.0, "layer"}}}, {1, "compute", {{0, 1.0, "layer"}}}};
  half.idle_s = {0, 0};
  std::vector<TimelinePanel> panels{{"mHC", &t, pn("/step", 2.0), {pn("/r/0/b", 0.25), pn("/r/1/b", 0.25)}},
                                    {"baseline", &half, pn("/bstep", 1.0), {pn("/q/0/b", 0), pn("/q/1/b", 0)}}};
  const ChartOut out = timeline_svg(panels);
  EXPECT_EQ(out.series, 4u);  // layer, mhc, idle, pp
  const auto doc = parse_html(out.markup);
  // Both panels share the longer step as their span, in ms.
  int lanes = 0;
  for (const auto& n : doc.nodes)
    if (n.tag == "svg" && n.has_class("lanes")) {
      ++lanes;
      EXPECT_EQ(n.attr("viewBox").substr(0, 9), "0 0 2000 ");
    }
  EXPECT_EQ(lanes, 2);
  // The compute lane of rank 1 sits below rank 0's two lanes: y = 2 x 11 + 2 + 7.
  EXPECT_NE(out.markup.find("M1800 31h200v11h-200z"), std::string::npos);  // rank 1's mhc segment
  EXPECT_NE(out.markup.find("M1500 13h100v11h-100z"), std::string::npos);  // rank 0's pp transfer
  // The rank labels carry the rank and its bubble from the report rows.
  EXPECT_NE(out.markup.find("data-json=\"/r/1/rank\""), std::string::npos);
  EXPECT_NE(out.markup.find("data-idle-s=\"0.5\""), std::string::npos);
}
