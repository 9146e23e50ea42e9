// The model stage: the op list of one transformer layer (attention and FFN/MoE sublayers, each wrapped
// by the chosen residual variant), forward and backward, per token, on one GPU of the parallel layout.
// Everything downstream (the I/O table, memory, time) derives from these lists.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model_ops.h"
#include "scenario/scenario.h"

namespace mhc {

// The residual-stream maintenance ops of one sublayer: what paper Table 2 counts (F's own I/O
// excluded). residual: the merge x + F(x). hc: the unfused HC sequence (compute H's, apply H_pre,
// apply H_post, apply H_res, merge). mhc unfused: the same with a Sinkhorn kernel after compute H's.
// mhc fused: the paper's kernels (norm-projection, mix, Sinkhorn, pre-apply, post-res).
// `pass` forward or backward_input (the backward kernels of the same sequence).
std::vector<Op> residual_stream_ops(ResidualVariant variant, bool fused, int n, int64_t C, int sinkhorn_iters,
                                    Pass pass, const std::string& sublayer);

// Whether a residual-stream op runs after its sublayer F (post-res, apply_post/apply_res, merge) rather
// than before it (coefficients, Sinkhorn, pre-apply).
bool runs_after_sublayer(const Op& op);

// What varies between the layers of a model: a dense FFN or MoE, and for compressed (DeepSeek-V4)
// attention the layer's KV compression ratio (0: the sliding window alone; 0 for other attention).
struct LayerKind {
  enum class Ffn { dense, moe } ffn = Ffn::dense;
  int64_t compress_ratio = 0;
  bool moe() const { return ffn == Ffn::moe; }
  auto operator<=>(const LayerKind&) const = default;
  static const LayerKind dense_ffn, moe_ffn;  // with no compression
};
inline constexpr LayerKind LayerKind::dense_ffn{LayerKind::Ffn::dense, 0};
inline constexpr LayerKind LayerKind::moe_ffn{LayerKind::Ffn::moe, 0};

// The ops of one layer or pipeline-stage extra, split by when they run.
struct OpPlan {
  std::vector<Op> forward;
  std::vector<Op> backward_input;   // B: gradients w.r.t. activations (incl. mHC backward kernels)
  std::vector<Op> backward_weight;  // W: gradients w.r.t. weights
  // Forward ops re-run during the backward (before the backward ops that need what they rebuild): the
  // run's recomputation (training.recompute; each op's recompute_reason says which module) and mHC's
  // (paper 4.3.2: the layer's mHC forward kernels and the sublayer norms they feed, reason "mhc").
  std::vector<Op> recompute;
};

// One transformer layer on one GPU (TP shards GEMMs and heads; EP spreads experts), its forward ops
// marked with what the backward recomputes (saved_activations.h accounts what they keep). `full`: the
// whole layer is recomputed from its input (the run's full recomputation of the stage's first layers).
OpPlan layer_plan(const Scenario& s, LayerKind kind, bool full = false);
// The first model stage's embedding (and mHC's expansion of x_0 to n streams), the last stage's
// stream collapse, final norm, LM head and loss. `with_stream_op` false leaves the expansion
// (collapse) out: a layer-less end stage hands it to its neighbour (stream_expand_plan, below).
OpPlan embedding_plan(const Scenario& s, bool with_stream_op = true);
OpPlan head_plan(const Scenario& s, bool with_stream_op = true);
// mHC's expansion of x_0 into n streams, and the collapse before the final norm, as plans of their
// own (empty for a plain residual).
OpPlan stream_expand_plan(const Scenario& s);
OpPlan stream_collapse_plan(const Scenario& s);

// Layer-less pipeline stages (parallelism.stage_layers 0): the first model stage then holds only the
// embedding, the last only the loss head (and MTP). mHC's expansion runs on the first stage holding
// layers and the collapse on the last, so a boundary beside a layer-less end stage carries one C-wide
// stream instead of n (the cheaper side of the boundary for both ops).
int stream_expand_stage(const Scenario& s);
int stream_collapse_stage(const Scenario& s);
// Streams of C values per token crossing the boundary between model stages `lower` and lower + 1.
double boundary_streams(const Scenario& s, int lower);
// The model's multi-token prediction modules (model.mtp_depth), run on the last model stage after the
// head: per depth two norms, the shared embedding, a 2C -> C projection, one transformer layer of the
// model's last layer kind (wrapped by the residual variant like any layer) and the shared output head.
// Empty without MTP.
OpPlan mtp_plan(const Scenario& s);

// The kind of layer `layer_index` (0-based); layers + d - 1 is MTP module d's layer.
LayerKind layer_kind(const ModelSpec& m, int64_t layer_index);
// Every distinct kind among the model's layers (MTP modules excluded), in layer order of first use.
std::vector<LayerKind> layer_kinds(const ModelSpec& m);

// Parameter counts of the whole model (not per GPU), for memory and for checks against Table 5.
struct ParamCount {
  double attention = 0;   // all layers
  double dense_ffn = 0;   // dense FFN layers
  double routed_experts = 0;
  double shared_experts = 0;
  double routers = 0;
  double norms = 0;
  double embeddings = 0;  // input embedding + LM head (once when tied)
  double mhc = 0;         // phi, gating factors and biases of every sublayer
  double total() const { return attention + dense_ffn + routed_experts + shared_experts + routers + norms + embeddings + mhc; }
  double active = 0;      // per token: routed experts counted top_k times, one embedding matrix
};
ParamCount count_params(const ModelSpec& m, const MhcSpec& mhc);

// Per-layer parameters split into what every GPU of a stage holds and what EP spreads.
struct LayerParams {
  double replicated = 0;  // attention, norms, router, shared experts, mHC (divided by TP where sharded)
  double experts = 0;     // routed experts on this GPU (routed / EP)
  double vectors = 0;     // of `replicated`, the 1-D parameters (norm scales, mHC gates and biases)
};
LayerParams layer_params_per_gpu(const Scenario& s, LayerKind kind);
// The MTP modules' own parameters on the last stage's GPUs: per depth the projection, its norms and one
// layer (embedding and head are shared with the model). Zero without MTP.
LayerParams mtp_params_per_gpu(const Scenario& s);

double sum_flops(const std::vector<Op>& ops);
double sum_bytes(const std::vector<Op>& ops);

}  // namespace mhc
