// What the FSDP and DP-overlap tests share: Llama 3.1 8B on 8 H100 (torchtitan's published run), its
// hand-counted parameters, its step graph built from a scenario with overrides, the engine run on it
// unfolded, and NCCL's closed-form time of a collective over its DP group.
#pragma once

#include <string>
#include <vector>

#include "core/json_input.h"
#include "engine/engine.h"
#include "engine/nccl_model.h"
#include "graph/step_graph.h"
#include "profile/profile.h"
#include "schedule/scenario_schedule.h"

namespace mhc::test {

inline const std::string kLlama8bRun =
    std::string(MHC_SOURCE_DIR) + "/scenarios/published/runs/tt-llama3-8b-8xh100-bf16.json";

// Llama 3.1 8B (scenarios/models/llama3-8b.json): C 4096, 32 heads / 8 KV heads of 128, FFN 14336
// (SwiGLU: three matrices), vocab 128256, untied embedding and head. A block: q and o C x C, k and v
// C x 1024, the FFN 3 x C x 14336, two RMSNorm weights; a table (embedding or head): vocab x C.
constexpr double kLlama8bC = 4096;
constexpr double kLlama8bBlock =
    kLlama8bC * kLlama8bC * 2 + kLlama8bC * 1024 * 2 + 3 * kLlama8bC * 14336 + 2 * kLlama8bC;
constexpr double kLlama8bTable = 128256 * kLlama8bC;

struct BuiltStep {
  Scenario s;
  StepGraph step;
};

inline BuiltStep build_llama8b(const std::vector<std::string>& sets) {
  BuiltStep b{load_scenario(kLlama8bRun, sets), {}};
  const CostModel cost(load_profile_parts(b.s.profile, b.s.published_parts));
  b.step = build_step_graph(b.s, scenario_schedule(b.s), price_pipeline(b.s, cost));
  return b;
}

// Every GPU simulated (no replica folding), so each collective's own group is on the engine.
inline EngineResult run_unfolded(const BuiltStep& b) {
  EngineOptions options;
  options.fold_replicas = false;
  return simulate(b.s.cluster, b.step.graph, options);
}

// NCCL's closed-form time of one collective over the DP group on this cluster.
inline double dp_collective_time(const BuiltStep& b, CollectiveOp op, double bytes) {
  return nccl_select(op, group_shape(b.s.cluster, b.step.layout.dp_group[0]), bytes).time_s;
}

}  // namespace mhc::test
