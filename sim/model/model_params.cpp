// Parameter counts: whole model (checked against the paper's Table 5) and per GPU (for memory).
#include "model/model.h"

namespace mhc {

namespace {

// DeepSeek-V4's attention in a layer of compression ratio `ratio` (shapes of its released weights:
// inference/model.py Attention, Compressor, Indexer): q down (C x q_rank) and its norm, q up (q_rank x
// heads x d), the K=V projection (C x d) and its norm, the grouped output projection (heads x d x
// output_rank, then groups x output_rank x C) and one sink logit per head; a compressor per ratio > 0
// (kv and gate projections C x w, a position bias ratio x w, a norm of d; w = 2d when overlapping at
// the sparse ratio, else d); at the sparse ratio the indexer (q up q_rank x heads_I d_I, head weights C x
// heads_I and its own overlapping compressor of width 2 d_I, norm d_I).
double compressed_attention_params(const ModelSpec& m, int64_t ratio) {
  const auto& a = m.attention;
  const double C = double(m.hidden), h = double(a.heads), d = double(a.head_dim), qr = double(a.q_rank);
  double p = C * qr + qr + qr * h * d + C * d + d + h * d * double(a.output_rank) +
             double(a.output_groups * a.output_rank) * C + h;
  auto compressor = [&](double width, double norm) { return 2.0 * C * width + double(ratio) * width + norm; };
  if (ratio > 0) {
    const bool sparse = ratio == a.sparse_ratio;
    p += compressor(sparse ? 2.0 * d : d, d);
    if (sparse) {
      const double hi = double(a.indexer_heads), di = double(a.indexer_head_dim);
      p += qr * hi * di + C * hi + compressor(2.0 * di, di);
    }
  }
  return p;
}

double attention_params(const ModelSpec& m, const LayerKind& kind) {
  const auto& a = m.attention;
  const double C = double(m.hidden), h = double(a.heads), d = double(a.head_dim);
  if (a.kind == AttentionSpec::Kind::compressed) return compressed_attention_params(m, kind.compress_ratio);
  if (a.kind == AttentionSpec::Kind::mla) {
    const double dqk = d + double(a.rope_dim);
    double q = a.q_rank > 0 ? C * double(a.q_rank) + double(a.q_rank) + double(a.q_rank) * h * dqk : C * h * dqk;
    double kv = C * double(a.kv_rank + a.rope_dim) + double(a.kv_rank) + double(a.kv_rank) * h * 2.0 * d;
    return q + kv + h * d * C;
  }
  return C * (h + 2.0 * double(a.kv_heads)) * d + h * d * C;
}

// MLA's shared low-rank down-projections and their norms: replicated on every TP rank.
double attention_params_not_split_by_tp(const ModelSpec& m) {
  const auto& a = m.attention;
  if (a.kind != AttentionSpec::Kind::mla) return 0;
  const double C = double(m.hidden);
  const double q = a.q_rank > 0 ? C * double(a.q_rank) + double(a.q_rank) : 0.0;
  return q + C * double(a.kv_rank + a.rope_dim) + double(a.kv_rank);
}

double ffn_matrix_params(int64_t C, int64_t width, FfnSpec::Activation act) {
  return double(act == FfnSpec::Activation::swiglu ? 3 : 2) * double(C) * double(width);
}

// Per sublayer: phi (nC x (n^2+2n)), three gating factors and the n^2+2n biases (paper Eq. 7-8).
double mhc_sublayer_params(const MhcSpec& mhc, int64_t C) {
  if (mhc.variant == ResidualVariant::residual) return 0;
  const double n = mhc.n, mapping = n * n + 2 * n;
  return n * double(C) * mapping + 3 + mapping;
}

}  // namespace

ParamCount count_params(const ModelSpec& m, const MhcSpec& mhc) {
  ParamCount p;
  const auto& f = m.ffn;
  const double L = double(m.layers), C = double(m.hidden);
  for (int64_t l = 0; l < m.layers; ++l) p.attention += attention_params(m, layer_kind(m, l));
  p.norms = L * 2 * C + C;  // two pre-sublayer RMSNorms per layer and the final one
  double dense_layers = f.kind == FfnSpec::Kind::dense ? L : double(f.dense_layers);
  p.dense_ffn = dense_layers * ffn_matrix_params(m.hidden, f.dense_dim, f.activation);
  double moe_layers = L - dense_layers;
  double expert = f.kind == FfnSpec::Kind::moe ? ffn_matrix_params(m.hidden, f.expert_dim, f.activation) : 0.0;
  p.routed_experts = moe_layers * double(f.routed_experts) * expert;
  p.shared_experts = moe_layers * double(f.shared_experts) * expert;
  p.routers = moe_layers * double(f.routed_experts) * C;
  const double table = double(m.vocab) * C;
  p.embeddings = m.tied_embeddings ? table : 2 * table;
  p.mhc = L * 2 * mhc_sublayer_params(mhc, m.hidden);
  // Active per token: routed experts top_k times; one embedding matrix (the LM head's), as MoE
  // papers count (the input lookup does no FLOPs).
  p.active = p.total() - p.routed_experts + moe_layers * double(f.top_k) * expert - (m.tied_embeddings ? 0 : table);
  return p;
}

LayerParams layer_params_per_gpu(const Scenario& s, LayerKind kind) {
  const auto& m = s.model;
  const auto& f = m.ffn;
  const double tp = s.parallel.tp, C = double(m.hidden);
  LayerParams p;
  // TP splits the attention and dense-FFN matrices except MLA's shared down-projections (written so
  // that tp = 1 adds exactly 0); norms and mHC's phi are replicated.
  p.replicated = attention_params(m, kind) / tp + attention_params_not_split_by_tp(m) * (1.0 - 1.0 / tp) + 2 * C +
                 2 * mhc_sublayer_params(s.mhc, m.hidden);
  // Norm scales (the two sublayer norms, MLA's latent norms) and mHC's gates and biases (paper Eq. 7-8).
  const auto& a = m.attention;
  double latent_norms = a.kind == AttentionSpec::Kind::mla ? double(a.kv_rank + a.q_rank) : 0.0;
  if (a.kind == AttentionSpec::Kind::compressed)  // q and K=V norms, sinks, compressor (and indexer) norms
    latent_norms = double(a.q_rank + a.head_dim + a.heads) +
                   (kind.compress_ratio > 0 ? double(a.head_dim) : 0.0) +
                   (kind.compress_ratio == a.sparse_ratio ? double(a.indexer_head_dim) : 0.0);
  const double mhc_vectors = s.mhc.variant == ResidualVariant::residual ? 0.0 : 2.0 * (3.0 + double(s.mhc.n) * s.mhc.n + 2.0 * s.mhc.n);
  p.vectors = 2 * C + latent_norms + mhc_vectors;
  if (!kind.moe()) {
    p.replicated += ffn_matrix_params(m.hidden, f.dense_dim, f.activation) / tp;
    return p;
  }
  double expert = ffn_matrix_params(m.hidden, f.expert_dim, f.activation);
  // MoE is not TP-split (model_layer.cpp): shared experts and the router are whole on every GPU; the
  // routed experts are split over the TP group only with expert TP (etp = tp).
  p.replicated += double(f.shared_experts) * expert + double(f.routed_experts) * C;
  p.experts = double(f.routed_experts / s.parallel.ep) * expert / s.parallel.etp;
  return p;
}

LayerParams mtp_params_per_gpu(const Scenario& s) {
  LayerParams p;
  if (s.model.mtp_depth == 0) return p;
  const double C = double(s.model.hidden);
  for (int64_t d = 1; d <= s.model.mtp_depth; ++d) {
    const LayerParams layer = layer_params_per_gpu(s, layer_kind(s.model, s.model.layers + d - 1));
    p.replicated += layer.replicated + 2.0 * C * C + 3.0 * C;  // projection, two input norms, final norm
    p.experts += layer.experts;
    p.vectors += layer.vectors + 3.0 * C;
  }
  return p;
}

}  // namespace mhc
