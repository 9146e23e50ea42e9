// Memory per GPU, itemised: parameters, gradients and optimizer state in the optimizer's precisions
// (sharded by the ZeRO stage), the activations the schedule's in-flight micro-batches keep (each op's
// kept tensors in their storage formats, less what the run's recomputation rebuilds: model stage,
// saved_activations.h), mHC's widened residual stream with and without its recomputation (paper
// 4.3.2), the tensors a recomputation rebuilds while one layer runs backward, and the framework's
// own memory as the scenario states it. Everything derives from the model's op lists and parameter
// counts; the report shows what each memory technique saved.
#pragma once

#include <string>
#include <utility>
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
  // What each memory technique the scenario uses saved on this GPU: the total without it (and without
  // those listed after it) minus the total with it. Recomputation, storage formats and folded routing
  // weights are added in that order, so their savings add up; mHC's recomputation and the ZeRO stage
  // are each against the same scenario without them.
  std::vector<MemoryItem> savings;
};

// `stages` are the model stages the rank holds (two for DualPipe), `in_flight` the peak number of
// micro-batches whose forward activations the rank holds at once (from the schedule).
RankMemory rank_memory(const Scenario& s, int rank, const std::vector<int>& stages, int in_flight);
// The same with the schedule's timeline of the rank's live chunks (graph/evaluator.h
// live_chunk_events: (chunk, +1) at a forward's start, (chunk, -1) at its backward's end): the
// activations held are the peak over time of the live chunks' own stage activations, not the
// largest stage's times the peak count (DualPipe's ranks hold a first and a last stage).
RankMemory rank_memory(const Scenario& s, int rank, const std::vector<int>& stages, int in_flight,
                       const std::vector<std::pair<int, int>>& live_chunks);

// Activation bytes one micro-batch leaves saved for backward on one model stage, split into the
// sublayers' own tensors and the residual stream's (mHC) tensors.
struct StageActivations {
  double sublayers = 0;         // the layers' (head's, MTP's) kept tensors that stay until the backward
  double residual_stream = 0;   // x_l / x_{l0}, F's outputs and mapping coefficients kept for backward
  double recompute_transient = 0;  // one mHC recompute block's rebuilt tensors while it is recomputed
  // The largest layer's tensors that the run's recomputation rebuilds, present while that layer runs
  // backward (a fully recomputed layer: everything it keeps).
  double rebuilt_transient = 0;
  double residual_stream_no_recompute = 0;
  double residual_stream_recompute = 0;
  int recompute_block = 0;  // L_r in sublayers (mHC recomputation)
};
// `chunks_held`: the live chunks the schedule holds at its peak, which an auto recompute block weighs
// (scenario.h optimal_recompute_block).
StageActivations stage_activations(const Scenario& s, int stage, int chunks_held = 1);

// Parameters on one GPU of the rank (all its stages), split by how the optimizer treats them.
struct RankParams {
  double replicated = 0;  // shared by the data-parallel replicas (attention, norms, dense FFN, ...)
  double experts = 0;     // routed experts, shared by dp x tp / ep ranks
  double adam_only = 0;   // of both: embedding and head tables, 1-D parameters (Muon leaves them to AdamW)
  double total() const { return replicated + experts; }
};
RankParams rank_params(const Scenario& s, const std::vector<int>& stages);

}  // namespace mhc
