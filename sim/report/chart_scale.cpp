#include "report/chart_scale.h"

#include <cmath>
#include <stdexcept>

namespace mhc::svg {

double nice_step(double span, int target) {
  if (!(span > 0) || !std::isfinite(span) || target < 1) throw std::invalid_argument("nice_step: span must be > 0");
  const double raw = span / target;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double m = raw / power;  // in [1, 10)
  const double nice = m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0;
  return nice * power;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo) throw std::invalid_argument("nice_ticks: need lo <= hi");
  if (hi == lo) {
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.5;
    lo -= pad;
    hi += pad;
  }
  const double step = nice_step(hi - lo, target);
  // A relative tolerance so that a bound already on a tick (0.3 = 3 x 0.1) is not pushed out by a step.
  const double eps = 1e-9;
  const long first = static_cast<long>(std::floor(lo / step + eps));
  const long last = static_cast<long>(std::ceil(hi / step - eps));
  std::vector<double> ticks;
  for (long k = first; k <= last; ++k) ticks.push_back(k * step);
  return ticks;
}

}  // namespace mhc::svg
