// An op of one transformer layer as the model stage emits it: what it reads and writes per token,
// its FLOPs, and the shape the cost stage needs to price it. The I/O table, the memory model and
// the time all derive from lists of these (one source of truth).
#pragma once

#include <cstdint>
#include <string>

#include <vector>

#include "core/dtype.h"
#include "scenario/training.h"

namespace mhc {

enum class OpKind { gemm, attention, mhc, norm, elementwise, residual };
enum class Pass { forward, backward_input, backward_weight };

inline const char* to_string(OpKind k) {
  switch (k) {
    case OpKind::gemm: return "gemm";
    case OpKind::attention: return "attention";
    case OpKind::mhc: return "mhc";
    case OpKind::norm: return "norm";
    case OpKind::elementwise: return "elementwise";
    default: return "residual";
  }
}
inline const char* to_string(Pass p) {
  switch (p) {
    case Pass::forward: return "forward";
    case Pass::backward_input: return "backward_input";
    default: return "backward_weight";
  }
}

// Which GEMM of a linear layer Y[rows, n] = X[rows, k] W[k, n] an op is. Each runs on its own problem:
// forward (rows, n, k); input gradient dX = dY W^T (rows, k, n); weight gradient dW = X^T dY
// (k, n, rows), whose reduction runs over the tokens. (Profiles name a problem D[m, n] = A[m, k] B[k, n].)
enum class GemmRole { forward, input_grad, weight_grad };
inline const char* to_string(GemmRole r) {
  switch (r) {
    case GemmRole::forward: return "forward";
    case GemmRole::input_grad: return "input_grad";
    default: return "weight_grad";
  }
}

// The forward GEMM of (m_per_token * tokens) x n x k per group and which of its GEMMs runs (`role`);
// MoE experts are `groups` GEMMs side by side (grouped GEMM), each seeing m_per_token * tokens rows.
struct GemmShape {
  double m_per_token = 1.0;
  int64_t n = 0;
  int64_t k = 0;
  int64_t groups = 1;
  DType dtype = DType::bf16;
  GemmRole role = GemmRole::forward;
};

// The problem (m, n, k) per group that `shape` runs on `tokens` tokens.
struct GemmProblemDims {
  int64_t m = 0, n = 0, k = 0;
};
GemmProblemDims gemm_problem(const GemmShape& shape, double tokens);

// Fused attention: queries attend causally to all earlier keys of their sequence (window = 0, topk =
// 0), to the last `window` keys (sliding window) or to `sparse_topk` selected keys (sparse attention).
struct AttentionShape {
  int64_t heads = 0;     // query heads on this GPU
  int64_t kv_heads = 0;  // K/V heads on this GPU (GQA/MQA: fewer than heads)
  int64_t head_dim_qk = 0;
  int64_t head_dim_v = 0;
  int64_t seq = 0;
  bool causal = true;
  int64_t window = 0;
  int64_t sparse_topk = 0;
  // DeepSeek-V4: besides the window, one compressed KV entry per `compress_ratio` earlier tokens (a
  // query at position t sees floor(t / ratio) of them), at most `compressed_topk` of them (0: all).
  int64_t compress_ratio = 0;
  int64_t compressed_topk = 0;
};
// Keys a query attends to, averaged over the positions 1..seq of a sequence.
double mean_keys_per_query(const AttentionShape& a);

// A tensor an op reads or keeps for its backward pass, per token of the op's share: `values` (rows x
// width) in `format`. `id` names one tensor (the op that writes it: "attn.norm"; an op's own
// intermediate: "attn.core.lse"; the sublayer's input: "attn.input"), so ops that read or keep the same
// tensor share one copy; `producer` is the op that writes it ("" for a tensor from outside the layer).
struct TensorRef {
  std::string id;
  std::string producer;
  double values = 0.0;
  StorageFormat format;
  double bytes() const { return values * format.bytes_per_value(); }
};

// A tensor an op's backward reads, as the forward leaves it.
struct SavedTensor : TensorRef {
  // A storage role (training.h: attention_output, ...) when the run may choose its format, else "".
  std::string role;
  // Share of the op's tokens whose copy this GPU keeps: the first GEMM after an all-gather keeps only
  // this GPU's T/tp shard (Megatron's sequence parallelism re-gathers it for the weight gradient,
  // overlapped with the input-gradient GEMM: see StageCost::tp_backward_regathers).
  double kept_share = 1.0;
};

// Whether the backward pass re-runs the op instead of keeping what it writes. discard_output: what it
// writes is not kept anywhere and is rebuilt when needed (Megatron's output-discarding checkpoint);
// checkpoint: the op runs again with the other ops of its `recompute_group`, whose intermediates are
// not kept, while what it writes stays kept where a later op outside the group keeps it (Megatron's
// normal checkpoint, torch.utils.checkpoint).
enum class RecomputeMode { none, discard_output, checkpoint };

struct Op {
  std::string name;    // unique within a layer: "attn.q_proj", "mhc.post_res"
  std::string kernel;  // the profile's kernel id: "gemm", "attention_fwd", "mhc_fused.post_res_fwd", ...
  OpKind kind = OpKind::elementwise;
  Pass pass = Pass::forward;
  std::string sublayer;  // "attn", "ffn", "embed", "head"

  // Per token. Stream elements are activation-width values (bf16 unless stated), coefficient
  // elements are the mHC mapping values (fp32); bytes already account for each one's dtype.
  double stream_read_elems = 0.0;
  double stream_write_elems = 0.0;
  double coef_read_elems = 0.0;
  double coef_write_elems = 0.0;
  double read_bytes = 0.0;
  double write_bytes = 0.0;
  double flops = 0.0;

  GemmShape gemm;            // kind == gemm
  AttentionShape attention;  // kind == attention
  int n = 0;                 // kind == mhc: expansion rate
  int64_t C = 0;             // hidden width
  int sinkhorn_iters = 0;    // kind == mhc, Sinkhorn kernels
  // Share of the micro-batch's tokens this GPU runs the op on. Under tensor parallelism with sequence
  // parallelism the TP regions (column/row-parallel GEMMs, attention) see all T tokens at 1/tp of the
  // width, while everything outside them (norms, mHC kernels, residual merges, MoE) runs on T/tp.
  double token_share = 1.0;
  // Rows the op runs per token of its share (MoE expert ops: the routed rows this GPU receives per
  // local token, top_k with balanced routing); what a profile entry's `tokens` counts for the op.
  double rows_per_token = 1.0;

  // The activations: the tensors the op reads (forward ops of a layer; the residual-stream kernels,
  // whose memory paper 4.3.2 counts, leave these empty) and those its backward reads. A cast or RoPE
  // keeps nothing (its gradient passes through, or is rebuilt from the positions).
  std::vector<TensorRef> inputs;
  std::vector<SavedTensor> saved;
  RecomputeMode recompute = RecomputeMode::none;
  // No backward of its own and nothing kept for one: its output only selects (DeepSeek-V4's lightning
  // indexer, whose hard top-k passes no gradient to it).
  bool forward_only = false;
  std::string recompute_group;   // checkpoint: the ops that run again together
  std::string recompute_reason;  // what recomputes it: a module name (training.h), "full" or "mhc"

  double read_elems() const { return stream_read_elems + coef_read_elems; }
  double write_elems() const { return stream_write_elems + coef_write_elems; }
};

}  // namespace mhc
