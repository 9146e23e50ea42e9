// Axes of the page's charts: a linear map from data to drawing units and "nice" tick values (1, 2 or
// 5 times a power of ten) that cover a data range.
#pragma once

#include <vector>

namespace mhc::svg {

struct LinearScale {
  double d0 = 0, d1 = 1;  // data range
  double r0 = 0, r1 = 1;  // drawing range (may be reversed: y grows downwards)
  double operator()(double v) const { return d1 == d0 ? r0 : r0 + (v - d0) * (r1 - r0) / (d1 - d0); }
};

// The tick step for a span divided into about `target` intervals: 1, 2 or 5 x 10^k.
double nice_step(double span, int target);

// Ticks k x step from the largest multiple of the step <= lo to the smallest >= hi, with step =
// nice_step(hi - lo, target). lo == hi gives a range around the value (a chart of one point).
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

}  // namespace mhc::svg
