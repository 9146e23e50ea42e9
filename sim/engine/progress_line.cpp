#include "engine/progress_line.h"

#include <utility>

namespace mhc {

double ProgressLine::steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

ProgressLine::ProgressLine(std::string label, size_t total_tasks, std::FILE* out, Clock clock, double first_s,
                           double every_s)
    : label_(std::move(label)), total_(total_tasks), out_(out), clock_(std::move(clock)), every_(every_s) {
  start_ = label_.empty() ? 0.0 : clock_();
  next_ = start_ + first_s;
}

void ProgressLine::maybe_print(size_t done, double simulated_s) {
  const double now = clock_();
  if (now < next_) return;
  next_ = now + every_;
  const double share = total_ > 0 ? 100.0 * double(done) / double(total_) : 100.0;
  // One write per line: the two side-by-side simulations never interleave within a line.
  std::fprintf(out_, "mhcsim: %s: %.0f%% of %zu tasks ended, %.3f s of the step simulated, %.0f s wall\n",
               label_.c_str(), share, total_, simulated_s, now - start_);
  std::fflush(out_);
}

}  // namespace mhc
