// The three tiers of the accuracy suite, each case priced by the machinery `mhcsim` itself uses:
//  - kernels: the cost stage (cost/cost.h) for the case's shape, on the case's profile, with the
//    entry left out when the profile holds it (leave-one-out);
//  - collectives: `mhcsim collective`'s bench (collective_bench.h) on the case's cluster;
//  - steps: the scenario's plain-residual variant through run_variant (run/run.h), the same path as
//    `mhcsim run`, in its own process; several cases run side by side (`jobs`).
#pragma once

#include <functional>
#include <vector>

#include "accuracy/accuracy_result.h"
#include "accuracy/accuracy_suite.h"

namespace mhc {

std::vector<CaseResult> run_kernel_cases(const std::vector<KernelCase>& cases);
std::vector<CaseResult> run_collective_cases(const std::vector<CollectiveCase>& cases);
// `progress(done, total, id)` is called as step cases finish (serialised).
std::vector<CaseResult> run_step_cases(const AccuracySuite& suite, int jobs,
                                       const std::function<void(size_t, size_t, const std::string&)>& progress);

// Everything: kernels, collectives, then steps, with the summaries (the caller stamps the date).
AccuracyReport run_accuracy_suite(const AccuracySuite& suite, int jobs,
                                  const std::function<void(size_t, size_t, const std::string&)>& progress);

}  // namespace mhc
