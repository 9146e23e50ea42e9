// How a run trains beyond its model and layout (the scenario's "training" section): what the backward
// pass recomputes instead of keeping, in which format it keeps what it saves, the optimizer and the
// precision of its state, and the memory the framework holds besides. Presets name what published
// runs do (Megatron-LM's selective and full recomputation, DeepSeek-V3's memory techniques).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/json_input.h"

namespace mhc {

// Parts of a layer the backward recomputes, named as Megatron-Core's --recompute-modules names them
// (NVIDIA/Megatron-LM megatron/core/transformer/transformer_config.py at 002526d8, recompute_modules),
// except moe_experts (Megatron's "moe" re-runs the whole MoE layer, all-to-all included; this re-runs
// only this GPU's routed-expert FFN on the rows it received).
//   layernorm:      every RMSNorm of the layer (DeepSeek-V3 3.2.3: "all RMSNorm operations"; Megatron's
//                   covers the two sublayer norms), output discarded and rebuilt
//   mla_up_proj:    MLA's q and kv up-projections and RoPE (DeepSeek-V4's compressed attention: its q
//                   up-projection and RoPE), output discarded and rebuilt
//   core_attn:      the attention core, checkpointed (its inputs kept, its internals rebuilt)
//   moe_act:        the routed experts' activation (SwiGLU / GELU), output discarded and rebuilt
//   mlp:            the dense FFN, checkpointed
//   shared_experts: the MoE layer's shared experts, checkpointed
//   moe_experts:    this GPU's routed-expert FFN (up, activation, down), checkpointed
enum class RecomputeModule { layernorm, mla_up_proj, core_attn, moe_act, mlp, shared_experts, moe_experts };
const char* to_string(RecomputeModule m);
const std::vector<std::string>& recompute_module_names();

struct RecomputeSpec {
  std::string name = "none";  // the preset, or "custom"
  std::vector<RecomputeModule> modules;
  // Layers of each pipeline stage recomputed whole, first ones first (Megatron's full granularity with
  // the "block" method: only the layer's input is kept); -1: every layer.
  int64_t full_layers = 0;
  bool has(RecomputeModule m) const;
  int64_t full_layers_in(int64_t stage_layers) const {
    return full_layers < 0 ? stage_layers : std::min(full_layers, stage_layers);
  }
};
// "none", "selective" (Megatron's default selective: core_attn; Korthikanti et al. 2022, arXiv
// 2205.05198, section 5), "full" (every layer whole), "deepseek-v3" (layernorm, mla_up_proj, moe_act:
// DeepSeek-V3, arXiv 2412.19437v2, 3.2.3 and 3.3.3).
std::optional<RecomputeSpec> recompute_preset(const std::string& name);
const std::vector<std::string>& recompute_preset_names();

// How a saved tensor is kept: `bits` per value, plus one scale of `scale_bits` per `block` values
// (block 0: none).
struct StorageFormat {
  std::string name = "bf16";
  double bits = 16;
  int64_t block = 0;
  double scale_bits = 0;
  double bytes_per_value() const { return bits / 8.0 + (block > 0 ? scale_bits / 8.0 / double(block) : 0.0); }
  bool operator==(const StorageFormat& o) const {
    return name == o.name && bits == o.bits && block == o.block && scale_bits == o.scale_bits;
  }
};
// bf16; fp32; fp8 (E4M3 with one fp32 scale per 1x128 tile, DeepSeek-V3 3.3.2); e5m6 (DeepSeek-V3 3.3.3's
// 12-bit format, scaled per 1x128 tile: the report gives the scales as powers of 2, not their
// width, so they are counted as fp32 like FP8's).
std::optional<StorageFormat> builtin_storage_format(const std::string& name);

// Saved tensors whose storage a run may choose, named by what they are.
//   attention_output:     the input of the linear after attention, which the attention backward also
//                         reads: kept once in this format for both (DeepSeek-V3 3.3.3 (1): E5M6)
//   moe_activation_input: the routed experts' SwiGLU / GELU input (DeepSeek-V3 3.3.3 (2): FP8)
//   mlp_activation_input: the dense FFN's and shared experts' activation input
//   logits:               what the loss keeps of the LM head's output for its gradient: bf16 logits
//                         as computed, or fp32 probabilities where the loss upcasts first (Megatron-
//                         Core's vocab_parallel_cross_entropy calls .float() and saves the softmax;
//                         torchtitan's cross_entropy_loss casts the logits .float()), V / tp per token
const std::vector<std::string>& storage_role_names();

struct SavedActivationsSpec {
  std::string name = "as-computed";  // the preset, or "custom"
  std::map<std::string, StorageFormat> formats;  // by role; roles not listed keep what their op wrote
  // The routing weight multiplies the expert activation's output on the expert side, so the combine
  // is a plain sum and keeps no expert outputs (Megatron-Core MoE, megatron/core/transformer/moe/README.md
  // at d2c5e8b4, MCore v0.13: "moving the probs multiplication from unpermutation to activation function
  // of GroupedMLP"); the activation keeps the weight instead.
  bool fold_routing_weights = false;
  const StorageFormat* format_for(const std::string& role) const {
    auto it = formats.find(role);
    return it == formats.end() ? nullptr : &it->second;
  }
};
// "as-computed" (each tensor in the dtype its op wrote: bf16, or the FP8 copy a GEMM input is cast to),
// "deepseek-v3" (attention_output e5m6, moe_activation_input fp8: arXiv 2412.19437v2 3.3.3).
std::optional<SavedActivationsSpec> saved_activations_preset(const std::string& name);
const std::vector<std::string>& saved_activations_preset_names();

// The optimizer and the precision of what it keeps per parameter.
struct OptimizerSpec {
  enum class Kind { adamw, muon } kind = Kind::adamw;
  std::string name = "adamw";  // the preset, or "custom"
  DType params = DType::bf16;     // the weights the GEMMs read
  DType gradients = DType::fp32;  // main gradients, accumulated over the micro-batches
  bool master_weights = true;     // an fp32 copy of the weights, held by the optimizer
  DType states = DType::fp32;     // Adam's two moments, Muon's momentum
  // Muon: Newton-Schulz iterations per update (Moonlight's Muon, arXiv 2502.16982: 5; DeepSeek-V4's
  // report, Algorithm 1: 10).
  int newton_schulz_steps = 5;
  // Optimizer state bytes per parameter (master copy and moments). Muon keeps one momentum for
  // matrices and runs AdamW (two moments) on the embedding, the output head and 1-D parameters
  // (MoonshotAI/Moonlight examples/toy_train.py at abaa96ec).
  double state_bytes(bool muon_matrix) const;
  // Moments per parameter the optimizer keeps.
  int moments(bool muon_matrix) const { return kind == Kind::muon && muon_matrix ? 1 : 2; }
};
// "deepseek-v4": muon with 10 Newton-Schulz iterations (DeepSeek-V4 report, Algorithm 1; the state
// precisions are not published: muon's).
// "adamw" (Megatron-LM's bf16 recipe: bf16 parameters, fp32 main gradients, fp32 master weights and
// moments, 18 B per parameter unsharded; Megatron-LM docs/api-guide/dist_optimizer.md at 9fc93771),
// "deepseek-v3" (the same with bf16 moments: arXiv 2412.19437v2 3.3.3), "muon" (adamw's precisions,
// one fp32 momentum for matrices).
std::optional<OptimizerSpec> optimizer_preset(const std::string& name);
const std::vector<std::string>& optimizer_preset_names();

struct TrainingSpec {
  RecomputeSpec recompute;
  SavedActivationsSpec saved_activations;
  OptimizerSpec optimizer;
  // Memory the framework holds beyond parameters, optimizer state and activations: NCCL and
  // all-to-all buffers, the allocator's fragmentation, library workspaces. Not modelled: a number the
  // scenario states (with its source in the scenario's notes), 0 unless given, and the report says so.
  double framework_overhead_bytes = 0;
  bool framework_overhead_given = false;
};

// Parses the scenario's "training" object. Cross-checks against the model live in load_scenario.
TrainingSpec parse_training(JsonObject obj);

}  // namespace mhc
