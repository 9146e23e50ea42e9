// What every chart of the HTML pages gives back, and the pieces they share: an HTML legend and the
// series count the page records on its <figure> (the browser test checks it against the JSON).
//
// Conventions the page's CSS and the tests rely on: a chart is one <svg class="chart-svg">; each series
// is one <g class="series" data-name="..."> holding all of that series' marks; numbers are PageNumbers
// (data-json); axis tick labels carry class "tick" (scale marks, not data).
#pragma once

#include <string>
#include <vector>

#include "report/chart_scale.h"
#include "report/svg_writer.h"

namespace mhc {

struct ChartOut {
  std::string markup;  // <svg ...>...</svg> and its legend
  size_t series = 0;   // distinct series drawn
};

struct LegendKey {
  std::string label;
  std::string css_class;   // colour class: "s0".."s9", or a kind class ("k-mhc")
  std::string extra_html = {};  // after the label, already escaped (a number span)
};
// <div class="legend"><span class="key"><i class="CLS"></i>label</span>...</div>
std::string legend_html(const std::vector<LegendKey>& keys);

// The colour class of the i-th series of a generic chart ("s0".."s9", repeating).
std::string series_class(size_t i);

// Tick marks and labels along a horizontal axis at y (labels below), from scale.r0 to scale.r1;
// `label` formats a tick value. Vertical grid lines up to grid_top when grid_top < y.
void x_axis(svg::Writer& w, const svg::LinearScale& scale, const std::vector<double>& ticks, double y, double grid_top,
            const std::string& unit);
// The same on a vertical axis at x (labels to the left).
void y_axis(svg::Writer& w, const svg::LinearScale& scale, const std::vector<double>& ticks, double x, double grid_right,
            const std::string& unit);
// A tick value printed with as many decimals as the step needs ("0.25", "10").
std::string tick_label(double value, double step);

}  // namespace mhc
