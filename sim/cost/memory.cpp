#include "cost/memory.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "model/model.h"

namespace mhc {

namespace {

constexpr double kAct = 2.0;   // bf16 activations
constexpr double kCoef = 4.0;  // fp32 mapping coefficients

// Bytes per token of the micro-batch an op saves for its backward: its input (unless an earlier op
// saved the same tensor, or the op needs none: FP8 casts, RoPE), and for attention also its output (and the softmax statistics,
// negligible); times the op's token share (sequence parallelism: 1/tp outside the TP regions) and
// the share it keeps (1/tp for a GEMM reading an all-gathered input).
double saved_bytes(const Op& op) {
  double b = op.input_shared || !op.saves_input ? 0.0 : op.read_bytes;
  if (op.kind == OpKind::attention) b += op.write_bytes;
  return b * op.token_share * op.saved_token_share;
}

std::string gib(double bytes) {
  std::ostringstream os;
  os.precision(3);
  os << bytes / double(1ull << 30) << " GiB";
  return os.str();
}

}  // namespace

StageActivations stage_activations(const Scenario& s, int stage) {
  StageActivations a;
  const double T = double(s.parallel.micro_batch * s.model.seq_len);
  const int64_t layers = s.parallel.stage_layers.at(stage), first = s.parallel.first_layer(stage);
  auto saved_per_token = [&](LayerKind kind) {
    double b = 0;
    for (const auto& op : layer_plan(s, kind).forward)
      if (op.kind != OpKind::mhc && op.kind != OpKind::residual) b += saved_bytes(op);
    return b;
  };
  const double dense = saved_per_token(LayerKind::dense_ffn);
  const double moe = s.model.ffn.kind == FfnSpec::Kind::moe ? saved_per_token(LayerKind::moe_ffn) : 0.0;
  for (int64_t l = first; l < first + layers; ++l)
    a.sublayers += T * (layer_kind(s.model, l) == LayerKind::moe_ffn ? moe : dense);
  if (stage == s.model_stages() - 1)
    for (const auto& op : head_plan(s).forward)
      if (op.kind != OpKind::mhc) a.sublayers += T * saved_bytes(op);
  if (s.mhc.variant == ResidualVariant::residual) return a;

  // The residual stream lives outside the TP regions: T/tp tokens per GPU under sequence parallelism.
  const double T_local = T / double(s.parallel.tp);
  // Paper 4.3.2. Without recomputation every sublayer keeps x_l (nC), F's output f (C, for dH_post)
  // and its mappings. With it, a block of L_r sublayers keeps x_{l0} (nC) once and f every sublayer;
  // x_l, H_pre x_l and RMSNorm(H_pre x_l) (F's input, saved by F otherwise) are rebuilt in backward.
  const double n = s.mhc.n, C = double(s.model.hidden), S = 2.0 * double(layers);
  const double mappings = n * n + 2 * n + 1;
  a.residual_stream_no_recompute = T_local * S * ((n + 1) * C * kAct + mappings * kCoef);
  const int lr = recompute_block_for(s.mhc, s.model.hidden, layers);
  a.residual_stream_recompute = T_local * (std::ceil(S / lr) * n * C + S * C) * kAct;
  if (s.mhc.recompute) {
    a.residual_stream = a.residual_stream_recompute;
    a.sublayers -= T_local * S * 2 * C * kAct;
    a.recompute_transient = T_local * double(lr) * ((n + 2) * C * kAct + mappings * kCoef);
  } else {
    a.residual_stream = a.residual_stream_no_recompute;
  }
  return a;
}

RankMemory rank_memory(const Scenario& s, int rank, const std::vector<int>& stages, int in_flight) {
  RankMemory m;
  m.rank = rank;
  m.capacity_bytes = s.cluster.gpu_memory_bytes;
  const auto& p = s.parallel;
  double replicated = 0, experts = 0;
  for (int st : stages) {
    const int64_t first = s.parallel.first_layer(st);
    for (int64_t l = first; l < first + p.stage_layers.at(st); ++l) {
      auto lp = layer_params_per_gpu(s, layer_kind(s.model, l));
      replicated += lp.replicated;
      experts += lp.experts;
    }
    const double table = double(s.model.vocab) * double(s.model.hidden) / p.tp;
    if (st == 0) replicated += table;
    if (st == s.model_stages() - 1) replicated += (s.model.tied_embeddings && st == 0 ? 0.0 : table) + s.model.hidden;
  }
  // Replicated weights are shared by the dp data-parallel ranks; experts by dp x tp / ep ranks.
  const double dp = p.dp, dp_experts = double(p.dp) * p.tp / p.ep;
  auto sharded = [&](int from_stage) {
    return p.zero_stage >= from_stage ? replicated / dp + experts / dp_experts : replicated + experts;
  };
  const double params = replicated + experts;
  std::ostringstream pf;
  pf << params / 1e9 << "B parameters on this GPU (" << replicated / 1e9 << "B replicated, " << experts / 1e9
     << "B experts)";
  if (p.tp > 1) pf << " [TP" << p.tp << ": attention, dense FFN and vocab matrices / " << p.tp << "]";
  m.items.push_back({"parameters", kParamBytes * sharded(3), pf.str() + " x 2 B (bf16)" + (p.zero_stage >= 3 ? " / DP" : "")});
  m.items.push_back({"gradients", kGradBytes * sharded(2), "parameters x 2 B" + std::string(p.zero_stage >= 2 ? " / DP (ZeRO-2)" : "")});
  m.items.push_back({"optimizer state", kOptimizerBytes * sharded(1),
                     "parameters x 12 B (fp32 master, Adam m, v)" + std::string(p.zero_stage >= 1 ? " / DP (ZeRO-1)" : "")});

  StageActivations worst;
  for (int st : stages) {
    auto a = stage_activations(s, st);
    if (a.sublayers + a.residual_stream > worst.sublayers + worst.residual_stream) worst = a;
    worst.recompute_transient = std::max(worst.recompute_transient, a.recompute_transient);
  }
  const std::string per = " per micro-batch x " + std::to_string(in_flight) + " in flight (the schedule's peak" +
                          std::string(stages.size() > 1 ? "; the larger of the rank's stages" : "") + ")";
  const std::string tp = std::to_string(p.tp);
  const std::string sp = p.tp > 1 ? "; sequence parallel: norms, mHC, MoE and GEMM inputs on T/" + tp +
                                        " tokens, attention and GEMM outputs at width / " + tp
                                  : "";
  m.items.push_back({"activations", worst.sublayers * in_flight, gib(worst.sublayers) + per + sp});
  if (s.mhc.variant != ResidualVariant::residual) {
    m.items.push_back({"mhc residual stream", worst.residual_stream * in_flight,
                       gib(worst.residual_stream) + per +
                           (s.mhc.recompute ? ", recomputation keeps x_{l0} per block and f per sublayer"
                                            : ", without recomputation: x_l, f and mappings per sublayer") +
                           (p.tp > 1 ? ", on T/" + std::to_string(p.tp) + " tokens (sequence parallel)" : "")});
    if (s.mhc.recompute)
      m.items.push_back({"mhc recompute block", worst.recompute_transient,
                         "one block of L_r sublayers rebuilt at a time: L_r (n+2) C tokens x 2 B + mappings"});
    m.residual_stream_without_recompute = worst.residual_stream_no_recompute * in_flight;
    m.residual_stream_with_recompute = worst.residual_stream_recompute * in_flight + worst.recompute_transient;
  }
  for (const auto& item : m.items) m.total_bytes += item.bytes;
  m.fits = m.total_bytes <= m.capacity_bytes;
  return m;
}

}  // namespace mhc
