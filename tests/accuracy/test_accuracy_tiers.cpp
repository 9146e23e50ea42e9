// The accuracy suite as CI runs it: every kernel and collective case and the fast subset of training
// runs (steps.json "ci": true), each held to the error today's model meets.
//
// The bounds below are WHAT TODAY'S MODEL MEETS, not goals: each case's |error| as the committed suite
// measured it (README "Accuracy against published measurements", 2026-11-30) plus 5 points, rounded
// up. A change that makes a prediction worse by more than that fails here; one that makes it better
// passes, and the bound should then be tightened to the new error + 5 points. The goal for training
// runs (issue 18) is under 10% once pricing, communication and memory are modelled, then under 5%.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "accuracy/accuracy_tiers.h"

using namespace mhc;

namespace {

const std::map<std::string, double> kBound = {
    // kernels: the cost stage
    {"loo-h100-quick-gemm", 0.09},
    {"loo-h100-quick-mhc", 0.42},
    {"loo-h100-gemm-layer-gemm", 0.09},
    {"fa3-fwd-causal-s512", 0.29},
    {"fa3-fwd-causal-s1k", 0.50},
    {"fa3-fwd-causal-s2k", 0.43},
    {"fa3-fwd-causal-s4k", 0.36},
    {"fa3-fwd-causal-s8k", 0.34},
    {"fa3-fwd-causal-s16k", 0.32},
    {"fa3-fwd-s512", 0.44},
    {"fa3-fwd-s1k", 0.38},
    {"fa3-fwd-s2k", 0.31},
    {"fa3-fwd-s4k", 0.29},
    {"fa3-fwd-s8k", 0.28},
    {"fa3-fwd-s16k", 0.28},
    {"fa3-bwd-s512", 0.68},
    {"fa3-bwd-s1k", 0.55},
    {"fa3-bwd-s2k", 0.46},
    {"fa3-bwd-s4k", 0.41},
    {"fa3-bwd-s8k", 0.39},
    {"fa3-bwd-s16k", 0.39},
    {"deepgemm-4096x2112x7168", 0.36},
    {"deepgemm-4096x24576x1536", 0.20},
    {"deepgemm-4096x32768x512", 0.44},
    {"deepgemm-4096x7168x16384", 0.08},
    {"deepgemm-4096x4096x7168", 0.18},
    {"deepgemm-4096x7168x2048", 0.20},
    {"deepgemm-grouped-4x8192x4096x7168", 0.09},
    {"deepgemm-grouped-4x8192x7168x2048", 0.20},
    {"deepgemm-grouped-8x4096x4096x7168", 0.18},
    {"deepgemm-grouped-8x4096x7168x2048", 0.18},
    // collectives: `mhcsim collective`'s machinery. The NCCL cases run held out (leave-one-out over the
    // clusters' nccl_measured): 8xH200 with the H800 figure's NVLS efficiency (21.3%), 8xH800 with the
    // H200 figure's (27.2%; 7.8% on NCCL's tuner alone, before the calibration).
    {"nccl-allreduce-8xh200", 0.27},
    {"nccl-allreduce-8xh800", 0.33},
    {"nccl-allreduce-1984xh200", 0.15},
    // DeepEP: replayed through moe_traffic's bytes, each link class at the efficiency the other DeepEP
    // figures give (leave-one-out); 15-45% off at the links' rates before (the bytes spread evenly).
    {"deepep-intranode-ep8-dispatch", 0.15},
    {"deepep-intranode-ep8-combine", 0.18},
    {"deepep-internode-ep16-dispatch", 0.12},
    {"deepep-internode-ep16-combine", 0.16},
    {"deepep-internode-ep32-dispatch", 0.07},
    {"deepep-internode-ep32-combine", 0.07},
    {"deepep-internode-ep64-dispatch", 0.09},
    {"deepep-internode-ep64-combine", 0.08},
    // training runs in the CI subset
    {"tt-llama3-8b-8xh100-bf16", 0.52},
    {"tt-llama3-8b-8xh100-fp8", 0.60},
    {"tt-llama3-8b-128xh100-bf16", 0.51},
    {"tt-llama3-70b-256xh100-tp8-bf16", 0.35},  // 29.8% once full recomputation is priced (issue 15)
    {"tt-llama3-8b-32xh200-fp8", 0.45},
    {"olmo-core-7b-8xh100-bf16", 0.41},
    {"tt-llama3-8b-8xh100-cp2-64k", 0.55},  // 50.1% when context parallelism landed (issue 16)
};

// Mean |error| per tier, today + 5 points (kernels 26.1%, collectives 9.7% held out, CI runs 40.9%).
constexpr double kKernelTierBound = 0.32, kCollectiveTierBound = 0.15, kCiStepsBound = 0.46;

const AccuracySuite& suite() {
  static const AccuracySuite s = load_accuracy_suite(std::string(MHC_SOURCE_DIR) + "/scenarios/published");
  return s;
}

double check_cases(const std::vector<CaseResult>& results) {
  double sum = 0;
  for (const CaseResult& r : results) {
    auto it = kBound.find(r.id);
    if (it == kBound.end()) {
      ADD_FAILURE() << r.id << " has no bound here: add today's |error| + 5 points (" << r.abs_error << ")";
      continue;
    }
    EXPECT_TRUE(std::isfinite(r.signed_error)) << r.id;
    EXPECT_LE(r.abs_error, it->second) << r.id << ": " << r.what << ", measured " << r.measured << " predicted "
                                       << r.predicted << " (" << r.relied_on << ")";
    sum += r.abs_error;
  }
  return results.empty() ? 0 : sum / results.size();
}

}  // namespace

