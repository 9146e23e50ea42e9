#include "report/chart_lines.h"

#include <algorithm>
#include <limits>
#include <set>

namespace mhc {

ChartOut line_chart_svg(const LineChart& c) {
  constexpr double width = 1000, height = 300, left = 80, right = 960, top = 20, bottom = 250;
  double xlo = std::numeric_limits<double>::max(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  std::set<double> xs;
  for (const auto& s : c.series)
    for (const auto& p : s.points) {
      xlo = std::min(xlo, p.x.value);
      xhi = std::max(xhi, p.x.value);
      xs.insert(p.x.value);
      ylo = std::min(ylo, p.y.value * c.axis_scale);
      yhi = std::max(yhi, p.y.value * c.axis_scale);
    }
  for (const auto& l : c.lines) {
    ylo = std::min(ylo, l.value.value * c.axis_scale);
    yhi = std::max(yhi, l.value.value * c.axis_scale);
  }
  if (xs.empty()) xlo = xhi = ylo = yhi = 0;
  if (c.y_from_zero) ylo = std::min(ylo, 0.0);
  const auto yticks = svg::nice_ticks(ylo, yhi, 6);
  const svg::LinearScale y{yticks.front(), yticks.back(), bottom, top};
  // x: the points' own values as ticks (n = 1, 2, 4, 6, 8), padded half a step at each end.
  const double pad = xhi > xlo ? (xhi - xlo) * 0.04 : 1;
  const svg::LinearScale x{xlo - pad, xhi + pad, left, right};

  svg::Writer w;
  w.open("svg", {{"class", "chart-svg"}, {"viewBox", "0 0 " + svg::coord(width) + " " + svg::coord(height)},
                 {"width", "100%"}, {"role", "img"}});
  y_axis(w, y, yticks, left, right, c.y_unit);
  w.open("g", {{"class", "axis"}});
  w.leaf("line", {{"x1", left}, {"x2", right}, {"y1", bottom}, {"y2", bottom}});
  for (double v : xs) {
    w.leaf("line", {{"x1", x(v)}, {"x2", x(v)}, {"y1", bottom}, {"y2", bottom + 4}});
    w.leaf("text", {{"class", "tick"}, {"x", x(v)}, {"y", bottom + 16}, {"text-anchor", "middle"}}, svg::coord(v, 6));
  }
  w.leaf("text", {{"class", "unit"}, {"x", right}, {"y", bottom + 32}, {"text-anchor", "end"}}, c.x_unit);
  w.close();

  for (const auto& l : c.lines) {
    const double ly = y(l.value.value * c.axis_scale);
    w.open("g", {{"class", "reference"}});
    w.leaf("line", {{"x1", left}, {"x2", right}, {"y1", ly}, {"y2", ly}});
    w.leaf("text", {{"class", "ref-label"}, {"x", left + 6}, {"y", ly - 4}}, l.label);
    svg::Attrs a{{"class", "ref-label"}, {"x", right - 4}, {"y", ly - 4}, {"text-anchor", "end"}};
    for (auto& na : number_attrs(l.value)) a.push_back(na);
    w.leaf("text", a, shown(l.value));
    w.close();
  }

  std::vector<LegendKey> keys;
  for (size_t i = 0; i < c.series.size(); ++i) {
    const LineSeries& s = c.series[i];
    const std::string cls = series_class(i);
    keys.push_back({s.name, cls, s.mark_label ? ": " + number_span(*s.mark_label) : std::string()});
    w.open("g", {{"class", std::string("series ") + cls + (s.emphasised ? " best" : "")}, {"data-name", s.name}});
    std::string d;
    for (const auto& p : s.points) {
      d += d.empty() ? 'M' : 'L';
      d += svg::coord(x(p.x.value));
      d += ' ';
      d += svg::coord(y(p.y.value * c.axis_scale));
    }
    if (s.points.size() > 1) w.leaf("path", {{"class", "line"}, {"d", d}});
    for (const auto& p : s.points) {
      w.open("circle", {{"class", "dot"}, {"cx", x(p.x.value)}, {"cy", y(p.y.value * c.axis_scale)}, {"r", 3.5}});
      w.leaf("title", number_attrs(p.y), s.name + ": " + shown(p.y)).close();
    }
    if (s.marked && *s.marked < s.points.size()) {
      const LinePoint& p = s.points[*s.marked];
      const double mx = x(p.x.value), my = y(p.y.value * c.axis_scale);
      // Rings of several series on one point stay apart: each a little larger than the previous.
      w.leaf("circle", {{"class", "mark"}, {"cx", mx}, {"cy", my}, {"r", 7 + 3 * double(i % 4)}});
    }
    w.close();
  }
  w.close();
  return {w.str() + legend_html(keys), c.series.size()};
}

}  // namespace mhc
