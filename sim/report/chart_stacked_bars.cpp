#include "report/chart_stacked_bars.h"

#include <algorithm>

namespace mhc {

ChartOut stacked_bars_svg(const StackedBars& c) {
  constexpr double width = 1000, left = 170, right = 900, top = 24, row_h = 16, row_gap = 5, group_gap = 10;
  double y = top;
  std::vector<double> row_y;
  double max_value = 0;
  for (const auto& row : c.rows) {
    if (row.gap_before) y += group_gap;
    row_y.push_back(y);
    y += row_h + row_gap;
    double sum = 0;
    for (const auto& s : row.segments) sum += s.value.value * c.axis_scale;
    max_value = std::max(max_value, sum);
  }
  for (const auto& l : c.lines) max_value = std::max(max_value, l.value.value * c.axis_scale);
  const double axis_y = y + 4, height = axis_y + 34;
  const auto ticks = svg::nice_ticks(0, max_value > 0 ? max_value : 1, 8);
  const svg::LinearScale x{0, ticks.back(), left, right};

  svg::Writer w;
  w.open("svg", {{"class", "chart-svg"}, {"viewBox", "0 0 " + svg::coord(width) + " " + svg::coord(height)},
                 {"width", "100%"}, {"role", "img"}});
  x_axis(w, x, ticks, axis_y, top - 8, c.axis_unit);
  for (size_t i = 0; i < c.rows.size(); ++i) {
    w.open("text", {{"class", "label"}, {"x", left - 8}, {"y", row_y[i] + row_h - 4}, {"text-anchor", "end"}});
    if (c.rows[i].label_number) w.leaf("tspan", number_attrs(*c.rows[i].label_number), shown(*c.rows[i].label_number) + " ");
    w.text(c.rows[i].label).close();
  }

  std::vector<LegendKey> keys;
  for (size_t s = 0; s < c.series.size(); ++s) {
    bool any = false;
    for (const auto& row : c.rows)
      for (const auto& seg : row.segments) any = any || (seg.series == s && seg.value.value > 0);
    if (!any) continue;
    keys.push_back({c.series[s], series_class(s)});
    w.open("g", {{"class", "series"}, {"data-name", c.series[s]}});
    for (size_t i = 0; i < c.rows.size(); ++i) {
      double at = 0;
      for (const auto& seg : c.rows[i].segments) {
        const double v = seg.value.value * c.axis_scale;
        if (seg.series == s && v > 0) {
          w.open("rect", {{"class", "bar " + series_class(s)}, {"x", x(at)}, {"y", row_y[i]}, {"width", x(at + v) - x(at)},
                          {"height", row_h}});
          svg::Attrs a = number_attrs(seg.value);
          w.leaf("title", a, c.series[s] + ": " + shown(seg.value)).close();
        }
        at += std::max(0.0, v);
      }
    }
    w.close();
  }
  for (size_t i = 0; i < c.rows.size(); ++i) {
    if (!c.rows[i].total) continue;
    double sum = 0;
    for (const auto& seg : c.rows[i].segments) sum += std::max(0.0, seg.value.value * c.axis_scale);
    svg::Attrs a{{"class", "value"}, {"x", x(sum) + 6}, {"y", row_y[i] + row_h - 4}};
    for (auto& na : number_attrs(*c.rows[i].total)) a.push_back(na);
    w.leaf("text", a, shown(*c.rows[i].total));
  }
  for (const auto& l : c.lines) {
    const double lx = x(l.value.value * c.axis_scale);
    w.open("g", {{"class", "reference"}});
    w.leaf("line", {{"x1", lx}, {"x2", lx}, {"y1", top - 10}, {"y2", axis_y}});
    w.leaf("text", {{"class", "ref-label"}, {"x", lx - 4}, {"y", top - 12}, {"text-anchor", "end"}}, l.label);
    svg::Attrs a{{"class", "ref-label"}, {"x", lx + 4}, {"y", top - 12}};
    for (auto& na : number_attrs(l.value)) a.push_back(na);
    w.leaf("text", a, shown(l.value));
    w.close();
  }
  w.close();
  return {w.str() + legend_html(keys), keys.size()};
}

}  // namespace mhc
