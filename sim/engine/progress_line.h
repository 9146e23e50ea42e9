// A line on stderr every few seconds while a long simulation runs (mhcsim run on a terminal): which
// simulation, the share of its tasks that have ended, the simulated time so far and the wall time.
// Lines, not a carriage-return line: the scenario and its baseline simulate side by side, in two
// processes writing to one terminal.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>

namespace mhc {

class ProgressLine {
 public:
  using Clock = std::function<double()>;  // wall seconds, from any origin

  // An empty label: never prints. The first line comes after `first_s` of wall time, then one every
  // `every_s`: short runs print nothing.
  ProgressLine(std::string label, size_t total_tasks, std::FILE* out = stderr, Clock clock = steady_seconds,
               double first_s = 3.0, double every_s = 5.0);

  // Called as each task ends (a task is hundreds of SimGrid activities: reading the clock is cheap).
  void task_ended(size_t done, double simulated_s) {
    if (!label_.empty()) maybe_print(done, simulated_s);
  }

  static double steady_seconds();

 private:
  void maybe_print(size_t done, double simulated_s);

  std::string label_;
  size_t total_;
  std::FILE* out_;
  Clock clock_;
  double start_, next_, every_;
};

}  // namespace mhc
