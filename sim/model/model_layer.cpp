// The transformer ops of a layer (attention: MHA/GQA/MLA; FFN: dense or MoE) and the stage extras
// (embedding, LM head), per token on one GPU, forward and backward. FLOPs count 2 per multiply-add.
#include <algorithm>

#include "model/model.h"

namespace mhc {

namespace {

constexpr double kAct = 2.0;  // activations are bf16

Op gemm(const std::string& sub, const std::string& name, double m_per_token, int64_t n, int64_t k, int64_t groups,
        DType dtype) {
  Op op;
  op.name = sub + "." + name;
  op.kernel = "gemm";
  op.kind = OpKind::gemm;
  op.sublayer = sub;
  op.gemm = GemmShape{m_per_token, n, k, groups, dtype};
  const double rows = m_per_token * double(groups);  // rows per token over all groups
  op.stream_read_elems = rows * double(k);
  op.stream_write_elems = rows * double(n);
  op.read_bytes = op.stream_read_elems * dtype_bytes(dtype);
  op.write_bytes = op.stream_write_elems * kAct;
  op.flops = 2.0 * rows * double(n) * double(k);
  return op;
}

Op elementwise(const std::string& sub, const std::string& name, const std::string& kernel, OpKind kind,
               double read, double write, double flops_per_elem = 1.0) {
  Op op;
  op.name = sub + "." + name;
  op.kernel = kernel;
  op.kind = kind;
  op.sublayer = sub;
  op.stream_read_elems = read;
  op.stream_write_elems = write;
  op.read_bytes = read * kAct;
  op.write_bytes = write * kAct;
  op.flops = flops_per_elem * std::max(read, write);
  return op;
}

Op rmsnorm(const std::string& sub, const std::string& name, double width) {
  return elementwise(sub, name, "rmsnorm_fwd", OpKind::norm, width, width, 4.0);
}

// An op outside the tensor-parallel regions: with sequence parallelism it runs on T/tp tokens.
Op sequence_parallel(Op op, int64_t tp) {
  op.token_share = 1.0 / double(tp);
  return op;
}

// Backward of a forward op: GEMMs split into the input gradient (B) and the weight gradient (W) with
// the forward FLOPs each; attention backward does 2.5x the forward FLOPs (five matmuls against two);
// norms and elementwise ops read the output gradient and the saved input and write the input gradient.
void add_backward(const Op& f, OpPlan& plan) {
  if (f.kind == OpKind::gemm) {
    Op b = f;
    b.pass = Pass::backward_input;
    b.name += ".dgrad";
    std::swap(b.stream_read_elems, b.stream_write_elems);
    b.read_bytes = b.stream_read_elems * kAct;
    b.write_bytes = b.stream_write_elems * kAct;
    plan.backward_input.push_back(b);
    Op w = f;
    w.pass = Pass::backward_weight;
    w.name += ".wgrad";
    w.stream_read_elems = f.stream_read_elems + f.stream_write_elems;
    w.stream_write_elems = 0;
    w.read_bytes = f.read_bytes + f.write_bytes;
    w.write_bytes = 0;
    plan.backward_weight.push_back(w);
    return;
  }
  Op b = f;
  b.pass = Pass::backward_input;
  b.name += ".bwd";
  if (f.kind == OpKind::attention) {
    b.kernel = "attention_bwd";
    b.flops = 2.5 * f.flops;
    b.stream_read_elems = f.stream_read_elems + 2 * f.stream_write_elems;  // q,k,v, o, do
    b.stream_write_elems = f.stream_read_elems;                            // dq, dk, dv
  } else {
    if (b.kernel.size() > 4 && b.kernel.compare(b.kernel.size() - 4, 4, "_fwd") == 0)
      b.kernel = b.kernel.substr(0, b.kernel.size() - 4) + "_bwd";
    b.stream_read_elems = f.stream_read_elems + f.stream_write_elems;
    b.stream_write_elems = f.stream_read_elems;
    b.flops = 2.0 * f.flops;
  }
  b.read_bytes = b.stream_read_elems * kAct;
  b.write_bytes = b.stream_write_elems * kAct;
  plan.backward_input.push_back(b);
}

std::vector<Op> attention_ops(const Scenario& s) {
  const auto& m = s.model;
  const auto& a = m.attention;
  const int64_t C = m.hidden, tp = s.parallel.tp, heads = a.heads / tp;
  const DType dt = m.gemm_dtype;
  std::vector<Op> ops;
  // The norm runs on this GPU's T/tp tokens; its output is all-gathered (T x C) for the GEMMs below.
  ops.push_back(sequence_parallel(rmsnorm("attn", "norm", double(C)), tp));
  Op core;
  core.name = "attn.core";
  core.kernel = "attention_fwd";
  core.kind = OpKind::attention;
  core.sublayer = "attn";
  int64_t d_qk = a.head_dim, d_v = a.head_dim;
  if (a.kind == AttentionSpec::Kind::mla) {
    d_qk = a.head_dim + a.rope_dim;
    // TP splits the per-head parts (q_up / q_proj, kv_up, attention, o_proj) by heads; the shared
    // low-rank down-projections (q_down, kv_down) and their norms stay replicated: every TP rank runs
    // them in full on the gathered T tokens.
    if (a.q_rank > 0) {
      ops.push_back(gemm("attn", "q_down", 1, a.q_rank, C, 1, dt));
      ops.push_back(rmsnorm("attn", "q_norm", double(a.q_rank)));
      ops.push_back(gemm("attn", "q_up", 1, heads * d_qk, a.q_rank, 1, dt));
    } else {
      ops.push_back(gemm("attn", "q_proj", 1, heads * d_qk, C, 1, dt));
    }
    ops.push_back(gemm("attn", "kv_down", 1, a.kv_rank + a.rope_dim, C, 1, dt));
    ops.back().input_shared = true;
    ops.push_back(rmsnorm("attn", "kv_norm", double(a.kv_rank)));
    ops.push_back(gemm("attn", "kv_up", 1, heads * (a.head_dim + d_v), a.kv_rank, 1, dt));
  } else {
    ops.push_back(gemm("attn", "qkv_proj", 1, (heads + 2 * (a.kv_heads / tp > 0 ? a.kv_heads / tp : 1)) * a.head_dim,
                       C, 1, dt));
  }
  // Causal attention: a token attends to (seq + 1) / 2 keys on average.
  const double keys = (double(m.seq_len) + 1.0) / 2.0;
  core.attention = AttentionShape{heads, d_qk, d_v, m.seq_len, true};
  core.flops = 2.0 * double(heads) * keys * double(d_qk + d_v);
  core.stream_read_elems = double(heads) * double(2 * d_qk + d_v);  // q, k, v of this token
  core.stream_write_elems = double(heads * d_v);
  core.read_bytes = core.stream_read_elems * kAct;
  core.write_bytes = core.stream_write_elems * kAct;
  ops.push_back(core);
  ops.push_back(gemm("attn", "o_proj", 1, C, heads * d_v, 1, dt));
  ops[1].saved_token_share = 1.0 / double(tp);  // the first GEMM reads the gathered normed input
  return ops;
}

void add_dense_ffn(std::vector<Op>& ops, const std::string& sub, const std::string& prefix, int64_t C, int64_t width,
                   FfnSpec::Activation act, double m_per_token, int64_t groups, DType dt) {
  const bool glu = act == FfnSpec::Activation::swiglu;
  const double rows = m_per_token * double(groups);
  ops.push_back(gemm(sub, prefix + (glu ? "up_gate" : "up"), m_per_token, (glu ? 2 : 1) * width, C, groups, dt));
  ops.push_back(elementwise(sub, prefix + "act", glu ? "swiglu_fwd" : "gelu_fwd", OpKind::elementwise,
                            rows * double((glu ? 2 : 1) * width), rows * double(width), glu ? 4.0 : 8.0));
  ops.push_back(gemm(sub, prefix + "down", m_per_token, C, width, groups, dt));
}

std::vector<Op> ffn_ops(const Scenario& s, LayerKind kind) {
  const auto& m = s.model;
  const auto& f = m.ffn;
  const int64_t C = m.hidden, tp = s.parallel.tp;
  std::vector<Op> ops;
  ops.push_back(sequence_parallel(rmsnorm("ffn", "norm", double(C)), tp));
  if (kind == LayerKind::dense_ffn) {
    // Column-parallel up(+gate), row-parallel down: width / tp on all T tokens.
    add_dense_ffn(ops, "ffn", "", C, f.dense_dim / tp, f.activation, 1, 1, m.gemm_dtype);
    ops[1].saved_token_share = 1.0 / double(tp);  // up(+gate) reads the gathered normed input
    return ops;
  }
  const int64_t E = f.routed_experts, ep = s.parallel.ep, local = E / ep;
  ops.push_back(gemm("ffn", "router", 1, E, C, 1, DType::bf16));
  ops.push_back(elementwise("ffn", "topk", "topk_fwd", OpKind::elementwise, double(E), double(2 * f.top_k), 4.0));
  // Tokens are permuted into expert order before dispatch and combined (weighted) after it.
  ops.push_back(elementwise("ffn", "permute", "permute_fwd", OpKind::elementwise, double(C), double(f.top_k * C), 0));
  ops.back().input_shared = true;
  // With balanced routing a GPU receives top_k rows per local token spread over its E/EP experts.
  const double rows_per_group = double(f.top_k) * double(ep) / double(E);
  add_dense_ffn(ops, "ffn", "experts_", C, f.expert_dim, f.activation, rows_per_group, local, m.gemm_dtype);
  ops.push_back(elementwise("ffn", "unpermute", "unpermute_fwd", OpKind::elementwise, double(f.top_k * C), double(C),
                            2.0));
  if (f.shared_experts > 0) {
    const size_t first = ops.size();
    add_dense_ffn(ops, "ffn", "shared_", C, f.shared_experts * f.expert_dim, f.activation, 1, 1, m.gemm_dtype);
    ops[first].input_shared = true;  // reads the normed input the router read
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
  const double C = double(s.model.hidden), n = s.mhc.n;
  // Vocab-parallel embedding: every TP rank looks up all T tokens in its vocab / tp rows, then the
  // partial sums are reduce-scattered to T/tp tokens per GPU (sequence parallelism).
  Op embed = elementwise("embed", "lookup", "embedding_fwd", OpKind::elementwise, C, C, 0);
  plan.forward.push_back(embed);
  if (s.mhc.variant != ResidualVariant::residual)
    plan.forward.push_back(sequence_parallel(
        elementwise("embed", "mhc_expand", "mhc.expand_fwd", OpKind::mhc, C, n * C, 0), s.parallel.tp));
  for (const auto& op : plan.forward) add_backward(op, plan);
  // The embedding gradient is a scatter-add into the table: a weight gradient.
  plan.backward_input.front().pass = Pass::backward_weight;
  plan.backward_weight.push_back(plan.backward_input.front());
  plan.backward_input.erase(plan.backward_input.begin());
  return plan;
}

OpPlan head_plan(const Scenario& s) {
  OpPlan plan;
  const double C = double(s.model.hidden), n = s.mhc.n;
  const int64_t tp = s.parallel.tp;
  // Collapse and final norm on T/tp tokens; the normed output is all-gathered for the vocab-parallel
  // LM head and cross-entropy (all T tokens, vocab / tp each).
  if (s.mhc.variant != ResidualVariant::residual)
    plan.forward.push_back(
        sequence_parallel(elementwise("head", "mhc_collapse", "mhc.collapse_fwd", OpKind::mhc, n * C, C, 1.0), tp));
  plan.forward.push_back(sequence_parallel(rmsnorm("head", "final_norm", C), tp));
  plan.forward.push_back(gemm("head", "lm_head", 1, s.model.vocab / s.parallel.tp, s.model.hidden, 1, DType::bf16));
  plan.forward.back().saved_token_share = 1.0 / double(tp);  // keeps its shard of the gathered input
  plan.forward.push_back(elementwise("head", "cross_entropy", "cross_entropy_fwd", OpKind::elementwise,
                                     double(s.model.vocab / s.parallel.tp), 1, 4.0));
  for (auto it = plan.forward.rbegin(); it != plan.forward.rend(); ++it) add_backward(*it, plan);
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
