// Horizontal stacked bars: one row per bar, segments of named series laid end to end, optional
// vertical reference lines (a GPU's memory capacity). The memory stack per GPU and the I/O per token
// are drawn with it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/chart.h"
#include "report/page_number.h"

namespace mhc {

struct BarSegment {
  size_t series = 0;  // index into StackedBars::series
  PageNumber value;   // drawn at value x axis_scale; its title shows it as the PageNumber says
};

struct BarRow {
  std::string label;
  std::optional<PageNumber> label_number;  // printed before the label ("r3" of "r3 mHC")
  std::vector<BarSegment> segments;
  std::optional<PageNumber> total;  // printed after the bar
  bool gap_before = false;          // a little space before the row (between groups)
};

struct ReferenceLine {
  std::string label;  // "capacity"
  PageNumber value;
};

struct StackedBars {
  std::vector<std::string> series;  // legend, in stacking order
  std::vector<BarRow> rows;
  std::vector<ReferenceLine> lines;
  double axis_scale = 1;  // data value -> axis unit (1e-9: bytes on a GB axis)
  std::string axis_unit;  // "GB"
};

ChartOut stacked_bars_svg(const StackedBars& chart);

}  // namespace mhc
