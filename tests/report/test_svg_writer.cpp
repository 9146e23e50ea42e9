// The SVG writer, axis scales and page numbers the HTML pages are drawn with (pure C++, no browser).
#include <cmath>
#include <cstdlib>
#include <limits>

#include <gtest/gtest.h>

#include "report/chart.h"
#include "report/chart_scale.h"
#include "report/page_number.h"
#include "report/svg_writer.h"

using namespace mhc;

TEST(SvgWriter, EscapesTextAndAttributes) {
  EXPECT_EQ(svg::escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
  svg::Writer w;
  w.leaf("text", {{"data-name", "x\"><script>"}}, "1 < 2 & 3");
  EXPECT_EQ(w.str(), "<text data-name=\"x&quot;&gt;&lt;script&gt;\">1 &lt; 2 &amp; 3</text>");
}

TEST(SvgWriter, CoordinatesAreShortAndExactValuesRoundTrip) {
  EXPECT_EQ(svg::coord(12.5), "12.5");
  EXPECT_EQ(svg::coord(3.0), "3");
  EXPECT_EQ(svg::coord(1234.5678), "1234.57");
  EXPECT_EQ(svg::coord(0.125, 3), "0.125");
  EXPECT_EQ(svg::coord(-0.001), "0");  // rounds to -0.00: written as 0
  EXPECT_EQ(svg::coord(-2.5), "-2.5");
  EXPECT_THROW(svg::coord(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  for (double v : {0.1, 2.7651234567891234, 1e-9 / 3, 52.5e9})
    EXPECT_EQ(std::strtod(svg::exact(v).c_str(), nullptr), v) << svg::exact(v);
}

TEST(SvgWriter, NestsElementsAndRefusesAnUnbalancedDocument) {
  svg::Writer w;
  w.open("svg", {{"viewBox", "0 0 10 10"}}).leaf("rect", {{"x", 1.5}, {"width", 2}}).open("g").leaf("text", {}, "hi");
  EXPECT_EQ(w.depth(), 2u);
  EXPECT_THROW(w.str(), std::logic_error);
  w.close().close();
  EXPECT_EQ(w.str(), "<svg viewBox=\"0 0 10 10\"><rect x=\"1.5\" width=\"2\"/><g><text>hi</text></g></svg>");
  EXPECT_THROW(w.close(), std::logic_error);
}

TEST(SvgWriter, RectPathDrawsEachRectangleAndSkipsEmptyOnes) {
  svg::RectPath p(3);
  p.add(1, 2, 3, 4);
  p.add(5, 0, 0, 4);   // zero width: nothing
  p.add(0.5, 1, 0.25, 2);
  EXPECT_EQ(p.count(), 2u);
  EXPECT_EQ(p.d(), "M1 2h3v4h-3zM0.5 1h0.25v2h-0.25z");
}

TEST(ChartScale, NiceTicksCoverTheRangeWithOneTwoOrFiveSteps) {
  EXPECT_DOUBLE_EQ(svg::nice_step(2.765, 10), 0.5);  // 0.2765 -> 0.5
  EXPECT_DOUBLE_EQ(svg::nice_step(80, 8), 10);
  EXPECT_DOUBLE_EQ(svg::nice_step(0.57, 8), 0.1);    // 0.071 -> 0.1
  EXPECT_DOUBLE_EQ(svg::nice_step(13, 10), 2);       // 1.3 -> 2
  const auto t = svg::nice_ticks(0, 2.765, 10);
  ASSERT_EQ(t.size(), 7u);
  EXPECT_DOUBLE_EQ(t.front(), 0);
  EXPECT_DOUBLE_EQ(t.back(), 3);
  // A bound on a tick stays the last tick (0.3 = 3 x 0.1 is not pushed to 0.4 by rounding).
  const auto u = svg::nice_ticks(-0.05, 0.3, 4);
  EXPECT_NEAR(u.front(), -0.1, 1e-12);
  EXPECT_NEAR(u.back(), 0.3, 1e-12);
  EXPECT_EQ(u.size(), 5u);
  const auto one = svg::nice_ticks(4, 4, 5);  // one point: a range around it
  EXPECT_LT(one.front(), 4);
  EXPECT_GT(one.back(), 4);
  EXPECT_THROW(svg::nice_ticks(2, 1), std::invalid_argument);
}

TEST(ChartScale, LinearScaleMapsEndsAndReverses) {
  const svg::LinearScale y{0, 40, 250, 20};  // y grows downwards
  EXPECT_DOUBLE_EQ(y(0), 250);
  EXPECT_DOUBLE_EQ(y(40), 20);
  EXPECT_DOUBLE_EQ(y(10), 192.5);
  EXPECT_EQ(tick_label(0.5, 0.5), "0.5");
  EXPECT_EQ(tick_label(10, 5), "10");
  EXPECT_EQ(tick_label(0.3, 0.1), "0.3");
  EXPECT_EQ(tick_label(0.25, 0.05), "0.25");
}

TEST(PageNumber, ShowsTheJsonValueScaledAndCarriesItsPointer) {
  const nlohmann::json doc = {{"a", {{"b/c", 0.23251}}}, {"m", 52.5e9}, {"s", "x"}};
  const auto p = page_number(doc, pointer_join("/a", "b/c"), 100, 2, "%", true);
  EXPECT_EQ(p.pointer, "/a/b~1c");
  EXPECT_EQ(shown(p), "+23.25%");
  EXPECT_EQ(shown(page_number(doc, "/m", 1e-9, 1, " GB")), "52.5 GB");
  PageNumber tiny{"/x", -1e-9, 1, 4, " s", true, ""};
  EXPECT_EQ(shown(tiny), "+0.0000 s");  // never "-0.0000"
  EXPECT_EQ(number_span(page_number(doc, "/m", 1e-9, 1, " GB")),
            "<span data-json=\"/m\" data-value=\"52500000000\" data-scale=\"1.0000000000000001e-09\">52.5 GB</span>");
  EXPECT_THROW(page_number(doc, "/nope", 1, 0, ""), std::out_of_range);
  EXPECT_THROW(page_number(doc, "/s", 1, 0, ""), std::domain_error);
}
