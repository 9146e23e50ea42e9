// A scenario: the model, its residual variant (residual / HC / mHC and their settings), the parallel
// layout, the pipeline schedule, the cluster and the profile that prices its GPU. Parsing validates
// everything, including cross-field rules, and every error names file, JSON path and expectation.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "scenario/cluster.h"
#include "scenario/training.h"

namespace mhc {

struct AttentionSpec {
  // compressed: DeepSeek-V4's (its technical report, section 2.3; the released inference/model.py):
  // MQA with one K=V entry of head_dim per token, a low-rank q, and per layer either the sliding
  // window alone or the window plus KV entries compressed every `compress_ratios[l]` tokens, selected
  // top-k by a lightning indexer at the sparse ratio (CSA) or all attended (HCA); a grouped low-rank
  // output projection.
  enum class Kind { mha, gqa, mla, compressed } kind = Kind::mha;
  int64_t heads = 0;
  int64_t kv_heads = 0;   // mha/gqa (gqa with kv_heads 1 is MQA); mla: heads (K and V are per head)
  int64_t head_dim = 0;   // per head (mla: the non-RoPE part of q/k and v)
  int64_t rope_dim = 0;   // rotary dimensions per head: mla's decoupled RoPE; mha/gqa: head_dim with
                          // "rope": true, 0 without RoPE
  int64_t kv_rank = 0;    // mla: compressed KV dimension
  int64_t q_rank = 0;     // mla: compressed Q dimension (0 = no Q compression)
  // Which keys a query attends to (causal always): all earlier ones (0), the last `window` (sliding
  // window), or `sparse_topk` selected ones (sparse attention; 0 = dense).
  int64_t window = 0;
  int64_t sparse_topk = 0;
  // How the attention core runs: fused (FlashAttention: keeps q, k, v, its output and the softmax
  // statistics) or unfused (Megatron-LM's 2022 core attention: Q K^T, softmax, dropout and the product
  // with V as separate kernels, each materialising seq x seq scores per head; Korthikanti et al. 2022,
  // arXiv 2205.05198, section 4.1).
  bool unfused_core = false;

