// DeepSeek-V4's attention sublayer, as its released inference code computes it (deepseek-ai
// DeepSeek-V4-Flash / -Pro inference/model.py: Attention, Compressor, Indexer) and its technical
// report describes it (section 2.3): one layer of compression ratio r on one GPU (no TP), per token.
//  - q: down-projection to q_rank, RMSNorm, up-projection to heads x d, a weightless RMS norm per
//    head, RoPE on the last rope_dim of each head;
//  - one K=V entry of d per token (MQA): projection, RMSNorm, RoPE;
//  - r > 0: a compressor pools the tokens of each block of r (2r overlapping at the sparse ratio, so
//    twice the width) into one entry by a softmax over learned scores: kv and gate projections of x,
//    the pooling, and the entry's norm and RoPE;
//  - at the sparse ratio (CSA) the lightning indexer scores every visible compressed entry per query
//    (its own q up-projection from the q latent, per-head weights from x, its own overlapping
//    compressor of width 2 d_I) and keeps the top-k; it trains no gradient through the hard top-k
//    (forward only);
//  - the core attends, in one softmax with a per-head sink, to the window and the compressed entries
//    (the selected ones at the sparse ratio, all others);
//  - the output's last rope_dim are rotated back, then a grouped low-rank projection: each group of
//    heads to output_rank, then groups x output_rank to C.
// GEMMs follow the run's recipe except the compressor and indexer-weight projections, which the
// released weights keep in BF16 (computed in fp32 there), priced like the router.
#include <cmath>

#include "model/layer_parts.h"
#include "model/op_builders.h"

