// The transformer ops of a layer (attention: MHA/GQA/MLA, full, sliding-window or sparse; FFN: dense
// or MoE) and the stage extras (embedding, LM head, MTP), per token on one GPU, forward and backward,
// in the scenario's precision recipe. FLOPs count 2 per multiply-add.
#include <algorithm>

#include "model/model.h"
#include "model/op_builders.h"

namespace mhc {

using namespace ops;

namespace {

// DeepSeek-V3 (section 3.3.1) keeps the router, the embedding and the output head in BF16/FP32 whatever
// the GEMM recipe; the other linear layers follow the recipe.
constexpr GemmRecipe kAlwaysBf16 = GemmRecipe::bf16;

// The core attention op of `a` on this GPU (heads / tp): its FLOPs over the keys each query attends to
// and the q, k, v read and o written per token (K/V once per token and K/V head; gathered per query
// for sparse attention).
Op attention_core(const Scenario& s, int64_t d_qk, int64_t d_v) {
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
  return core;
}

// RoPE on the rotated dimensions of q (every query head) and k (every K head; MLA: its one shared
// decoupled key), in place: reads and writes them once.
Op rope(int64_t width) {
  Op op = bf16_elementwise("attn", "rope", "rope_fwd", OpKind::elementwise, width, double(width), double(width), 6.0);
  op.saves_input = false;  // its backward rotates the gradient back from the positions alone
  return op;
}

std::vector<Op> attention_ops(const Scenario& s) {
  const auto& m = s.model;
  const auto& a = m.attention;
  const int64_t C = m.hidden, tp = s.parallel.tp, heads = a.heads / tp;
  const GemmRecipe r = m.precision.gemm;
  std::vector<Op> ops;
  // The norm runs on this GPU's T/tp tokens; its output is all-gathered (T x C) for the GEMMs below.
  ops.push_back(sequence_parallel(rmsnorm("attn", "norm", C), tp));
  add_input_cast(ops, "attn", "norm", C, 1, r);
  const size_t first_gemm = ops.size();
  int64_t d_qk = a.head_dim, d_v = a.head_dim;
  if (a.kind == AttentionSpec::Kind::mla) {
    d_qk = a.head_dim + a.rope_dim;
    // TP splits the per-head parts (q_up / q_proj, kv_up, attention, o_proj) by heads; the shared
    // low-rank down-projections (q_down, kv_down) and their norms stay replicated: every TP rank runs
    // them in full on the gathered T tokens.
    if (a.q_rank > 0) {
      ops.push_back(gemm("attn", "q_down", 1, a.q_rank, C, 1, r));
      ops.push_back(rmsnorm("attn", "q_norm", a.q_rank));
      add_input_cast(ops, "attn", "q_norm", a.q_rank, 1, r);
      ops.push_back(gemm("attn", "q_up", 1, heads * d_qk, a.q_rank, 1, r));
    } else {
      ops.push_back(gemm("attn", "q_proj", 1, heads * d_qk, C, 1, r));
    }
    ops.push_back(gemm("attn", "kv_down", 1, a.kv_rank + a.rope_dim, C, 1, r));
    ops.back().input_shared = true;
    ops.push_back(rmsnorm("attn", "kv_norm", a.kv_rank));
    add_input_cast(ops, "attn", "kv_norm", a.kv_rank, 1, r);
    ops.push_back(gemm("attn", "kv_up", 1, heads * (a.head_dim + d_v), a.kv_rank, 1, r));
    if (a.rope_dim > 0) ops.push_back(rope(heads * a.rope_dim + a.rope_dim));  // q_pe per head, one shared k_pe
  } else {
    const int64_t kv_heads = std::max<int64_t>(1, a.kv_heads / tp);
    ops.push_back(gemm("attn", "qkv_proj", 1, (heads + 2 * kv_heads) * a.head_dim, C, 1, r));
    if (a.rope_dim > 0) ops.push_back(rope((heads + kv_heads) * a.rope_dim));
  }
  ops.push_back(attention_core(s, d_qk, d_v));
  add_input_cast(ops, "attn", "core", heads * d_v, 1, r);
  ops.push_back(gemm("attn", "o_proj", 1, C, heads * d_v, 1, r));
  ops[first_gemm].saved_token_share = 1.0 / double(tp);  // the first GEMM reads the gathered normed input
  return ops;
}

// up(+gate), activation, down; each GEMM's input cast to FP8 first unless `input_cast` is false (the
// input arrives in FP8, e.g. dispatched in FP8, or an earlier op's cast is shared).
void add_dense_ffn(std::vector<Op>& ops, const std::string& sub, const std::string& prefix, int64_t C, int64_t width,
                   FfnSpec::Activation act, double m_per_token, int64_t groups, GemmRecipe r, bool input_cast) {
  const bool glu = act == FfnSpec::Activation::swiglu;
  const double rows = m_per_token * double(groups);
  if (input_cast) add_input_cast(ops, sub, prefix + "in", C, rows, r);
  ops.push_back(gemm(sub, prefix + (glu ? "up_gate" : "up"), m_per_token, (glu ? 2 : 1) * width, C, groups, r));
  Op a = bf16_elementwise(sub, prefix + "act", glu ? "swiglu_fwd" : "gelu_fwd", OpKind::elementwise, width,
                          rows * double((glu ? 2 : 1) * width), rows * double(width), glu ? 4.0 : 8.0);
  a.rows_per_token = rows;
  ops.push_back(a);
  add_input_cast(ops, sub, prefix + "act", width, rows, r);
  ops.push_back(gemm(sub, prefix + "down", m_per_token, C, width, groups, r));
}

std::vector<Op> ffn_ops(const Scenario& s, LayerKind kind) {
  const auto& m = s.model;
  const auto& f = m.ffn;
  const int64_t C = m.hidden, tp = s.parallel.tp;
  const GemmRecipe r = m.precision.gemm;
  std::vector<Op> ops;
  ops.push_back(sequence_parallel(rmsnorm("ffn", "norm", C), tp));
  if (kind == LayerKind::dense_ffn) {
    // Column-parallel up(+gate), row-parallel down: width / tp on all T tokens.
    add_dense_ffn(ops, "ffn", "", C, f.dense_dim / tp, f.activation, 1, 1, r, true);
    for (auto& op : ops)
      if (op.kind == OpKind::gemm) {
        op.saved_token_share = 1.0 / double(tp);  // up(+gate) reads the gathered normed input
        break;
      }
    return ops;
  }
  const int64_t E = f.routed_experts, ep = s.parallel.ep, local = E / ep, k = f.top_k;
  ops.push_back(gemm("ffn", "router", 1, E, C, 1, kAlwaysBf16));
  // Gating (DeepSeek-V3: sigmoid affinities, a bias, top-k): reads E fp32 scores, writes top_k expert
  // indices (int32) and weights (fp32); about 6 FLOPs per score.
  ops.push_back(elementwise("ffn", "router_topk", "moe_router_fwd", OpKind::elementwise, E, 4.0 * double(E),
                            8.0 * double(k), 6.0 * double(E)));
  // The normed input leaves in the dispatch dtype (DeepSeek-V3 casts it to FP8 before dispatch); with
  // an FP8 recipe and an FP8 dispatch the experts and the shared experts read that cast.
  const DType dispatch = m.precision.moe_dispatch;
  const bool fp8_in = r != GemmRecipe::bf16 && dispatch == DType::fp8;
  if (dispatch == DType::fp8) add_input_cast(ops, "ffn", "dispatch", C, 1, r == GemmRecipe::bf16 ? GemmRecipe::fp8_block : r);
  // Tokens are copied into expert order before dispatch (top_k rows each) and combined after it.
  const double disp = dtype_bytes(dispatch);
  Op permute = elementwise("ffn", "permute", "moe_permute_fwd", OpKind::elementwise, C, double(C) * disp,
                           double(k * C) * disp, 0.0);
  permute.input_shared = true;
  ops.push_back(permute);
  // A GPU receives top_k rows per local token spread over its E/EP experts with balanced routing; the
  // busiest receives moe_imbalance times that.
  const double rows_per_group = double(k) * double(ep) / double(E) * s.parallel.moe_imbalance;
  add_dense_ffn(ops, "ffn", "experts_", C, f.expert_dim, f.activation, rows_per_group, local, r, !fp8_in);
  // Combine: the top_k weighted bf16 rows back into token order, summed.
  ops.push_back(elementwise("ffn", "unpermute", "moe_unpermute_fwd", OpKind::elementwise, C,
                            double(k * C) * kAct + 4.0 * double(k), double(C) * kAct, 2.0 * double(k * C)));
  if (f.shared_experts > 0) {
    const size_t first = ops.size();
    add_dense_ffn(ops, "ffn", "shared_", C, f.shared_experts * f.expert_dim, f.activation, 1, 1, r, !fp8_in);
    ops[first].input_shared = true;  // reads the normed input the router read (or its cast)
  }
  // MoE is not TP-split: experts are sharded by EP over dp x tp ranks and each GPU routes its own T/tp
  // tokens (router, permutes, routed and shared experts all on T/tp tokens, full width).
  for (auto& op : ops) op = sequence_parallel(op, tp);
  return ops;
}

bool uses_mhc_kernels(const MhcSpec& mhc) { return mhc.variant != ResidualVariant::residual; }

void add_sublayer(const Scenario& s, const std::vector<Op>& body, const std::string& sub, OpPlan& plan) {
  const auto& mhc = s.mhc;
  const int64_t C = s.model.hidden;
  auto fwd_stream = residual_stream_ops(mhc.variant, mhc.fused, mhc.n, C, mhc.sinkhorn_iters, Pass::forward, sub);
  auto bwd_stream =
      residual_stream_ops(mhc.variant, mhc.fused, mhc.n, C, mhc.sinkhorn_iters, Pass::backward_input, sub);
  // Sequence parallelism: the n-stream residual and its kernels stay on this GPU's T/tp tokens; only
  // the sublayer's C-wide input and output cross the TP group (stage_costs.h).
  for (auto* ops : {&fwd_stream, &bwd_stream})
    for (auto& op : *ops) op = sequence_parallel(op, s.parallel.tp);
  // Forward: the residual-stream ops that come before the sublayer, the sublayer, those after it.
  for (const auto& op : fwd_stream)
    if (!runs_after_sublayer(op)) plan.forward.push_back(op);
  for (const auto& op : body) plan.forward.push_back(op);
  for (const auto& op : fwd_stream)
    if (runs_after_sublayer(op)) plan.forward.push_back(op);

  // Backward: post kernels' backward, the sublayer's backward in reverse, then the pre kernels'.
  for (const auto& op : bwd_stream)
    if (runs_after_sublayer(op)) plan.backward_input.push_back(op);
  for (auto it = body.rbegin(); it != body.rend(); ++it) add_backward(*it, plan);
  for (const auto& op : bwd_stream)
    if (!runs_after_sublayer(op)) plan.backward_input.push_back(op);

  // Paper 4.3.2: inside a recompute block x_l, H_pre x_l and RMSNorm(H_pre x_l) are transient and are
  // rebuilt in backward by re-running the layer's mHC forward kernels and the sublayer's input norm.
  if (mhc.recompute && uses_mhc_kernels(mhc)) {
    for (const auto& op : fwd_stream) plan.recompute.push_back(op);
    plan.recompute.push_back(body.front());
  }
}

}  // namespace

LayerKind layer_kind(const ModelSpec& m, int64_t layer_index) {
  if (m.ffn.kind == FfnSpec::Kind::dense || layer_index < m.ffn.dense_layers) return LayerKind::dense_ffn;
  return LayerKind::moe_ffn;
}

OpPlan layer_plan(const Scenario& s, LayerKind kind) {
  OpPlan plan;
  add_sublayer(s, attention_ops(s), "attn", plan);
  add_sublayer(s, ffn_ops(s, kind), "ffn", plan);
  for (auto& op : plan.recompute) op.name += ".recompute";
  return plan;
}

OpPlan embedding_plan(const Scenario& s) {
  OpPlan plan;
  const int64_t C = s.model.hidden;
  const double n = s.mhc.n;
  // Vocab-parallel embedding: every TP rank looks up all T tokens in its vocab / tp rows, then the
  // partial sums are reduce-scattered to T/tp tokens per GPU (sequence parallelism).
  plan.forward.push_back(bf16_elementwise("embed", "lookup", "embedding_fwd", OpKind::elementwise, C, double(C),
                                          double(C), 0.0));
  if (s.mhc.variant != ResidualVariant::residual)
    plan.forward.push_back(sequence_parallel(
        bf16_elementwise("embed", "mhc_expand", "mhc.expand_fwd", OpKind::mhc, C, double(C), n * double(C), 0.0),
        s.parallel.tp));
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
void add_output_head(const Scenario& s, const std::string& sub, std::vector<Op>& forward) {
  const int64_t C = s.model.hidden, tp = s.parallel.tp, V = s.model.vocab / tp;
  forward.push_back(sequence_parallel(rmsnorm(sub, "final_norm", C), tp));
  forward.push_back(gemm(sub, "lm_head", 1, V, C, 1, kAlwaysBf16));
  forward.back().saved_token_share = 1.0 / double(tp);  // keeps its shard of the gathered input
  forward.push_back(bf16_elementwise(sub, "cross_entropy", "cross_entropy_fwd", OpKind::elementwise, V, double(V),
                                     1.0, 4.0));
}

}  // namespace

OpPlan head_plan(const Scenario& s) {
  OpPlan plan;
  const int64_t C = s.model.hidden;
  const double n = s.mhc.n;
  // Collapse and final norm on T/tp tokens; the normed output is all-gathered for the vocab-parallel
  // LM head and cross-entropy (all T tokens, vocab / tp each).
  if (s.mhc.variant != ResidualVariant::residual)
    plan.forward.push_back(sequence_parallel(
        bf16_elementwise("head", "mhc_collapse", "mhc.collapse_fwd", OpKind::mhc, C, n * double(C), double(C), 1.0),
        s.parallel.tp));
  add_output_head(s, "head", plan.forward);
  for (auto it = plan.forward.rbegin(); it != plan.forward.rend(); ++it) add_backward(*it, plan);
  return plan;
}

OpPlan mtp_plan(const Scenario& s) {
  OpPlan plan;
  const int64_t C = s.model.hidden, tp = s.parallel.tp;
  const LayerKind kind = layer_kind(s.model, s.model.layers - 1);
  for (int64_t d = 1; d <= s.model.mtp_depth; ++d) {
    const std::string sub = "mtp" + std::to_string(d);
    // DeepSeek-V3 section 2.2: RMSNorm of the previous depth's hidden state and of the next token's
    // embedding (the shared table), concatenated and projected 2C -> C, then one transformer layer.
    std::vector<Op> pre;
    pre.push_back(sequence_parallel(rmsnorm(sub, "hidden_norm", C), tp));
    pre.push_back(bf16_elementwise(sub, "embed", "embedding_fwd", OpKind::elementwise, C, double(C), double(C), 0.0));
    pre.push_back(sequence_parallel(rmsnorm(sub, "embed_norm", C), tp));
    add_input_cast(pre, sub, "concat", 2 * C, 1, s.model.precision.gemm);
    pre.push_back(sequence_parallel(gemm(sub, "proj", 1, C, 2 * C, 1, s.model.precision.gemm), tp));
    std::vector<Op> post;
    add_output_head(s, sub, post);

    OpPlan layer = layer_plan(s, kind);
    auto rename = [&](std::vector<Op>& ops) {
      for (auto& op : ops) op.name = sub + "." + op.name;
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
    plan.recompute.insert(plan.recompute.end(), layer.recompute.begin(), layer.recompute.end());
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