  // compressed only. Per layer, then per MTP module: 0 (the window alone) or a KV compression ratio.
  std::vector<int64_t> compress_ratios;
  // The ratio whose layers compress with overlapping windows (each entry pools 2 x ratio tokens, so
  // twice the compressor width) and select `indexer_topk` entries per query by the lightning indexer
  // (DeepSeek-V4: 4, CSA); other ratios attend to every compressed entry (HCA).
  int64_t sparse_ratio = 0;
  int64_t indexer_heads = 0, indexer_head_dim = 0, indexer_topk = 0;
  int64_t output_groups = 0;  // the output projection: groups of heads, each projected to output_rank,
  int64_t output_rank = 0;    // then groups x output_rank -> C
};

struct FfnSpec {
  enum class Kind { dense, moe } kind = Kind::dense;
  enum class Activation { swiglu, gelu } activation = Activation::swiglu;
  int64_t dense_dim = 0;       // dense FFN width (dense models, and MoE models' leading dense layers)
  int64_t expert_dim = 0;      // moe
  int64_t routed_experts = 0;  // moe
  int64_t top_k = 0;           // moe: routed experts per token
  int64_t shared_experts = 0;  // moe
  int64_t dense_layers = 0;    // moe: leading layers with a dense FFN
  // moe: node-limited routing, the most nodes of the EP group a token's experts may lie on (DeepSeek-V3,
  // arXiv 2412.19437 sec. 2.1.2: M = 4); 0 = not limited. Priced by the "rail" all-to-all
  // (cost/moe_traffic.h): DeepEP sends one network copy per destination node.
  int64_t max_nodes_per_token = 0;
};

// How the run's GEMMs compute. bf16; FP8 with one scale per tensor (cuBLASLt, Transformer Engine);
// FP8 with 1x128 activation tiles and 128x128 weight blocks (DeepSeek-V3 section 3.3, DeepGEMM):
// forward, input- and weight-gradient GEMMs alike. FP8 recipes add the casts their GEMMs need.
enum class GemmRecipe { bf16, fp8_tensor, fp8_block };
const char* to_string(GemmRecipe r);

struct PrecisionSpec {
  std::string name;  // the preset ("bf16", "fp8-tensor", "deepseek-v3-fp8") or "custom"
  GemmRecipe gemm = GemmRecipe::bf16;
  DType moe_dispatch = DType::bf16;  // the EP dispatch payload (DeepSeek-V3: FP8; combine stays BF16)
  // The backward dispatch payload: the gradient of the combine, sent token to experts (DeepSeek-V3
  // sec. 3.3.2: FP8, "the activation gradient before MoE down-projections"); combines stay BF16.
  DType moe_dispatch_backward = DType::bf16;
  DType gemm_dtype() const { return gemm == GemmRecipe::bf16 ? DType::bf16 : DType::fp8; }
};
// The named recipes; nullopt for an unknown name.
std::optional<PrecisionSpec> precision_preset(const std::string& name);
const std::vector<std::string>& precision_preset_names();

struct ModelSpec {
  std::string name;
  std::string file;
  int64_t layers = 0;
  int64_t hidden = 0;  // C
  int64_t vocab = 0;
  int64_t seq_len = 0;
  bool tied_embeddings = false;
  AttentionSpec attention;
  FfnSpec ffn;
  PrecisionSpec precision;
  // Multi-token prediction modules (DeepSeek-V3 section 2.2: depth 1), each a projection, one
  // transformer layer and the shared head, run on the last pipeline stage; 0 = none.
  int64_t mtp_depth = 0;
  // Dropout after the attention softmax (unfused core only; a fused core regenerates its mask from
  // the RNG state), after the attention output projection and after the FFN, each keeping a 1-byte
  // mask (GPT-3 as Megatron-LM trains it; Korthikanti et al. 2022, section 4.1). Off by default.
  bool dropout = false;
};

enum class ResidualVariant { residual, hc, mhc };
const char* to_string(ResidualVariant v);

struct MhcSpec {
  ResidualVariant variant = ResidualVariant::mhc;
  int n = 1;                   // expansion rate (1 for a plain residual)
  int sinkhorn_iters = 20;     // t_max
  bool fused = true;           // the paper's fused kernels, or the unfused HC-style sequence
  bool recompute = false;      // paper 4.3.2: keep x_{l0} per block of L_r layers, recompute inside
  bool recompute_block_auto = true;
  int recompute_block = 0;     // L_r when not auto, in sublayers (see optimal_recompute_block)
  bool high_priority_stream = false;  // paper 4.3.3: MLP post-res kernel on a high-priority stream
};

struct ParallelSpec {
  int tp = 1, pp = 1, ep = 1, dp = 1;
  // Context parallelism (Megatron-LM's --context-parallel-size, TransformerEngine's attention): each
  // sequence split over cp GPUs in 2 cp load-balanced chunks (rank i holds chunks i and 2cp-1-i, so
  // every rank does 1/cp of the causal attention), every token-wise op on T / cp tokens, the keys and
  // values of the whole sequence exchanged per attention layer. cp_comm: "p2p" (Megatron's default
  // ring: cp - 1 steps of send/recv, each hidden behind one step of attention) or "all_gather"
  // (Llama 3's: K and V all-gathered before the attention, on the critical path; the backward
  // reduce-scatters their gradients). GPU order tp, cp, dp, pp (Megatron's default order): a CP
  // group is cp TP groups of consecutive GPUs.
  int cp = 1;
  std::string cp_comm = "p2p";
  // Expert tensor parallelism (Megatron-Core's --expert-tensor-parallel-size): 1 (experts whole on
  // each EP rank, the MoE recipes' setting; each TP rank dispatches its own T / tp tokens) or tp
  // (Megatron's default when unset: each expert's matrices split over the TP group like a dense FFN;
  // the dispatched rows all-gathered over it before the experts and their outputs reduce-scattered
  // after). The expert data-parallel group (edp) follows: expert_dp().
  int etp = 1;
  int zero_stage = 0;           // 0: none, 1: optimizer state, 2: + gradients, 3: + parameters
  // ZeRO-3 as FSDP2 runs it (torchtitan's parallelism.fsdp_reshard_after_forward): whether a
  // transformer block's gathered parameters are freed after its forward and gathered again for its
  // backward. "default": torchtitan's (every block but the last without PP, none with PP), "always",
  // "never".
  std::string fsdp_reshard_after_forward = "default";
  // ZeRO-1/2 gradient reduction as Megatron-LM's DistributedDataParallel runs it: with overlap, the
  // first pipeline rank's gradients are reduced in buckets of about dp_bucket_params parameters each,
  // every bucket as soon as its layers' last weight gradients are done (graph/step_graph.cpp). Off
  // (Megatron's default, distributed_data_parallel_config.py overlap_grad_reduce = False): one
  // reduction per stage after its last backward. dp_bucket_params 0: Megatron's default size,
  // max(40M, 1M x dp x cp), its data-parallel group counting CP ranks (see dp_bucket_size).
  bool dp_overlap_grad_reduce = false;
  int64_t dp_bucket_params = 0;
  double dp_bucket_size() const {
    return dp_bucket_params > 0 ? double(dp_bucket_params) : std::max(40e6, 1e6 * double(dp) * cp);
  }
  // Tensor-parallel communication overlapped with the GEMMs it feeds (Megatron-LM's
  // --tp-comm-overlap, torchtitan's async TP): each all-gather / reduce-scatter is split into tp
  // chunks pipelined with the GEMM's chunks, so one chunk of each stays on the critical path and the
  // rest runs beside the compute (graph/step_graph.cpp). Off (both frameworks' default): every TP
  // collective blocks.
  bool tp_comm_overlap = false;
  int64_t micro_batch = 1;      // sequences per micro-batch
  int64_t global_batch = 1;     // sequences per step
  std::vector<int64_t> stage_layers;  // layers per model stage (pp x chunks entries)
  // How the MoE all-to-all moves: "direct" (NCCL's all-to-all, one flow per GPU pair; the default)
  // or "rail" (DeepEP as DeepSeek-V3 uses it: across nodes to the same-position GPU, then NVLink).
  std::string ep_all_to_all = "direct";
  // Routed rows the busiest GPU's experts receive over the balanced mean (1 = balanced routing); the
  // expert GEMMs and their elementwise ops are priced on that GPU's rows.
  double moe_imbalance = 1.0;