TEST(AccuracyTiers, KernelsMeetTodaysTolerance) {
  const auto results = run_kernel_cases(suite().kernels);
  ASSERT_EQ(results.size(), suite().kernels.size());
  EXPECT_LE(check_cases(results), kKernelTierBound);
  for (const CaseResult& r : results) {
    if (r.unit == Unit::entries) {
      EXPECT_GT(r.comparisons, 10) << r.id;  // a group really left entries out
    }
  }
}

TEST(AccuracyTiers, CollectivesMeetTodaysTolerance) {
  const auto results = run_collective_cases(suite().collectives);
  ASSERT_EQ(results.size(), suite().collectives.size());
  EXPECT_LE(check_cases(results), kCollectiveTierBound);
}

TEST(AccuracyTiers, TheFastSubsetOfRunsMeetsTodaysToleranceWithMfuBelowOne) {
  AccuracySuite ci = suite();
  std::erase_if(ci.steps, [](const StepCase& c) { return !c.ci; });
  ASSERT_GE(ci.steps.size(), 5u);
  const auto results = run_step_cases(ci, 2, nullptr);
  EXPECT_LE(check_cases(results), kCiStepsBound);
  for (const CaseResult& r : results) {
    ASSERT_TRUE(r.mfu_measured && r.mfu_predicted) << r.id;
    // Against the peak of the run's GEMM precision (FP8 runs against the FP8 peak): never above 100%.
    EXPECT_GT(*r.mfu_predicted, 0.0) << r.id;
    EXPECT_LE(*r.mfu_predicted, 1.0) << r.id;
    EXPECT_LE(*r.mfu_measured, 1.0) << r.id;
  }
}

TEST(AccuracyTiers, SummariesAreTheMeansOfTheirCases) {
  std::vector<CaseResult> cases(3);
  cases[0].tier = cases[1].tier = Tier::collectives;
  cases[0].signed_error = -0.2;
  cases[0].abs_error = 0.2;
  cases[1].signed_error = 0.1;
  cases[1].abs_error = 0.1;
  cases[2].tier = Tier::steps;
  cases[2].expressible = false;  // listed, not counted
  cases[2].signed_error = 5;
  const auto s = summarize(cases);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tier, Tier::collectives);
  EXPECT_EQ(s[0].cases, 2);
  EXPECT_DOUBLE_EQ(s[0].mean_abs_error, 0.15);
  EXPECT_NEAR(s[0].signed_mean, -0.05, 1e-15);
}