namespace mhc::ops {

namespace {

// Pooling of a compressor's kv and score rows (2 x width values per token) into one entry of `entry`
// values per `ratio` tokens: a softmax over each block's slots with the position bias, a weighted sum,
// then the entry's RMSNorm (and RoPE) on its entry / ratio values per token. It keeps both inputs for
// the softmax-weighted sum's backward.
Op compressor_pool(const std::string& name, const std::string& kv, const std::string& gate, int64_t width,
                   int64_t entry, int64_t ratio) {
  const double in = 2.0 * double(width), out = double(entry) / double(ratio);
  Op op = elementwise("attn", name, "compress_pool_fwd", OpKind::elementwise, width, in * kAct, out * kAct,
                      5.0 * double(width) + 6.0 * out);
  const StorageFormat bf16 = format_of(DType::bf16);
  op.inputs = {TensorRef{kv, kv, double(width), bf16}, TensorRef{gate, gate, double(width), bf16}};
  op.saved = {SavedTensor{op.inputs[0], "", 1.0}, SavedTensor{op.inputs[1], "", 1.0}};
  return op;
}

void add_compressor(std::vector<Op>& ops, const std::string& prefix, int64_t C, int64_t width, int64_t entry,
                    int64_t ratio, bool forward_only) {
  for (const char* part : {"_kv", "_gate"}) {
    ops.push_back(gemm("attn", prefix + part, 1, width, C, 1, kAlwaysBf16));
    reads(ops.back(), "attn.norm");
  }
  ops.push_back(compressor_pool(prefix + "_pool", "attn." + prefix + "_kv", "attn." + prefix + "_gate", width, entry,
                                ratio));
  if (forward_only)
    for (size_t i = ops.size() - 3; i < ops.size(); ++i) {
      ops[i].forward_only = true;
      ops[i].saved.clear();
    }
}

}  // namespace

std::vector<Op> compressed_attention_ops(const Scenario& s, int64_t ratio) {
  const auto& m = s.model;
  const auto& a = m.attention;
  const int64_t C = m.hidden, h = a.heads, d = a.head_dim, rd = a.rope_dim, seq = m.seq_len;
  const GemmRecipe r = m.precision.gemm;
  const bool sparse = ratio > 0 && ratio == a.sparse_ratio;
  const StorageFormat bf16 = format_of(DType::bf16);
  std::vector<Op> ops;
  ops.push_back(rmsnorm("attn", "norm", C));
  add_input_cast(ops, "attn", "norm", C, 1, r);
  const std::string normed = ops.back().name;
  // q: latent, its norm (the indexer reads the normed latent too), heads x d, per-head RMS.
  ops.push_back(gemm("attn", "q_down", 1, a.q_rank, C, 1, r));
  ops.push_back(rmsnorm("attn", "q_norm", a.q_rank));
  add_input_cast(ops, "attn", "q_norm", a.q_rank, 1, r);
  const std::string q_latent = ops.back().name;
  ops.push_back(gemm("attn", "q_up", 1, h * d, a.q_rank, 1, r));
  ops.push_back(rmsnorm("attn", "q_head_norm", h * d));
  const std::string q = ops.back().name;
  // The one K=V entry per token.
  ops.push_back(gemm("attn", "kv_proj", 1, d, C, 1, r));
  reads(ops.back(), normed);
  ops.push_back(rmsnorm("attn", "kv_norm", d));
  const std::string kv = ops.back().name;
  ops.push_back(rope("rope", h * rd + rd, {TensorRef{q, q, double(h * rd), bf16}, TensorRef{kv, kv, double(rd), bf16}}));
  double kept_kv = double(d);
  if (ratio > 0) {
    add_compressor(ops, "compress", C, sparse ? 2 * d : d, d, ratio, false);
    kept_kv += double(d) / double(ratio);
  }
  AttentionShape shape{h, 1, d, d, seq, true, a.window, 0, ratio, sparse ? a.indexer_topk : 0};
  const double keys = mean_keys_per_query(shape);
  TensorRef selected;
  if (sparse) {
    // The indexer: its q from the q latent, per-head weights from x, its compressed keys, the scores of
    // every visible entry (heads_I x d_I multiply-adds each, ReLU and the weighted sum over heads in
    // the epilogue) and the top-k, whose indices the core keeps for its backward.
    const int64_t hi = a.indexer_heads, di = a.indexer_head_dim;
    const size_t first = ops.size();
    ops.push_back(gemm("attn", "indexer_q", 1, hi * di, a.q_rank, 1, r));
    reads(ops.back(), q_latent);
    ops.push_back(gemm("attn", "indexer_weights", 1, hi, C, 1, kAlwaysBf16));
    reads(ops.back(), "attn.norm");
    for (size_t i = first; i < ops.size(); ++i) ops[i].saved.clear();
    add_compressor(ops, "indexer_compress", C, 2 * di, di, ratio, true);
    // Visible compressed entries per query: with a window of 1 (only itself), less that one key.
    const double entries = mean_keys_per_query(AttentionShape{h, 1, d, d, seq, true, 1, 0, ratio, 0}) - 1.0;
    Op score = gemm("attn", "indexer_score", double(hi), std::max<int64_t>(1, std::llround(entries)), di, 1, r);
    reads(score, "attn.indexer_q");
    score.saved.clear();
    ops.push_back(score);
    Op topk = elementwise("attn", "indexer_topk", "indexer_topk_fwd", OpKind::elementwise, a.indexer_topk,
                          entries * 4.0, double(a.indexer_topk) * 4.0, 2.0 * entries);
    topk.saved.clear();
    ops.push_back(topk);
    for (size_t i = first; i < ops.size(); ++i) ops[i].forward_only = true;
    selected = TensorRef{"attn.indexer_topk", "attn.indexer_topk", double(a.indexer_topk), StorageFormat{"int32", 32, 0, 0}};
  }
  // The core: 2 (q k + p v) multiply-adds of d per head and key; reads q and each token's entry (and
  // at the sparse ratio the gathered selected entries), writes heads x d. It keeps q, the token's
  // entries, its output and one fp32 log-sum-exp per head (and the selected indices).
  Op core;
  core.name = "attn.core";
  core.kernel = "attention_fwd";
  core.kind = OpKind::attention;
  core.sublayer = "attn";
  core.attention = shape;
  core.flops = 2.0 * double(h) * keys * double(2 * d);
  core.stream_read_elems = double(h * d) + (sparse ? keys * double(d) : kept_kv);
  core.stream_write_elems = double(h * d);
  core.read_bytes = core.stream_read_elems * kAct;
  core.write_bytes = core.stream_write_elems * kAct;
  core.inputs = {TensorRef{"attn.rope", "attn.rope", double(h * d) + kept_kv, bf16}};
  SavedTensor in, out;
  static_cast<TensorRef&>(in) = core.inputs.front();
  static_cast<TensorRef&>(out) = TensorRef{core.name, core.name, double(h * d), bf16};
  out.role = "attention_output";
  core.saved = {in, out, own(core, "lse", double(h), format_of(DType::fp32))};
  if (sparse) {
    core.inputs.push_back(selected);
    core.saved.push_back(SavedTensor{selected, "", 1.0});
  }
  ops.push_back(core);
  const StorageFormat* o_format = s.training.saved_activations.format_for("attention_output");
  if (o_format) ops.push_back(storage_cast("attn", "attn.core", double(h * d), *o_format));
  // The output's rotated dims back to its own position (rebuilt from the positions in the backward).
  ops.push_back(rope("o_rope", h * rd, {TensorRef{"attn.core", "attn.core", double(h * rd), bf16}}));
  add_input_cast(ops, "attn", "core", h * d, 1, r);
  if (r != GemmRecipe::bf16) reads(ops.back(), "attn.core");
  const int64_t g = a.output_groups;
  ops.push_back(gemm("attn", "o_group", 1, a.output_rank, h * d / g, g, r));
  if (r == GemmRecipe::bf16) reads(ops.back(), "attn.core");
  if (o_format || r == GemmRecipe::bf16) {
    SavedTensor& x = ops.back().saved.front();  // the core's output itself, one copy with the core's
    x.id = x.producer = "attn.core";
    x.format = bf16;
    x.role = "attention_output";
  }
  add_input_cast(ops, "attn", "o_group", g * a.output_rank, 1, r);
  ops.push_back(gemm("attn", "o_proj", 1, C, g * a.output_rank, 1, r));
  wire(ops, "attn.input");
  apply_storage(ops, s.training.saved_activations);
  return ops;
}

}  // namespace mhc::ops
