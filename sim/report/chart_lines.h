// Lines against a numeric x (the sweep's n): one line per series with a dot per point, a marked
// point per series (the recommended n), and horizontal reference lines (the budgets).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/chart.h"
#include "report/page_number.h"

namespace mhc {

struct LinePoint {
  PageNumber x;  // drawn at x.value
  PageNumber y;  // drawn at y.value x axis_scale
};

struct LineSeries {
  std::string name;
  std::vector<LinePoint> points;  // in x order
  std::optional<size_t> marked;   // index of the marked point
  std::optional<PageNumber> mark_label;  // printed in the legend ("recommended n = 4")
  bool emphasised = false;        // drawn heavier (the fastest configuration)
};

struct HorizontalLine {
  std::string label;  // "overhead budget"
  PageNumber value;
};

struct LineChart {
  std::vector<LineSeries> series;
  std::vector<HorizontalLine> lines;
  double axis_scale = 1;
  std::string x_unit, y_unit;
  bool y_from_zero = true;
};

ChartOut line_chart_svg(const LineChart& chart);

}  // namespace mhc