  int64_t micro_batches() const { return global_batch / (dp * micro_batch); }
  // GPUs of one pipeline stage of one data-parallel replica (a TP group per CP rank).
  int replica_gpus() const { return tp * cp; }
  // GPUs holding the same parameters (the gradient reduction and ZeRO sharding group): the CP ranks
  // of every replica, as Megatron folds CP into its data-parallel group for gradients.
  int64_t dp_cp() const { return int64_t(dp) * cp; }
  // GPUs holding the same expert shard (Megatron's expert data parallelism, edp): dp x cp x tp / (ep x etp).
  int64_t expert_dp() const { return dp_cp() * tp / (int64_t(ep) * etp); }
  // Where an EP group lies. ep dividing dp: across ep data-parallel replicas, one GPU of each (the
  // same TP rank). Otherwise, with tp > 1, across ep / tp whole TP groups of consecutive replicas
  // (Megatron-Core's expert parallelism over the TP x DP ranks with expert tensor parallelism 1):
  // every TP rank of those replicas is a member and dispatches its own T / tp tokens.
  bool ep_spans_tp() const { return tp > 1 && ep > 1 && dp % ep != 0; }
  // Data-parallel replicas one EP group spans.
  int ep_replicas() const { return ep_spans_tp() ? ep / tp : ep; }
  int64_t first_layer(int stage) const;  // index of the stage's first layer
};

// The nodes an EP group spans and its members on each: members are tp GPUs apart on consecutive
// data-parallel replicas (graph/step_graph.h), so a node holds gpus_per_node / tp of them.
// nodes x gpus_per_node != ep when the group straddles nodes unevenly.
struct EpNodes {
  int64_t nodes = 1, gpus_per_node = 1;
};
EpNodes ep_nodes(const ParallelSpec& p, int gpus_per_node);

struct ScheduleSpec {
  std::string kind;      // "gpipe", "1f1b", "interleaved", "zb1p", "zbh2", "dualpipe", "dualpipev"
  int virtual_stages = 1;  // chunks per rank for "interleaved"
  // Model chunks each pipeline rank holds: v for interleaved; 2 for DualPipe (stages r and PP-1-r,
  // a second parameter copy) and DualPipeV (stages r and 2PP-1-r); else 1.
  int chunks_per_rank() const;
  // Model stages the layers are split into: PP for DualPipe (each held twice), 2 PP for DualPipeV,
  // PP x v for interleaved, PP otherwise.
  int model_stages(int pp) const;
};

struct Scenario {
  std::string name;
  std::string file;
  ModelSpec model;
  MhcSpec mhc;
  ParallelSpec parallel;
  ScheduleSpec schedule;
  TrainingSpec training;  // recomputation, saved-activation storage, optimizer, framework overhead
  ClusterSpec cluster;
  std::string profile;  // profile path (the cluster's unless the scenario overrides it)
  std::vector<std::string> published_parts;  // published profile parts priced beside it (profiles/SCHEMA.md)

