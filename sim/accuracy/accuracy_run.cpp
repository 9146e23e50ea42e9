#include <chrono>

#include "accuracy/accuracy_tiers.h"

namespace mhc {

AccuracyReport run_accuracy_suite(const AccuracySuite& suite, int jobs,
                                  const std::function<void(size_t, size_t, const std::string&)>& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  AccuracyReport r;
  r.suite_dir = suite.dir;
  for (auto part : {run_kernel_cases(suite.kernels), run_collective_cases(suite.collectives),
                    run_step_cases(suite, jobs, progress)})
    for (CaseResult& c : part) r.cases.push_back(std::move(c));
  r.tiers = summarize(r.cases);
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace mhc
