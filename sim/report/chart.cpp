#include "report/chart.h"

#include <cmath>

namespace mhc {

std::string legend_html(const std::vector<LegendKey>& keys) {
  svg::Writer w;
  w.open("div", {{"class", "legend"}});
  for (const auto& k : keys) {
    w.open("span", {{"class", "key"}});
    w.leaf("i", {{"class", k.css_class}}, " ");
    w.text(k.label).raw(k.extra_html).close();
  }
  w.close();
  return w.str();
}

std::string series_class(size_t i) {
  std::string c = "s";
  c += std::to_string(i % 10);
  return c;
}

std::string tick_label(double value, double step) {
  int decimals = 0;
  while (decimals < 9 && std::abs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-6)
    ++decimals;
  return svg::coord(value, decimals);
}

void x_axis(svg::Writer& w, const svg::LinearScale& s, const std::vector<double>& ticks, double y, double grid_top,
            const std::string& unit) {
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0;
  w.open("g", {{"class", "axis"}});
  w.leaf("line", {{"x1", s.r0}, {"x2", s.r1}, {"y1", y}, {"y2", y}});
  for (double t : ticks) {
    const double x = s(t);
    if (grid_top < y) w.leaf("line", {{"class", "grid"}, {"x1", x}, {"x2", x}, {"y1", grid_top}, {"y2", y}});
    w.leaf("line", {{"x1", x}, {"x2", x}, {"y1", y}, {"y2", y + 4}});
    w.leaf("text", {{"class", "tick"}, {"x", x}, {"y", y + 15}, {"text-anchor", "middle"}}, tick_label(t, step));
  }
  if (!unit.empty()) w.leaf("text", {{"class", "unit"}, {"x", s.r1}, {"y", y + 28}, {"text-anchor", "end"}}, unit);
  w.close();
}

void y_axis(svg::Writer& w, const svg::LinearScale& s, const std::vector<double>& ticks, double x, double grid_right,
            const std::string& unit) {
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0;
  w.open("g", {{"class", "axis"}});
  w.leaf("line", {{"x1", x}, {"x2", x}, {"y1", s.r0}, {"y2", s.r1}});
  for (double t : ticks) {
    const double y = s(t);
    if (grid_right > x) w.leaf("line", {{"class", "grid"}, {"x1", x}, {"x2", grid_right}, {"y1", y}, {"y2", y}});
    w.leaf("line", {{"x1", x - 4}, {"x2", x}, {"y1", y}, {"y2", y}});
    w.leaf("text", {{"class", "tick"}, {"x", x - 6}, {"y", y + 4}, {"text-anchor", "end"}}, tick_label(t, step));
  }
  if (!unit.empty()) w.leaf("text", {{"class", "unit"}, {"x", x - 6}, {"y", s.r1 - 10}, {"text-anchor", "end"}}, unit);
  w.close();
}

}  // namespace mhc