  int model_stages() const { return schedule.model_stages(parallel.pp); }
  // Tokens of one micro-batch on one GPU's CP rank, before TP's sequence split: micro_batch x
  // seq_len / cp (each CP rank holds 1/cp of every sequence).
  double tokens_per_microbatch() const { return double(parallel.micro_batch * model.seq_len) / parallel.cp; }
};

ModelSpec parse_model(JsonObject obj);
ModelSpec load_model_file(const std::string& path);

// Loads and validates a scenario completely. Throws InputError. `overrides` are "POINTER=VALUE"
// edits applied before validation (e.g. "/mhc/n=8", "/parallelism/pp=8"); VALUE is JSON, or a bare
// string. A pointer into a referenced model or cluster file edits that document.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});

// What a scenario (with `overrides`) runs, as one JSON document without file paths: the overrides
// applied, the model and cluster files inlined, every profile reference removed. Equal contents and
// equal profile contents give the same run, wherever the files live; the sweep content-addresses its
// points with it. Call it on a scenario load_scenario() accepts. Throws InputError.
nlohmann::json scenario_content(const std::string& path, const std::vector<std::string>& overrides = {});
// Such a content made loadable again: the cluster's profile is `profile_paths` (relative to the
// folder of the file it will be written to, or absolute): one file, or the measured profile and its
// published parts.
nlohmann::json with_profile(nlohmann::json content, const std::vector<std::string>& profile_paths);

// The paper's Eq. 20: L_r* = argmin_{L_r} [ nC ceil(L/L_r) + (n+2) C L_r ] over 1..L. The paper's
// "layer" is one application of x_{l+1} = H_res x_l + H_post^T F(H_pre x_l), i.e. one sublayer
// (attention or FFN): a transformer layer has two. L = sublayers in a pipeline stage (blocks never
// cross stages). Ties go to the smaller block.
// `chunks_held`: micro-batch chunks of the stage whose kept x_{l0} a GPU holds at once under its
// pipeline schedule. Eq. 20 counts one; each chunk keeps its own blocks' inputs while only one block
// is rebuilt at a time, so the persistent term weighs chunks_held times (a 1F1B first stage holds pp,
// DualPipe pp + 1), which moves the optimum towards whole-stage blocks.
int optimal_recompute_block(int n, int64_t C, int64_t sublayers, int chunks_held = 1);

// The recompute block (in sublayers) the scenario uses in a stage of `layers_in_stage` layers, with
// `chunks_held` live chunks (auto; a fixed block ignores it).
int recompute_block_for(const MhcSpec& mhc, int64_t C, int64_t layers_in_stage, int chunks_held = 1);

}  // namespace mhc
