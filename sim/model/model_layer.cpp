// The transformer ops of a layer (attention: MHA/GQA/MLA, full, sliding-window or sparse; FFN: dense
// or MoE) and the stage extras (embedding, LM head, MTP), per token on one GPU, forward and backward,
// in the scenario's precision recipe. FLOPs count 2 per multiply-add.
#include <algorithm>

#include "model/model.h"
#include "model/layer_parts.h"
#include "model/op_builders.h"

namespace mhc {

using namespace ops;

namespace ops {

Op rope(const std::string& name, int64_t width, std::vector<TensorRef> inputs) {
  Op op = bf16_elementwise("attn", name, "rope_fwd", OpKind::elementwise, width, double(width), double(width), 6.0);
  op.inputs = std::move(inputs);
  op.saved.clear();
  return op;
}

Op storage_cast(const std::string& sub, const std::string& of, double values, const StorageFormat& format) {
  Op op = elementwise(sub, of + ".store", "fp8_quantize_fwd", OpKind::elementwise, 128, values * kAct,
                      values * format.bytes_per_value(), 3.0 * values);
  op.inputs.front().id = op.inputs.front().producer = of;
  op.saved.clear();
  return op;
}

void apply_storage(std::vector<Op>& ops, const SavedActivationsSpec& keep) {
  for (auto& op : ops)
    for (auto& t : op.saved)
      if (const StorageFormat* f = t.role.empty() ? nullptr : keep.format_for(t.role)) t.format = *f;
}

}  // namespace ops

namespace {


// The fused attention core of `a` on this GPU (heads / tp): its FLOPs over the keys each query attends
// to and the q, k, v read and o written per token (K/V once per token and K/V head; gathered per query
// for sparse attention). It keeps q, k, v, its output and the softmax statistics (one fp32 log-sum-exp
// per head and query) for its backward, as FlashAttention does.
Op attention_core(const Scenario& s, int64_t d_qk, int64_t d_v, const std::string& qkv_producer) {
  const auto& a = s.model.attention;
  const int64_t tp = s.parallel.tp, heads = a.heads / tp, kv_heads = std::max<int64_t>(1, a.kv_heads / tp);
  Op core;
  core.name = "attn.core";
  core.kernel = "attention_fwd";
  core.kind = OpKind::attention;
  core.sublayer = "attn";
  core.attention = AttentionShape{heads, kv_heads, d_qk, d_v, s.model.seq_len, true, a.window, a.sparse_topk};
  const double keys = mean_keys_per_query(core.attention);
  core.flops = 2.0 * double(heads) * keys * double(d_qk + d_v);  // q k^T and p v over `keys` keys
  const double kv_per_token = double(kv_heads) * double(d_qk + d_v);
  core.stream_read_elems = double(heads * d_qk) + (a.sparse_topk > 0 ? keys * kv_per_token : kv_per_token);
  core.stream_write_elems = double(heads * d_v);
  core.read_bytes = core.stream_read_elems * kAct;
  core.write_bytes = core.stream_write_elems * kAct;
  const StorageFormat bf16 = format_of(DType::bf16);
  const double qkv = double(heads * d_qk) + kv_per_token;  // what it keeps: each token's own q, k, v
  core.inputs = {TensorRef{"attn.qkv", qkv_producer, qkv, bf16}};
  SavedTensor in;
  static_cast<TensorRef&>(in) = core.inputs.front();
  SavedTensor out;
  static_cast<TensorRef&>(out) = TensorRef{core.name, core.name, core.stream_write_elems, bf16};
  out.role = "attention_output";
  core.saved = {in, out, own(core, "lse", double(heads), format_of(DType::fp32))};
  return core;
}

// Megatron-LM's unfused core attention (Korthikanti et al. 2022, section 4.1): Q K^T as a batched GEMM
// per head over every key, the softmax, dropout, and the product with V, each writing seq values per
// head and query. Q K^T keeps q and k, the softmax its output, dropout its 1-byte mask, P V its input
// and v.
void add_unfused_attention_core(const Scenario& s, int64_t d_qk, int64_t d_v, const std::string& qkv_producer,
                                std::vector<Op>& ops) {
  const auto& a = s.model.attention;
  const int64_t tp = s.parallel.tp, heads = a.heads / tp, kv_heads = std::max<int64_t>(1, a.kv_heads / tp);
  const int64_t seq = s.model.seq_len;
  const StorageFormat bf16 = format_of(DType::bf16);
  const double scores = double(heads * seq);
  Op qk = gemm("attn", "scores", 1, seq, d_qk, heads, kAlwaysBf16);
  qk.inputs = {TensorRef{"attn.qk", qkv_producer, double((heads + kv_heads) * d_qk), bf16}};
  qk.saved = {SavedTensor{qk.inputs.front(), "", 1.0}};
  ops.push_back(qk);
  Op softmax = bf16_elementwise("attn", "softmax", "softmax_fwd", OpKind::elementwise, seq, scores, scores, 5.0);
  softmax.saved = {SavedTensor{TensorRef{softmax.name, softmax.name, scores, bf16}, "", 1.0}};  // its output
  ops.push_back(softmax);
  if (s.model.dropout) {
    Op drop = bf16_elementwise("attn", "dropout", "dropout_fwd", OpKind::elementwise, seq, scores, scores, 2.0);
    drop.write_bytes += scores;  // and the mask
    drop.saved = {own(drop, "mask", scores, StorageFormat{"u8", 8, 0, 0})};
    ops.push_back(drop);
  }
  Op pv = gemm("attn", "context", 1, d_v, seq, heads, kAlwaysBf16);
  pv.inputs.push_back(TensorRef{"attn.v", qkv_producer, double(kv_heads * d_v), bf16});
  pv.saved.push_back(SavedTensor{pv.inputs.back(), "", 1.0});
  ops.push_back(pv);
}



// Dropout on the sublayer's C-wide output before the residual, keeping its 1-byte mask.
Op output_dropout(const std::string& sub, int64_t C) {
  Op op = bf16_elementwise(sub, "out_dropout", "dropout_fwd", OpKind::elementwise, C, double(C), double(C), 2.0);
  op.write_bytes += double(C);
  op.saved = {own(op, "mask", double(C), StorageFormat{"u8", 8, 0, 0})};
  return op;
}

// The GEMMs that read the all-gathered normed input keep only this GPU's T/tp shard of it (one copy,
// re-gathered once for their weight gradients).
void keep_gathered_input_shard(std::vector<Op>& ops, const std::string& normed, int64_t tp) {
  for (auto& op : ops)
    if (op.kind == OpKind::gemm && op.saved.front().id == normed) op.saved.front().kept_share = 1.0 / double(tp);
}


std::vector<Op> attention_ops(const Scenario& s, const LayerKind& kind) {
  if (s.model.attention.kind == AttentionSpec::Kind::compressed) return compressed_attention_ops(s, kind.compress_ratio);
  const auto& m = s.model;
  const auto& a = m.attention;
  const auto& keep = s.training.saved_activations;
  const int64_t C = m.hidden, tp = s.parallel.tp, heads = a.heads / tp;
  const GemmRecipe r = m.precision.gemm;
  const StorageFormat bf16 = format_of(DType::bf16);
  std::vector<Op> ops;
  // The norm runs on this GPU's T/tp tokens; its output is all-gathered (T x C) for the GEMMs below.
  ops.push_back(sequence_parallel(rmsnorm("attn", "norm", C), tp));
  add_input_cast(ops, "attn", "norm", C, 1, r);
  const std::string normed = ops.back().name;  // what the first GEMMs read: the norm's output or its cast
  int64_t d_qk = a.head_dim, d_v = a.head_dim;
  std::string qkv_producer;
  if (a.kind == AttentionSpec::Kind::mla) {
    d_qk = a.head_dim + a.rope_dim;
    // TP splits the per-head parts (q_up / q_proj, kv_up, attention, o_proj) by heads; the shared
    // low-rank down-projections (q_down, kv_down) and their norms stay replicated: every TP rank runs
    // them in full on the gathered T tokens.
    std::string q_producer;
    if (a.q_rank > 0) {
      ops.push_back(gemm("attn", "q_down", 1, a.q_rank, C, 1, r));
      ops.push_back(rmsnorm("attn", "q_norm", a.q_rank));
      add_input_cast(ops, "attn", "q_norm", a.q_rank, 1, r);
      ops.push_back(gemm("attn", "q_up", 1, heads * d_qk, a.q_rank, 1, r));
    } else {
      ops.push_back(gemm("attn", "q_proj", 1, heads * d_qk, C, 1, r));
    }
    q_producer = ops.back().name;
    ops.push_back(gemm("attn", "kv_down", 1, a.kv_rank + a.rope_dim, C, 1, r));
    reads(ops.back(), normed);
    ops.push_back(rmsnorm("attn", "kv_norm", a.kv_rank));  // the compressed part; k_pe goes to RoPE
    add_input_cast(ops, "attn", "kv_norm", a.kv_rank, 1, r);
    ops.push_back(gemm("attn", "kv_up", 1, heads * (a.head_dim + d_v), a.kv_rank, 1, r));
    qkv_producer = ops.back().name;
    if (a.rope_dim > 0) {  // q_pe per head, one shared k_pe
      ops.push_back(rope("rope", heads * a.rope_dim + a.rope_dim,
                         {TensorRef{q_producer, q_producer, double(heads * a.rope_dim), bf16},
                          TensorRef{"attn.kv_down.pe", "attn.kv_down", double(a.rope_dim), bf16}}));
      qkv_producer = ops.back().name;
    }
  } else {
    const int64_t kv_heads = std::max<int64_t>(1, a.kv_heads / tp);
    ops.push_back(gemm("attn", "qkv_proj", 1, (heads + 2 * kv_heads) * a.head_dim, C, 1, r));
    qkv_producer = ops.back().name;
    if (a.rope_dim > 0) {
      ops.push_back(rope("rope", (heads + kv_heads) * a.rope_dim,
                         {TensorRef{qkv_producer, qkv_producer, double((heads + kv_heads) * a.rope_dim), bf16}}));
      qkv_producer = ops.back().name;
    }
  }
  std::string core_out = "attn.core";
  if (a.unfused_core) {
    add_unfused_attention_core(s, d_qk, d_v, qkv_producer, ops);
    core_out = ops.back().name;
  } else {
    ops.push_back(attention_core(s, d_qk, d_v, qkv_producer));
  }
  // The attention output is read by the output projection (in the GEMM dtype) and, fused, by the
  // attention backward: a run may keep one copy of it in a format of its own for both (DeepSeek-V3
  // 3.3.3 (1), E5M6), written beside the forward.
  const double o_values = double(heads * d_v);
  const StorageFormat* o_format = keep.format_for("attention_output");
  if (o_format) ops.push_back(storage_cast("attn", core_out, o_values, *o_format));
  add_input_cast(ops, "attn", "core", heads * d_v, 1, r);
  if (r != GemmRecipe::bf16) reads(ops.back(), core_out);
  ops.push_back(gemm("attn", "o_proj", 1, C, heads * d_v, 1, r));
  if (r == GemmRecipe::bf16) reads(ops.back(), core_out);
  if (o_format || r == GemmRecipe::bf16) {
    // It keeps the attention output itself (one copy with the core's), not a cast of it.
    SavedTensor& x = ops.back().saved.front();
    x.id = x.producer = core_out;
    x.format = bf16;
    x.role = "attention_output";
  }
  if (m.dropout) ops.push_back(sequence_parallel(output_dropout("attn", C), tp));
  wire(ops, "attn.input");
  keep_gathered_input_shard(ops, normed, tp);
  apply_storage(ops, keep);
  return ops;
}

// up(+gate), activation, down; each GEMM's input cast to FP8 first unless `input_cast` is false (the
// input arrives in FP8, e.g. dispatched in FP8, or an earlier op's cast is shared). `act_role` names the
// activation's saved input for the run's storage choice; `routing_weights`: the activation also
// multiplies each routed row by its routing weight (and keeps the weight).
void add_dense_ffn(std::vector<Op>& ops, const std::string& sub, const std::string& prefix, int64_t C, int64_t width,
                   FfnSpec::Activation act, double m_per_token, int64_t groups, GemmRecipe r, bool input_cast,
                   const std::string& act_role, const SavedActivationsSpec& keep, bool routing_weights) {
  const bool glu = act == FfnSpec::Activation::swiglu;
  const double rows = m_per_token * double(groups);
  if (input_cast) add_input_cast(ops, sub, prefix + "in", C, rows, r);
  ops.push_back(gemm(sub, prefix + (glu ? "up_gate" : "up"), m_per_token, (glu ? 2 : 1) * width, C, groups, r));
  const std::string up = ops.back().name;
  const double act_in = rows * double((glu ? 2 : 1) * width);
  const StorageFormat* act_format = keep.format_for(act_role);
  if (act_format) ops.push_back(storage_cast(sub, up, act_in, *act_format));
  Op a = bf16_elementwise(sub, prefix + "act", glu ? "swiglu_fwd" : "gelu_fwd", OpKind::elementwise, width, act_in,
                          rows * double(width), glu ? 4.0 : 8.0);
  a.rows_per_token = rows;
  a.inputs.front().id = a.inputs.front().producer = up;
  a.saved.front().id = a.saved.front().producer = up;
  a.saved.front().role = act_role;
  if (routing_weights) {
    // Each routed row's weight arrives with the row (the permute, or DeepEP's dispatch, writes it): an
    // input the activation keeps, not an output its recomputation would rebuild.
    const TensorRef w{sub + ".permute.weights", sub + ".permute", rows, format_of(DType::fp32)};
    a.inputs.push_back(w);
    a.saved.push_back(SavedTensor{w, "", 1.0});
  }
  ops.push_back(a);
  add_input_cast(ops, sub, prefix + "act", width, rows, r);
  ops.push_back(gemm(sub, prefix + "down", m_per_token, C, width, groups, r));
}

std::vector<Op> ffn_ops(const Scenario& s, LayerKind kind) {
  const auto& m = s.model;
  const auto& f = m.ffn;
  const auto& keep = s.training.saved_activations;
  const int64_t C = m.hidden, tp = s.parallel.tp;
  const GemmRecipe r = m.precision.gemm;
  std::vector<Op> ops;
  ops.push_back(sequence_parallel(rmsnorm("ffn", "norm", C), tp));
  if (!kind.moe()) {
    // Column-parallel up(+gate), row-parallel down: width / tp on all T tokens.
    add_dense_ffn(ops, "ffn", "", C, f.dense_dim / tp, f.activation, 1, 1, r, true, "mlp_activation_input", keep,
                  false);
    if (m.dropout) ops.push_back(sequence_parallel(output_dropout("ffn", C), tp));
    wire(ops, "ffn.input");
    keep_gathered_input_shard(ops, r == GemmRecipe::bf16 ? "ffn.norm" : "ffn.in.cast", tp);
    apply_storage(ops, keep);
    return ops;
  }
  const int64_t E = f.routed_experts, ep = s.parallel.ep, local = E / ep, k = f.top_k;
  const StorageFormat fp32 = format_of(DType::fp32), int32{"int32", 32, 0, 0};
  ops.push_back(gemm("ffn", "router", 1, E, C, 1, kAlwaysBf16));
  // Gating (DeepSeek-V3: sigmoid affinities, a bias, top-k): reads E fp32 scores, writes top_k expert
  // indices (int32) and weights (fp32); about 6 FLOPs per score. It keeps the scores.
  Op topk = elementwise("ffn", "router_topk", "moe_router_fwd", OpKind::elementwise, E, 4.0 * double(E),
                        8.0 * double(k), 6.0 * double(E));
  topk.inputs.front().values = double(E);
  topk.inputs.front().format = topk.saved.front().format = fp32;
  topk.saved.front().values = double(E);
  ops.push_back(topk);
  const TensorRef indices{"ffn.router_topk.indices", "ffn.router_topk", double(k), int32};
  const TensorRef weights{"ffn.router_topk.weights", "ffn.router_topk", double(k), fp32};
  // The normed input leaves in the dispatch dtype (DeepSeek-V3 casts it to FP8 before dispatch); with
  // an FP8 recipe and an FP8 dispatch the experts and the shared experts read that cast.
  const DType dispatch = m.precision.moe_dispatch;
  const bool fp8_in = r != GemmRecipe::bf16 && dispatch == DType::fp8;
  if (dispatch == DType::fp8) {
    add_input_cast(ops, "ffn", "dispatch", C, 1, r == GemmRecipe::bf16 ? GemmRecipe::fp8_block : r);
    reads(ops.back(), "ffn.norm");
  }
  const std::string normed_out = dispatch == DType::fp8 ? ops.back().name : std::string("ffn.norm");
  // Tokens are copied into expert order before dispatch (top_k rows each) and combined after it; the
  // backward of both needs the routing map.
  const double disp = dtype_bytes(dispatch);
  Op permute = elementwise("ffn", "permute", "moe_permute_fwd", OpKind::elementwise, C, double(C) * disp,
                           double(k * C) * disp, 0.0);
  permute.inputs = {TensorRef{normed_out, normed_out, double(C), format_of(dispatch)}, indices};
  permute.saved = {SavedTensor{indices, "", 1.0}};
  ops.push_back(permute);
  // A GPU receives top_k rows per local token spread over its E/EP experts with balanced routing; the
  // busiest receives moe_imbalance times that.
  const double rows_per_group = double(k) * double(ep) / double(E) * s.parallel.moe_imbalance;
  const bool fold = keep.fold_routing_weights;
  const int64_t etp = s.parallel.etp;
  add_dense_ffn(ops, "ffn", "experts_", C, f.expert_dim / etp, f.activation, rows_per_group, local, r, !fp8_in,
                "moe_activation_input", keep, fold);
  // Combine: the top_k weighted bf16 rows back into token order, summed. Its backward needs each
  // expert's output for the gradient of its weight, unless the weights were applied on the expert side.
  Op combine = elementwise("ffn", "unpermute", "moe_unpermute_fwd", OpKind::elementwise, C,
                           double(k * C) * kAct + 4.0 * double(k), double(C) * kAct, 2.0 * double(k * C));
  combine.inputs = {from_previous(double(k * C), format_of(DType::bf16)), weights, indices};
  combine.saved = {SavedTensor{indices, "", 1.0}};
  if (!fold) {
    combine.saved.push_back(SavedTensor{combine.inputs[0], "", 1.0});
    combine.saved.push_back(SavedTensor{weights, "", 1.0});
  }
  ops.push_back(combine);
  if (f.shared_experts > 0) {
    const size_t first = ops.size();
    add_dense_ffn(ops, "ffn", "shared_", C, f.shared_experts * f.expert_dim, f.activation, 1, 1, r, !fp8_in,
                  "mlp_activation_input", keep, false);
    reads(ops[first], normed_out);  // the normed input the router read (or its dispatch cast)
  }
  if (m.dropout) ops.push_back(output_dropout("ffn", C));
  // MoE is not TP-split: experts are sharded by EP over dp x tp ranks and each GPU routes its own T/tp
  // tokens (router, permutes, routed and shared experts all on T/tp tokens, full width). With expert
  // TP (etp = tp) the routed experts run at width / tp on the rows of all T tokens, gathered over the
  // TP group (stage_costs.cpp prices the gather and the reduce-scatter).
  for (auto& op : ops)
    if (etp == 1 || !op.name.starts_with("ffn.experts_")) op = sequence_parallel(op, tp);
  wire(ops, "ffn.input");
  apply_storage(ops, keep);
  return ops;
}

bool uses_mhc_kernels(const MhcSpec& mhc) { return mhc.variant != ResidualVariant::residual; }

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Which ops of a sublayer body a recompute module covers, and how (training.h).
RecomputeMode module_covers(RecomputeModule mod, const Op& op, bool mla) {
  const std::string& n = op.name;
  switch (mod) {
    case RecomputeModule::layernorm:
      return op.kind == OpKind::norm ? RecomputeMode::discard_output : RecomputeMode::none;
    case RecomputeModule::mla_up_proj:  // RoPE on MLA's up-projected q and shared key, not GQA's
      return mla && (n == "attn.q_up" || n == "attn.q_proj" || n == "attn.kv_up" || n == "attn.rope") ? RecomputeMode::discard_output
                                                                                              : RecomputeMode::none;
    case RecomputeModule::core_attn:
      return op.kind == OpKind::attention || n == "attn.scores" || n == "attn.softmax" || n == "attn.dropout" ||
                     n == "attn.context"
                 ? RecomputeMode::checkpoint
                 : RecomputeMode::none;
    case RecomputeModule::moe_act:
      return n == "ffn.experts_act" ? RecomputeMode::discard_output : RecomputeMode::none;
    case RecomputeModule::mlp:
      return op.sublayer == "ffn" && op.kind != OpKind::norm && n != "ffn.out_dropout" &&
                     (starts_with(n, "ffn.up") || starts_with(n, "ffn.act") || starts_with(n, "ffn.down") ||
                      starts_with(n, "ffn.in."))
                 ? RecomputeMode::checkpoint
                 : RecomputeMode::none;
    case RecomputeModule::shared_experts:
      return starts_with(n, "ffn.shared_") ? RecomputeMode::checkpoint : RecomputeMode::none;
    default:  // moe_experts
      return starts_with(n, "ffn.experts_") ? RecomputeMode::checkpoint : RecomputeMode::none;
  }
}

// Marks what the backward re-runs: the run's recompute modules, mHC's sublayer norm (paper 4.3.2:
// RMSNorm(H_pre x_l) is rebuilt inside a recompute block), or everything (`full`). A cast follows the
// op it casts: the GEMM keeps the cast, so a rebuilt tensor is rebuilt in its cast too.
void mark_recompute(const Scenario& s, std::vector<Op>& body, bool full, bool mhc_sublayer) {
  for (auto& op : body) {
    if (full) {
      op.recompute = RecomputeMode::checkpoint;
      op.recompute_group = "layer";
      op.recompute_reason = "full";
      continue;
    }
    for (RecomputeModule mod : s.training.recompute.modules) {
      // mla_up_proj covers the low-rank q up-projection of MLA and of DeepSeek-V4's attention alike.
      const bool low_rank_q = s.model.attention.kind == AttentionSpec::Kind::mla ||
                              s.model.attention.kind == AttentionSpec::Kind::compressed;
      const RecomputeMode mode = module_covers(mod, op, low_rank_q);
      if (mode == RecomputeMode::none || op.recompute != RecomputeMode::none) continue;
      op.recompute = mode;
      op.recompute_reason = to_string(mod);
      if (mode == RecomputeMode::checkpoint) op.recompute_group = to_string(mod);
    }
  }
  if (mhc_sublayer && !full && s.mhc.recompute && uses_mhc_kernels(s.mhc) &&
      body.front().recompute == RecomputeMode::none) {
    body.front().recompute = RecomputeMode::discard_output;
    body.front().recompute_reason = "mhc";
  }
  for (size_t i = 1; i < body.size(); ++i) {
    Op& op = body[i];
    if (!is_cast(op) || op.recompute != RecomputeMode::none || op.inputs.empty()) continue;
    for (const Op& p : body)
      if (p.name == op.inputs.front().producer && p.recompute != RecomputeMode::none) {
        op.recompute = p.recompute;
        op.recompute_group = p.recompute_group;
        op.recompute_reason = p.recompute_reason;
      }
  }
}

void add_sublayer(const Scenario& s, std::vector<Op> body, const std::string& sub, bool full, OpPlan& plan) {
  const auto& mhc = s.mhc;
  const int64_t C = s.model.hidden;
  mark_recompute(s, body, full, true);
  auto fwd_stream = residual_stream_ops(mhc.variant, mhc.fused, mhc.n, C, mhc.sinkhorn_iters, Pass::forward, sub);
  auto bwd_stream =
      residual_stream_ops(mhc.variant, mhc.fused, mhc.n, C, mhc.sinkhorn_iters, Pass::backward_input, sub);
  // Sequence parallelism: the n-stream residual and its kernels stay on this GPU's T/tp tokens; only
  // the sublayer's C-wide input and output cross the TP group (stage_costs.h).
  for (auto* ops : {&fwd_stream, &bwd_stream})
    for (auto& op : *ops) op = sequence_parallel(op, s.parallel.tp);
  // Forward: the residual-stream ops that come before the sublayer, the sublayer, those after it.
  std::vector<Op> forward;
  for (const auto& op : fwd_stream)
    if (!runs_after_sublayer(op)) forward.push_back(op);
  for (const auto& op : body) forward.push_back(op);
  for (const auto& op : fwd_stream)
    if (runs_after_sublayer(op)) forward.push_back(op);
  plan.forward.insert(plan.forward.end(), forward.begin(), forward.end());

  // Backward: post kernels' backward, the sublayer's backward in reverse, then the pre kernels'.
  for (const auto& op : bwd_stream)
    if (runs_after_sublayer(op)) plan.backward_input.push_back(op);
  for (auto it = body.rbegin(); it != body.rend(); ++it) add_backward(*it, plan);
  for (const auto& op : bwd_stream)
    if (!runs_after_sublayer(op)) plan.backward_input.push_back(op);

  // What the backward re-runs: a whole recomputed layer; else the sublayer's marked ops, and with
  // mHC's recomputation (paper 4.3.2) the layer's mHC forward kernels, which rebuild x_l and H_pre x_l
  // inside a recompute block.
  const bool mhc_recompute = mhc.recompute && uses_mhc_kernels(mhc);
  for (const auto& op : forward) {
    const bool stream = op.kind == OpKind::mhc || op.kind == OpKind::residual;
    if (full || (stream ? mhc_recompute : op.recompute != RecomputeMode::none)) {
      Op r = op;
      if (stream && !full) r.recompute_reason = "mhc";
      if (full) r.recompute_reason = "full";
      plan.recompute.push_back(r);
    }
  }
}

}  // namespace

LayerKind layer_kind(const ModelSpec& m, int64_t layer_index) {
  LayerKind k;
  // An MTP module's layer has the FFN of the model's last layer.
  const int64_t ffn_layer = std::min(layer_index, m.layers - 1);
  if (m.ffn.kind == FfnSpec::Kind::moe && ffn_layer >= m.ffn.dense_layers) k.ffn = LayerKind::Ffn::moe;
  const auto& ratios = m.attention.compress_ratios;
  if (m.attention.kind == AttentionSpec::Kind::compressed && layer_index >= 0 && size_t(layer_index) < ratios.size())
    k.compress_ratio = ratios[size_t(layer_index)];
  return k;
}

std::vector<LayerKind> layer_kinds(const ModelSpec& m) {
  std::vector<LayerKind> kinds;
  for (int64_t l = 0; l < m.layers; ++l)
    if (const LayerKind k = layer_kind(m, l); std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
  return kinds;
}

OpPlan layer_plan(const Scenario& s, LayerKind kind, bool full) {
  OpPlan plan;
  add_sublayer(s, attention_ops(s, kind), "attn", full, plan);
  add_sublayer(s, ffn_ops(s, kind), "ffn", full, plan);
  for (auto& op : plan.recompute) op.name += ".recompute";
  return plan;
}

namespace {

// A lookup in the embedding table; its backward (a scatter-add into the table) needs the token ids.
Op embedding_lookup(const std::string& sub, const std::string& name, int64_t C) {
  Op op = bf16_elementwise(sub, name, "embedding_fwd", OpKind::elementwise, C, double(C), double(C), 0.0);
  op.inputs = {TensorRef{sub + ".token_ids", "", 1.0, StorageFormat{"int32", 32, 0, 0}}};
  op.saved = {SavedTensor{op.inputs.front(), "", 1.0}};
  return op;
}

// What the backward re-runs among `ops` (marked by mark_recompute), appended to plan.recompute.
void add_recompute(const std::vector<Op>& ops, OpPlan& plan) {
  for (const auto& op : ops)
    if (op.recompute != RecomputeMode::none) {
      Op r = op;
      r.name += ".recompute";
      plan.recompute.push_back(r);
    }
}

}  // namespace

namespace {

Op stream_expand_op(const Scenario& s) {
  const int64_t C = s.model.hidden;
  return sequence_parallel(
      bf16_elementwise("embed", "mhc_expand", "mhc.expand_fwd", OpKind::mhc, C, double(C), s.mhc.n * double(C), 0.0),
      s.parallel.tp);
}

Op stream_collapse_op(const Scenario& s) {
  const int64_t C = s.model.hidden;
  return sequence_parallel(
      bf16_elementwise("head", "mhc_collapse", "mhc.collapse_fwd", OpKind::mhc, C, s.mhc.n * double(C), double(C), 1.0),
      s.parallel.tp);
}

bool has_streams(const Scenario& s) { return s.mhc.variant != ResidualVariant::residual; }

}  // namespace

OpPlan stream_expand_plan(const Scenario& s) {
  OpPlan plan;
  if (!has_streams(s)) return plan;
  plan.forward.push_back(stream_expand_op(s));
  add_backward(plan.forward.front(), plan);
  return plan;
}

OpPlan stream_collapse_plan(const Scenario& s) {
  OpPlan plan;
  if (!has_streams(s)) return plan;
  plan.forward.push_back(stream_collapse_op(s));
  add_backward(plan.forward.front(), plan);
  add_recompute(plan.forward, plan);
  return plan;
}

int stream_expand_stage(const Scenario& s) { return s.parallel.stage_layers.at(0) == 0 ? 1 : 0; }

int stream_collapse_stage(const Scenario& s) {
  const int last = s.model_stages() - 1;
  return s.parallel.stage_layers.at(static_cast<size_t>(last)) == 0 ? last - 1 : last;
}

double boundary_streams(const Scenario& s, int lower) {
  if (!has_streams(s) || lower < stream_expand_stage(s) || lower >= stream_collapse_stage(s)) return 1.0;
  return double(s.mhc.n);
}

OpPlan embedding_plan(const Scenario& s, bool with_stream_op) {
  OpPlan plan;
  const int64_t C = s.model.hidden;
  // Vocab-parallel embedding: every TP rank looks up all T tokens in its vocab / tp rows, then the
  // partial sums are reduce-scattered to T/tp tokens per GPU (sequence parallelism).
  plan.forward.push_back(embedding_lookup("embed", "lookup", C));
  if (with_stream_op && has_streams(s)) plan.forward.push_back(stream_expand_op(s));
  for (const auto& op : plan.forward) add_backward(op, plan);
  // The embedding gradient is a scatter-add into the table: a weight gradient.
  plan.backward_input.front().pass = Pass::backward_weight;
  plan.backward_weight.push_back(plan.backward_input.front());
  plan.backward_input.erase(plan.backward_input.begin());
  return plan;
}

namespace {

// Final norm, vocab-parallel LM head (BF16, as DeepSeek-V3 keeps it) and cross-entropy, after `sub`'s
// ops: the main head, or an MTP module's (which shares the head's weights).
// The cross-entropy keeps the logits it read (V / tp per token) for the softmax gradient: as the head
// wrote them (bf16), or in the run's format for them (training.h "logits": fp32 where the loss upcasts
// and keeps its probabilities, written beside the forward).
void add_output_head(const Scenario& s, const std::string& sub, std::vector<Op>& forward) {
  const int64_t C = s.model.hidden, tp = s.parallel.tp, V = s.model.vocab / tp;
  std::vector<Op> ops;
  ops.push_back(sequence_parallel(rmsnorm(sub, "final_norm", C), tp));
  ops.push_back(gemm(sub, "lm_head", 1, V, C, 1, kAlwaysBf16));
  ops.back().saved.front().kept_share = 1.0 / double(tp);  // keeps its shard of the gathered input
  const std::string logits = ops.back().name;
  const StorageFormat* kept = s.training.saved_activations.format_for("logits");
  if (kept) ops.push_back(storage_cast(sub, logits, double(V), *kept));
  Op loss = bf16_elementwise(sub, "cross_entropy", "cross_entropy_fwd", OpKind::elementwise, V, double(V), 1.0, 4.0);
  loss.saved.front().role = "logits";
  if (kept) reads(loss, logits);
  ops.push_back(loss);
  wire(ops, sub + ".input");
  apply_storage(ops, s.training.saved_activations);
  mark_recompute(s, ops, false, false);
  forward.insert(forward.end(), ops.begin(), ops.end());
}

}  // namespace

OpPlan head_plan(const Scenario& s, bool with_stream_op) {
  OpPlan plan;
  // Collapse and final norm on T/tp tokens; the normed output is all-gathered for the vocab-parallel
  // LM head and cross-entropy (all T tokens, vocab / tp each).
  if (with_stream_op && has_streams(s)) plan.forward.push_back(stream_collapse_op(s));
  add_output_head(s, "head", plan.forward);
  for (auto it = plan.forward.rbegin(); it != plan.forward.rend(); ++it) add_backward(*it, plan);
  add_recompute(plan.forward, plan);
  return plan;
}

OpPlan mtp_plan(const Scenario& s) {
  OpPlan plan;
  const int64_t C = s.model.hidden, tp = s.parallel.tp;
  for (int64_t d = 1; d <= s.model.mtp_depth; ++d) {
    const std::string sub = "mtp" + std::to_string(d);
    const LayerKind kind = layer_kind(s.model, s.model.layers + d - 1);
    // DeepSeek-V3 section 2.2: RMSNorm of the previous depth's hidden state and of the next token's
    // embedding (the shared table), concatenated and projected 2C -> C, then one transformer layer.
    std::vector<Op> pre;
    pre.push_back(sequence_parallel(rmsnorm(sub, "hidden_norm", C), tp));
    pre.push_back(embedding_lookup(sub, "embed", C));
    pre.push_back(sequence_parallel(rmsnorm(sub, "embed_norm", C), tp));
    add_input_cast(pre, sub, "concat", 2 * C, 1, s.model.precision.gemm);
    pre.push_back(sequence_parallel(gemm(sub, "proj", 1, C, 2 * C, 1, s.model.precision.gemm), tp));
    wire(pre, sub + ".hidden");
    mark_recompute(s, pre, false, false);
    std::vector<Op> post;
    add_output_head(s, sub, post);

    OpPlan layer = layer_plan(s, kind);
    // The module's layer: its op names and the tensors they read and keep, under the module's name.
    auto rename = [&](std::vector<Op>& ops) {
      auto prefix = [&](std::string& id) {
        if (!id.empty()) id = sub + "." + id;
      };
      for (auto& op : ops) {
        op.name = sub + "." + op.name;
        for (auto& t : op.inputs) prefix(t.id), prefix(t.producer);
        for (auto& t : op.saved) prefix(t.id), prefix(t.producer);
      }
    };
    for (auto* v : {&layer.forward, &layer.backward_input, &layer.backward_weight, &layer.recompute}) rename(*v);
    OpPlan pre_plan, post_plan;
    for (const auto& op : pre) pre_plan.forward.push_back(op);
    for (auto it = pre.rbegin(); it != pre.rend(); ++it) add_backward(*it, pre_plan);
    for (const auto& op : post) post_plan.forward.push_back(op);
    for (auto it = post.rbegin(); it != post.rend(); ++it) add_backward(*it, post_plan);
    // The embedding gradient is a scatter-add into the shared table: a weight gradient.
    for (auto it = pre_plan.backward_input.begin(); it != pre_plan.backward_input.end(); ++it)
      if (it->kernel == "embedding_bwd") {
        it->pass = Pass::backward_weight;
        pre_plan.backward_weight.push_back(*it);
        pre_plan.backward_input.erase(it);
        break;
      }
    for (const OpPlan* p : {&pre_plan, &layer, &post_plan})
      plan.forward.insert(plan.forward.end(), p->forward.begin(), p->forward.end());
    for (const OpPlan* p : {&post_plan, &layer, &pre_plan}) {
      plan.backward_input.insert(plan.backward_input.end(), p->backward_input.begin(), p->backward_input.end());
      plan.backward_weight.insert(plan.backward_weight.end(), p->backward_weight.begin(), p->backward_weight.end());
    }
    add_recompute(pre, plan);
    plan.recompute.insert(plan.recompute.end(), layer.recompute.begin(), layer.recompute.end());
    add_recompute(post, plan);
  }
  return plan;
}

double sum_flops(const std::vector<Op>& ops) {
  double t = 0;
  for (const auto& op : ops) t += op.flops;
  return t;
}

double sum_bytes(const std::vector<Op>& ops) {
  double t = 0;
  for (const auto& op : ops) t += op.read_bytes + op.write_bytes;
  return t;
}

}  // namespace mhc
