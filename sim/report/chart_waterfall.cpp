#include "report/chart_waterfall.h"

#include <algorithm>

namespace mhc {

ChartOut waterfall_svg(const Waterfall& c) {
  constexpr double width = 1000, left = 290, right = 860, top = 12, row_h = 18, row_gap = 6;
  // The running sum before and after each part, and the range the axis must cover.
  std::vector<std::pair<double, double>> spans;
  double at = 0, lo = 0, hi = 0;
  for (const auto& p : c.parts) {
    const double v = p.value.value * c.axis_scale;
    spans.emplace_back(at, at + v);
    at += v;
    lo = std::min(lo, at);
    hi = std::max(hi, at);
  }
  const double total = c.total.value * c.axis_scale;
  lo = std::min(lo, total);
  hi = std::max(hi, total);
  if (hi == lo) hi = lo + 1;
  const auto ticks = svg::nice_ticks(lo, hi, 8);
  const svg::LinearScale x{ticks.front(), ticks.back(), left, right};
  const size_t rows = c.parts.size() + 1;
  const double axis_y = top + rows * (row_h + row_gap) + 4, height = axis_y + 34;

  svg::Writer w;
  w.open("svg", {{"class", "chart-svg"}, {"viewBox", "0 0 " + svg::coord(width) + " " + svg::coord(height)},
                 {"width", "100%"}, {"role", "img"}});
  x_axis(w, x, ticks, axis_y, top - 4, c.axis_unit);
  w.leaf("line", {{"class", "zero"}, {"x1", x(0)}, {"x2", x(0)}, {"y1", top - 4}, {"y2", axis_y}});
  auto value_text = [&](const PageNumber& n, double bar_end, double bar_start, double y) {
    const bool right_side = bar_end >= bar_start;
    svg::Attrs a{{"class", "value"}, {"x", x(bar_end) + (right_side ? 6 : -6)}, {"y", y + row_h - 5},
                 {"text-anchor", right_side ? "start" : "end"}};
    for (auto& na : number_attrs(n)) a.push_back(na);
    w.leaf("text", a, shown(n));
  };
  for (size_t i = 0; i < c.parts.size(); ++i) {
    const double y = top + i * (row_h + row_gap);
    const auto [a, b] = spans[i];
    w.leaf("text", {{"class", "label"}, {"x", left - 8}, {"y", y + row_h - 5}, {"text-anchor", "end"}}, c.parts[i].label);
    w.open("g", {{"class", "series"}, {"data-name", c.parts[i].label}});
    // A zero part still gets a hairline, so every part is visibly there.
    const double x0 = x(std::min(a, b)), x1 = std::max(x(std::max(a, b)), x0 + 1);
    w.leaf("rect", {{"class", std::string("bar ") + (b >= a ? "up" : "down")}, {"x", x0}, {"y", y}, {"width", x1 - x0},
                    {"height", row_h}});
    w.close();
    value_text(c.parts[i].value, b, a, y);
  }
  const double y = top + c.parts.size() * (row_h + row_gap);
  w.leaf("text", {{"class", "label total"}, {"x", left - 8}, {"y", y + row_h - 5}, {"text-anchor", "end"}}, c.total_label);
  w.leaf("rect", {{"class", "bar total"}, {"x", x(std::min(0.0, total))}, {"y", y},
                  {"width", std::max(1.0, std::abs(x(total) - x(0)))}, {"height", row_h}});
  value_text(c.total, total, 0, y);
  w.close();
  return {w.str() + legend_html({{"adds time", "up"}, {"saves time", "down"}, {c.total_label, "total"}}),
          c.parts.size()};
}

}  // namespace mhc
