// Memory per GPU, itemised: parameters, gradients, optimizer state (ZeRO stage), the activations of
// the schedule's in-flight micro-batches, and mHC's widened residual stream with and without
// recomputation (paper 4.3.2). Everything derives from the model's op lists and parameter counts.
#pragma once

#include <string>
#include <vector>

#include "scenario/scenario.h"

namespace mhc {

struct MemoryItem {
  std::string name;     // "parameters", "gradients", ...
  double bytes = 0;
  std::string formula;  // how it was computed, for the report
};

struct RankMemory {
  int rank = 0;
  std::vector<MemoryItem> items;  // add up to total_bytes
  double total_bytes = 0;
  double capacity_bytes = 0;
  bool fits = false;
  // For comparison in the report: the mHC residual stream's stored bytes without recomputation
  // (equal to the stored item when recomputation is off).
  double residual_stream_without_recompute = 0;
  double residual_stream_with_recompute = 0;
};

// Mixed-precision Adam as the ZeRO paper counts it (Rajbhandari et al. 2020): 2 bytes of bf16
// parameters, 2 of gradients and K = 12 of optimizer state (fp32 master copy, momentum, variance).
constexpr double kParamBytes = 2.0, kGradBytes = 2.0, kOptimizerBytes = 12.0;

// `stages` are the model stages the rank holds (two for DualPipe), `in_flight` the peak number of
// micro-batches whose forward activations the rank holds at once (from the schedule).
RankMemory rank_memory(const Scenario& s, int rank, const std::vector<int>& stages, int in_flight);

// Activation bytes one micro-batch leaves saved for backward on one model stage, split into the
// sublayers' own tensors and the residual stream's (mHC) tensors.
struct StageActivations {
  double sublayers = 0;         // F's saved inputs (same for every residual variant), less what mHC recomputes
  double residual_stream = 0;   // x_l / x_{l0}, F's outputs and mapping coefficients kept for backward
  double recompute_transient = 0;  // one block's rebuilt tensors while it is recomputed
  double residual_stream_no_recompute = 0;
  double residual_stream_recompute = 0;
};
StageActivations stage_activations(const Scenario& s, int stage);

}  // namespace mhc
