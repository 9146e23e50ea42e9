// A horizontal waterfall: each part of a difference as a bar that starts where the previous part
// ended (increases and decreases coloured apart), then the total as its own bar from zero. "Where the
// extra time goes" is drawn with it; the parts add up to the total, which the chart makes visible.
#pragma once

#include <string>
#include <vector>

#include "report/chart.h"
#include "report/page_number.h"

namespace mhc {

struct WaterfallPart {
  std::string label;
  PageNumber value;
};

struct Waterfall {
  std::vector<WaterfallPart> parts;  // each one a series
  std::string total_label;
  PageNumber total;
  double axis_scale = 1;
  std::string axis_unit;
};

ChartOut waterfall_svg(const Waterfall& chart);

}  // namespace mhc
