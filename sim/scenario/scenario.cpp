#include "scenario/scenario.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>

#include "core/json_input.h"
#include "scenario/input_limits.h"

namespace mhc {

namespace fs = std::filesystem;

const char* to_string(GemmRecipe r) {
  switch (r) {
    case GemmRecipe::bf16: return "bf16";
    case GemmRecipe::fp8_tensor: return "fp8_tensor";
    default: return "fp8_block";
  }
}

const std::vector<std::string>& precision_preset_names() {
  static const std::vector<std::string> names{"bf16", "fp8-tensor", "deepseek-v3-fp8"};
  return names;
}

std::optional<PrecisionSpec> precision_preset(const std::string& name) {
  PrecisionSpec p;
  p.name = name;
  if (name == "bf16") return p;
  if (name == "fp8-tensor") {  // one scale per tensor, as Transformer Engine's FP8 recipes
    p.gemm = GemmRecipe::fp8_tensor;
    return p;
  }
  if (name == "deepseek-v3-fp8") {  // arXiv 2412.19437 section 3.3: block-scaled GEMMs, FP8 dispatch
    p.gemm = GemmRecipe::fp8_block;
    p.moe_dispatch = DType::fp8;
    p.moe_dispatch_backward = DType::fp8;
    return p;
  }
  return std::nullopt;
}

const char* to_string(ResidualVariant v) {
  switch (v) {
    case ResidualVariant::residual: return "residual";
    case ResidualVariant::hc: return "hc";
    default: return "mhc";
  }
}

int ScheduleSpec::chunks_per_rank() const {
  if (kind == "dualpipe" || kind == "dualpipev") return 2;
  if (kind == "interleaved") return virtual_stages;
  return 1;
}

EpNodes ep_nodes(const ParallelSpec& p, int gpus_per_node) {
  EpNodes e;
  // Members tp GPUs apart (one per replica), or consecutive when the group spans TP ranks.
  e.gpus_per_node = p.ep_spans_tp() ? std::min<int64_t>(p.ep, gpus_per_node)
                                    : std::min<int64_t>(p.ep, std::max(1, gpus_per_node / p.tp));
  e.nodes = (p.ep + e.gpus_per_node - 1) / e.gpus_per_node;
  return e;
}

int64_t ParallelSpec::first_layer(int stage) const {
  return std::accumulate(stage_layers.begin(), stage_layers.begin() + stage, int64_t{0});
}

int ScheduleSpec::model_stages(int pp) const { return kind == "dualpipe" ? pp : pp * chunks_per_rank(); }

namespace {

std::string dir_of(const std::string& file) { return fs::path(file).parent_path().string(); }


// DeepSeek-V4's attention (scenario.h AttentionSpec::Kind::compressed). `ratios_expected`: one entry
// per layer and MTP module.
void parse_compressed_attention(JsonObject& obj, AttentionSpec& a, int64_t seq_len, int64_t ratios_expected) {
  a.kind = AttentionSpec::Kind::compressed;
  a.kv_heads = 1;  // MQA: one K=V entry per token
  a.rope_dim = obj.required("rope_dim").integer(0, a.head_dim);
  a.q_rank = obj.required("q_rank").integer(1, limits::kMaxHidden);
  if (a.window == 0) obj.required("window");
  if (a.sparse_topk > 0) obj.required("sparse_topk").fail("compressed attention selects its keys by \"indexer\"");
  auto groups = obj.required("output_groups");
  a.output_groups = groups.integer(1, limits::kMaxHeads);
  if (a.heads % a.output_groups != 0)
    groups.fail("must divide heads (" + std::to_string(a.heads) + "), got " + std::to_string(a.output_groups));
  a.output_rank = obj.required("output_rank").integer(1, limits::kMaxHidden);
  auto sparse = obj.required("sparse_ratio");
  a.sparse_ratio = sparse.integer(2, limits::kMaxTokens);
  JsonObject ix = obj.required("indexer").object();
  a.indexer_heads = ix.required("heads").integer(1, limits::kMaxHeads);
  a.indexer_head_dim = ix.required("head_dim").integer(1, limits::kMaxHeadDim);
  a.indexer_topk = ix.required("topk").integer(1, limits::kMaxTokens);
  ix.finish();
  auto ratios = obj.required("compress_ratios");
  const auto list = ratios.array();
  if (int64_t(list.size()) != ratios_expected)
    ratios.fail("expected one ratio per layer and MTP module (" + std::to_string(ratios_expected) + "), got " +
                std::to_string(list.size()));
  for (const auto& r : list) {
    const int64_t ratio = r.integer(0, seq_len);
    if (ratio == 1) r.fail("a ratio of 1 compresses nothing: expected 0 (the window alone) or at least 2");
    a.compress_ratios.push_back(ratio);
  }
}

AttentionSpec parse_attention(JsonObject obj, int64_t seq_len, int64_t ratios_expected) {
  AttentionSpec a;
  std::string kind = obj.required("kind").one_of({"mha", "gqa", "mla", "compressed"});
  a.heads = obj.required("heads").integer(1, limits::kMaxHeads);
  a.head_dim = obj.required("head_dim").integer(1, limits::kMaxHeadDim);
  if (auto w = obj.optional("window")) {
    a.window = w->integer(1, limits::kMaxTokens);
    if (a.window >= seq_len) w->fail("a sliding window must be shorter than seq_len (" + std::to_string(seq_len) + "), got " + std::to_string(a.window));
  }
  if (auto k = obj.optional("sparse_topk")) {
    a.sparse_topk = k->integer(1, limits::kMaxTokens);
    if (a.window > 0) k->fail("a layer attends either in a sliding window or to selected keys, not both");
    if (a.sparse_topk >= seq_len) k->fail("must be smaller than seq_len (" + std::to_string(seq_len) + "), got " + std::to_string(a.sparse_topk));
  }
  if (kind == "compressed") {
    parse_compressed_attention(obj, a, seq_len, ratios_expected);
  } else if (kind == "mla") {
    a.kind = AttentionSpec::Kind::mla;
    a.rope_dim = obj.required("rope_dim").integer(0, limits::kMaxHeadDim);
    a.kv_rank = obj.required("kv_rank").integer(1, limits::kMaxHidden);
    a.q_rank = obj.required("q_rank").integer(0, limits::kMaxHidden);
    a.kv_heads = a.heads;
  } else {
    a.kind = kind == "mha" ? AttentionSpec::Kind::mha : AttentionSpec::Kind::gqa;
    if (kind == "gqa") {
      auto kv = obj.required("kv_heads");
      a.kv_heads = kv.integer(1, limits::kMaxHeads);
      if (a.heads % a.kv_heads != 0)
        kv.fail("must divide heads (" + std::to_string(a.heads) + "), got " + std::to_string(a.kv_heads));
    } else {
      a.kv_heads = a.heads;
    }
    // Whether q and k are rotated (RoPE over the whole head) or positions come from elsewhere.
    a.rope_dim = obj.required("rope").boolean() ? a.head_dim : 0;
  }
  if (auto core = obj.optional("core")) {
    a.unfused_core = core->one_of({"fused", "unfused"}) == "unfused";
    if (a.unfused_core && (a.window > 0 || a.sparse_topk > 0))
      core->fail("the unfused core computes every query against every key: no sliding window or sparse selection");
  }
  obj.finish();
  return a;
}

PrecisionSpec parse_precision(const JsonValue& v) {
  if (v.is_string()) {
    const std::string name = v.one_of(precision_preset_names());
    return *precision_preset(name);
  }
  if (!v.is_object())
    v.fail("expected a recipe name (" + [] {
      std::string names;
      for (const auto& n : precision_preset_names()) names += (names.empty() ? "" : ", ") + n;
      return names;
    }() + ") or an object {gemm, moe_dispatch[, moe_dispatch_backward]}, got " + v.type_name());
  JsonObject o = v.object();
  PrecisionSpec p;
  p.name = "custom";
  const std::string gemm = o.required("gemm").one_of({"bf16", "fp8_tensor", "fp8_block"});
  p.gemm = gemm == "bf16" ? GemmRecipe::bf16 : gemm == "fp8_tensor" ? GemmRecipe::fp8_tensor : GemmRecipe::fp8_block;
  p.moe_dispatch = o.required("moe_dispatch").one_of({"bf16", "fp8"}) == "fp8" ? DType::fp8 : DType::bf16;
  if (auto b = o.optional("moe_dispatch_backward")) p.moe_dispatch_backward = b->one_of({"bf16", "fp8"}) == "fp8" ? DType::fp8 : DType::bf16;
  o.finish();
  return p;
}

// "profile": a file, or a list whose first file is measured (or reference) and the rest published
// parts. Relative to `base`; every file must exist.
FfnSpec parse_ffn(JsonObject obj, int64_t layers) {
  FfnSpec f;
  std::string kind = obj.required("kind").one_of({"dense", "moe"});
  f.activation = obj.required("activation").one_of({"swiglu", "gelu"}) == "swiglu" ? FfnSpec::Activation::swiglu
                                                                                    : FfnSpec::Activation::gelu;
  if (kind == "dense") {
    f.kind = FfnSpec::Kind::dense;
    f.dense_dim = obj.required("dense_dim").integer(1, limits::kMaxFfnWidth);
  } else {
    f.kind = FfnSpec::Kind::moe;
    f.expert_dim = obj.required("expert_dim").integer(1, limits::kMaxFfnWidth);
    f.routed_experts = obj.required("routed_experts").integer(1, limits::kMaxExperts);
    auto top_k = obj.required("top_k");
    f.top_k = top_k.integer(1, limits::kMaxExperts);
    if (f.top_k > f.routed_experts)
      top_k.fail("must be <= routed_experts (" + std::to_string(f.routed_experts) + "), got " + std::to_string(f.top_k));
    f.shared_experts = obj.required("shared_experts").integer(0, limits::kMaxExperts);
    auto dense_layers = obj.required("dense_layers");
    f.dense_layers = dense_layers.integer(0, limits::kMaxLayers);
    if (f.dense_layers >= layers)
      dense_layers.fail("must be < layers (" + std::to_string(layers) + "), got " + std::to_string(f.dense_layers));
    if (f.dense_layers > 0) f.dense_dim = obj.required("dense_dim").integer(1, limits::kMaxFfnWidth);
    if (auto m = obj.optional("max_nodes_per_token")) f.max_nodes_per_token = m->integer(1, limits::kMaxNodesPerToken);
  }
  obj.finish();
  return f;
}

// Replaces a string reference ("model": "models/x.json") by the referenced document when an override
// reaches into it, so that "/model/layers=12" works on scenarios that reference shared files.
void inline_reference_for(nlohmann::json& doc, const std::string& key, const std::string& base_dir) {
  if (!doc.is_object() || !doc.contains(key) || !doc[key].is_string()) return;
  const std::string reference = doc[key].get<std::string>();
  JsonValue referenced = load_json_file(resolve_relative(base_dir, reference));
  nlohmann::json copy = referenced.raw();
  // A cluster's relative profile paths are relative to the cluster file; inlined, the cluster is read
  // relative to the scenario's folder, so each path must be relative to that folder: prefix the
  // reference's own folder (the reference is relative to the scenario's folder, or absolute).
  if (key == "cluster" && copy.contains("gpu") && copy["gpu"].is_object() && copy["gpu"].contains("profile")) {
    auto& profile = copy["gpu"]["profile"];
    if (profile.is_string()) profile = resolve_relative(dir_of(reference), profile.get<std::string>());
    if (profile.is_array())
      for (auto& item : profile)
        if (item.is_string()) item = resolve_relative(dir_of(reference), item.get<std::string>());
  }
  doc[key] = std::move(copy);
}

void apply_override(nlohmann::json& doc, const std::string& item, const std::string& file,
                    const std::string& base_dir) {
  if (!is_valid_utf8(item)) throw InputError("--set", bounded(item), "not valid UTF-8");
  auto eq = item.find('=');
  if (eq == std::string::npos || eq == 0 || item[0] != '/')
    throw InputError("--set", item, "expected /JSON/POINTER=VALUE, e.g. /mhc/n=8");
  const std::string pointer = item.substr(0, eq);
  const nlohmann::json value = json_from_flag(item.substr(eq + 1), "--set", pointer);
  nlohmann::json::json_pointer ptr;
  try {
    ptr = nlohmann::json::json_pointer(pointer);
  } catch (const nlohmann::json::exception&) {
    throw InputError("--set", pointer, "not a valid JSON pointer");
  }
  for (const char* key : {"model", "cluster"})
    if (pointer.rfind(std::string("/") + key + "/", 0) == 0) inline_reference_for(doc, key, base_dir);
  try {
    // (contains() throws for an array index too large for size_t.)
    if (!doc.contains(ptr.parent_pointer()) || !doc[ptr.parent_pointer()].is_object())
      throw InputError(file, pointer, "--set: no such object in the scenario to set a key in");
    doc[ptr] = value;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, pointer, "--set: cannot set this pointer (" + bounded(e.what(), 120) + ")");
  }
}

// Context parallelism as TransformerEngine runs it: the fused attention core, causal over the whole
// sequence, each sequence cut into 2 cp equal chunks (load balancing), sequence parallelism on each
// rank's T / cp tokens.
void check_context_parallel(const Scenario& s, JsonObject& pobj) {
  const auto& p = s.parallel;
  const auto& a = s.model.attention;
  auto cp = pobj.required("cp");
  const std::string got = ", got cp " + std::to_string(p.cp);
  if (a.kind == AttentionSpec::Kind::compressed || a.window > 0 || a.sparse_topk > 0)
    cp.fail("context parallelism is modelled for full causal attention (a ring over every earlier key), not "
            "sliding-window, sparse or compressed attention" + got);
  if (a.unfused_core)
    cp.fail("context parallelism runs the fused attention core (TransformerEngine's); model.attention.core "
            "must be \"fused\"" + got);
  if (s.model.seq_len % (2 * p.cp) != 0)
    cp.fail("2 x cp must divide model.seq_len (" + std::to_string(s.model.seq_len) +
            ": each sequence is cut into 2 cp equal chunks for load balancing)" + got);
  if ((p.micro_batch * s.model.seq_len / p.cp) % p.tp != 0)
    cp.fail("tp (" + std::to_string(p.tp) + ") must divide each CP rank's tokens (micro_batch x seq_len / cp) for "
            "sequence parallelism" + got);
  const int64_t block = int64_t(p.tp) * p.cp, node = s.cluster.gpus_per_node;
  if (node % block != 0 && block % node != 0)
    cp.fail("a CP group (cp TP groups of consecutive GPUs) must hold the same number of GPUs on each node: tp x cp (" +
            std::to_string(block) + ") must divide or be a multiple of the GPUs of one node (" + std::to_string(node) +
            ")" + got);
  if (p.ep > 1)
    cp.fail("expert parallelism beside context parallelism (Megatron folds CP ranks into the EP and expert-DP "
            "groups) is not simulated: use ep 1 or cp 1" + got);
}

ParallelSpec parse_parallel(JsonObject obj, int64_t gpus) {
  ParallelSpec p;
  // Each degree at most the cluster's GPUs (their product is checked against them below).
  p.tp = static_cast<int>(obj.required("tp").integer(1, gpus));
  p.pp = static_cast<int>(obj.required("pp").integer(1, gpus));
  p.ep = static_cast<int>(obj.required("ep").integer(1, gpus));
  p.dp = static_cast<int>(obj.required("dp").integer(1, gpus));
  if (auto cp = obj.optional("cp")) p.cp = static_cast<int>(cp->integer(1, gpus));
  if (auto c = obj.optional("cp_comm")) p.cp_comm = c->one_of({"p2p", "all_gather"});
  if (auto e = obj.optional("etp")) p.etp = static_cast<int>(e->integer(1, gpus));
  p.zero_stage = static_cast<int>(obj.required("zero_stage").integer(0, 3));
  p.micro_batch = obj.required("micro_batch").integer(1, limits::kMaxGlobalBatch);
  p.global_batch = obj.required("global_batch").integer(1, limits::kMaxGlobalBatch);
  if (auto r = obj.optional("fsdp_reshard_after_forward"))
    p.fsdp_reshard_after_forward = r->one_of({"default", "always", "never"});
  if (auto o = obj.optional("dp_overlap_grad_reduce")) p.dp_overlap_grad_reduce = o->boolean();
  if (auto o = obj.optional("tp_comm_overlap")) p.tp_comm_overlap = o->boolean();
  if (auto b = obj.optional("dp_bucket_params")) p.dp_bucket_params = b->integer(1, limits::kMaxBucketParams);
  if (auto a2a = obj.optional("ep_all_to_all")) p.ep_all_to_all = a2a->one_of({"direct", "rail"});
  if (auto imb = obj.optional("moe_imbalance")) {
    p.moe_imbalance = imb->number();
    if (p.moe_imbalance < 1.0 || p.moe_imbalance > p.ep)
      imb->fail("the busiest GPU's routed rows over the mean: must be between 1 (balanced) and ep = " +
                std::to_string(p.ep) + " (every row on one GPU), got " + bounded(imb->raw().dump(), 40));
  }
  if (auto sl = obj.optional("stage_layers"))
    for (const auto& v : sl->non_empty_array()) p.stage_layers.push_back(v.integer(0, limits::kMaxLayers));
  return p;
}

// A custom list names only parts the model has (a preset is a framework's set: what the model lacks
// is skipped); full-layer recomputation of MoE layers would repeat their all-to-all, which the step
// graph does not model.
void check_training_against_model(const TrainingSpec& t, const ModelSpec& m, const JsonValue& where) {
  const bool moe = m.ffn.kind == FfnSpec::Kind::moe;
  const bool dense_ffn = !moe || m.ffn.dense_layers > 0;
  JsonObject o = where.object();
  if (t.recompute.name == "custom") {
    auto fail = [&](RecomputeModule mod, const std::string& why) {
      o.required("recompute").fail(std::string("module ") + to_string(mod) + ": " + why);
    };
    for (RecomputeModule mod : t.recompute.modules) {
      if (mod == RecomputeModule::mla_up_proj && m.attention.kind != AttentionSpec::Kind::mla &&
          m.attention.kind != AttentionSpec::Kind::compressed)
        fail(mod, "the model's attention has no low-rank q up-projection (MLA or compressed)");
      if ((mod == RecomputeModule::moe_act || mod == RecomputeModule::moe_experts) && !moe)
        fail(mod, "the model has no MoE layers");
      if (mod == RecomputeModule::shared_experts && (!moe || m.ffn.shared_experts == 0))
        fail(mod, "the model has no shared experts");
      if (mod == RecomputeModule::mlp && !dense_ffn) fail(mod, "the model has no dense FFN layers");
    }
  }
  if (t.recompute.full_layers != 0 && moe)
    o.required("recompute").fail(
        "full-layer recomputation of a MoE model would re-run its EP all-to-all in the backward, which mhcsim "
        "does not simulate yet: use modules (e.g. moe_experts) instead");
  // No preset folds, so a folding flag was written by the user, whatever preset the object starts from.
  if (t.saved_activations.fold_routing_weights && !moe)
    o.required("saved_activations").fail("fold_routing_weights: the model has no MoE layers");
  if (t.saved_activations.name == "custom") {
    auto sa = o.required("saved_activations");
    if (t.saved_activations.format_for("moe_activation_input") && !moe)
      sa.fail("tensors/moe_activation_input: the model has no MoE layers");
    if (t.saved_activations.format_for("mlp_activation_input") && !dense_ffn && m.ffn.shared_experts == 0)
      sa.fail("tensors/mlp_activation_input: the model has no dense FFN or shared experts");
  }
}

}  // namespace

ModelSpec parse_model(JsonObject obj) {
  ModelSpec m;
  m.file = obj.value().file();
  m.name = obj.required("name").string();
  if (auto notes = obj.optional("notes")) notes->string();
  m.layers = obj.required("layers").integer(1, limits::kMaxLayers);
  m.hidden = obj.required("hidden").integer(1, limits::kMaxHidden);
  m.vocab = obj.required("vocab").integer(1, limits::kMaxVocab);
  m.seq_len = obj.required("seq_len").integer(1, limits::kMaxTokens);
  m.tied_embeddings = obj.required("tied_embeddings").boolean();
  // Multi-token prediction modules: DeepSeek-V3 has 1 (Sec. 2.2); 16 is beyond any published design.
  if (auto mtp = obj.optional("mtp_depth")) m.mtp_depth = mtp->integer(0, 16);
  m.attention = parse_attention(obj.required("attention").object(), m.seq_len, m.layers + m.mtp_depth);
  m.ffn = parse_ffn(obj.required("ffn").object(), m.layers);
  if (auto old = obj.optional("gemm_dtype"))
    old->fail("replaced by \"precision\": a recipe name (bf16, fp8-tensor, deepseek-v3-fp8) or {gemm, moe_dispatch}");
  m.precision = parse_precision(obj.required("precision"));
  if (auto d = obj.optional("dropout")) m.dropout = d->boolean();
  obj.finish();
  return m;
}

ModelSpec load_model_file(const std::string& path) {
  return read_guarded(path, [&] { return parse_model(load_json_file(path).object()); });
}

int optimal_recompute_block(int n, int64_t C, int64_t sublayers, int chunks_held) {
  int best = 1;
  double best_cost = std::numeric_limits<double>::infinity();
  for (int64_t lr = 1; lr <= sublayers; ++lr) {
    double blocks = std::ceil(static_cast<double>(sublayers) / static_cast<double>(lr));
    double cost = double(std::max(chunks_held, 1)) * double(n) * double(C) * blocks + double(n + 2) * double(C) * double(lr);
    if (cost < best_cost) {
      best_cost = cost;
      best = static_cast<int>(lr);
    }
  }
  return best;
}

int recompute_block_for(const MhcSpec& mhc, int64_t C, int64_t layers_in_stage, int chunks_held) {
  const int64_t sublayers = 2 * layers_in_stage;
  if (!mhc.recompute_block_auto) return static_cast<int>(std::min<int64_t>(mhc.recompute_block, sublayers));
  return optimal_recompute_block(mhc.n, C, sublayers, chunks_held);
}

namespace {

Scenario read_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  JsonValue doc = load_json_file(path);
  const std::string base = dir_of(path);
  if (!overrides.empty()) {
    if (!doc.is_object()) doc.fail("expected an object");
    nlohmann::json edited = doc.raw();
    for (const auto& o : overrides) apply_override(edited, o, path, base);
    doc = parse_json_text(edited.dump(), path);
  }
  JsonObject obj = doc.object();
  Scenario s;
  s.file = path;
  s.name = obj.required("name").string();
  if (auto notes = obj.optional("notes")) notes->string();

  // model and cluster: a file reference (relative to the scenario) or an inline object.
  auto model = obj.required("model");
  s.model = model.is_string() ? load_model_file(resolve_relative(base, model.string())) : parse_model(model.object());
  auto cluster = obj.required("cluster");
  s.cluster = cluster.is_string() ? load_cluster_file(resolve_relative(base, cluster.string()))
                                  : parse_cluster(cluster.object(), base);
  s.profile = s.cluster.profile;
  s.published_parts = s.cluster.published_parts;
  if (auto profile = obj.optional("profile")) parse_profile_list(*profile, base, s.profile, s.published_parts);
  // The run's recipe, when it differs from the model's (e.g. the same model in bf16 and in FP8).
  if (auto precision = obj.optional("precision")) s.model.precision = parse_precision(*precision);

  // mHC settings.
  auto mobj = obj.required("mhc").object();
  std::string variant = mobj.required("variant").one_of({"residual", "hc", "mhc"});
  s.mhc.variant = variant == "residual" ? ResidualVariant::residual
                  : variant == "hc"     ? ResidualVariant::hc
                                        : ResidualVariant::mhc;
  auto n = mobj.required("n");
  s.mhc.n = static_cast<int>(n.integer(1, limits::kMaxExpansionRate));
  if (s.mhc.variant == ResidualVariant::residual && s.mhc.n != 1)
    n.fail("a plain residual has one stream: n must be 1, got " + std::to_string(s.mhc.n));
  s.mhc.sinkhorn_iters = static_cast<int>(mobj.required("sinkhorn_iters").integer(1, limits::kMaxSinkhornIters));
  s.mhc.fused = mobj.required("fused").boolean();
  s.mhc.recompute = mobj.required("recompute").boolean();
  auto block = mobj.required("recompute_block");
  if (block.is_string()) {
    block.one_of({"auto"});
    s.mhc.recompute_block_auto = true;
  } else {
    s.mhc.recompute_block_auto = false;
    s.mhc.recompute_block = static_cast<int>(block.integer(1, 2 * limits::kMaxLayers));  // in sublayers
  }
  s.mhc.high_priority_stream = mobj.required("high_priority_stream").boolean();
  mobj.finish();

  // Schedule.
  auto sobj = obj.required("schedule").object();
  s.schedule.kind =
      sobj.required("kind").one_of({"gpipe", "1f1b", "interleaved", "zb1p", "zbh2", "dualpipe", "dualpipev"});
  if (auto v = sobj.optional("virtual_stages")) {
    s.schedule.virtual_stages = static_cast<int>(v->integer(1, limits::kMaxLayers));
    if (s.schedule.kind != "interleaved" && s.schedule.virtual_stages != 1)
      v->fail("only the \"interleaved\" schedule takes virtual_stages > 1");
  } else if (s.schedule.kind == "interleaved") {
    sobj.required("virtual_stages");
  }
  sobj.finish();

  // How the run trains: recomputation, saved-activation storage, optimizer.
  auto tobj = obj.required("training");
  s.training = parse_training(tobj.object());
  check_training_against_model(s.training, s.model, tobj);

  // Parallelism and its cross-checks against the model, schedule and cluster.
  auto pobj = obj.required("parallelism").object();
  s.parallel = parse_parallel(pobj, s.cluster.total_gpus());
  const auto& m = s.model;
  auto& p = s.parallel;
  const int stages = s.model_stages();
  if (p.stage_layers.empty()) {
    if (m.layers % stages != 0)
      pobj.required("pp").fail("the schedule's model stages (" + std::to_string(stages) + ") must divide model.layers (" +
                               std::to_string(m.layers) + "), got pp " + std::to_string(p.pp) +
                               "; give parallelism.stage_layers for an uneven split");
    p.stage_layers.assign(stages, m.layers / stages);
  } else {
    auto sl = pobj.required("stage_layers");
    if (static_cast<int>(p.stage_layers.size()) != stages)
      sl.fail("must list the schedule's " + std::to_string(stages) + " model stages, got " +
              std::to_string(p.stage_layers.size()));
    int64_t sum = 0;
    for (auto l : p.stage_layers) sum += l;
    if (sum != m.layers)
      sl.fail("must add up to model.layers (" + std::to_string(m.layers) + "), got " + std::to_string(sum));
    // A stage without layers holds the embedding (the first) or the loss head and MTP modules (the
    // last), as Megatron's account-for-embedding/loss-in-pipeline-split layouts place them.
    for (int st = 1; st + 1 < stages; ++st)
      if (p.stage_layers[st] == 0)
        sl.fail("stage " + std::to_string(st) + " holds no layers: only the first stage (the embedding) or the last " +
                "(the loss head) may hold none");
  }
  if (p.micro_batch * m.seq_len > limits::kMaxTokens)
    pobj.required("micro_batch").fail("micro_batch x model.seq_len (" + std::to_string(p.micro_batch * m.seq_len) +
                                      " tokens) must be at most " + std::to_string(limits::kMaxTokens));
  // Megatron-style TP runs its collectives on every sublayer: the group must sit in one NVLink domain.
  if (s.cluster.gpus_per_node % p.tp != 0)
    pobj.required("tp").fail("must divide the GPUs of one node (" + std::to_string(s.cluster.gpus_per_node) +
                             ", the NVLink domain a tensor-parallel group must fit in), got " + std::to_string(p.tp));
  // DeepSeek-V4's compressors, indexer and grouped output projection have no published TP split (its
  // report trains with expert, pipeline and context parallelism; NVIDIA's recipes use TP 1).
  if (m.attention.kind == AttentionSpec::Kind::compressed && p.tp != 1)
    pobj.required("tp").fail("compressed (DeepSeek-V4) attention is modelled without tensor parallelism: expected 1, got " +
                             std::to_string(p.tp));
  if (m.attention.heads % p.tp != 0)
    pobj.required("tp").fail("must divide model.attention.heads (" + std::to_string(m.attention.heads) + "), got " +
                             std::to_string(p.tp));
  if ((p.micro_batch * m.seq_len) % p.tp != 0)
    pobj.required("tp").fail("must divide the tokens of a micro-batch (micro_batch x seq_len = " +
                             std::to_string(p.micro_batch * m.seq_len) +
                             ") for sequence parallelism, got " + std::to_string(p.tp));
  const int64_t gpus = int64_t(p.tp) * p.cp * p.pp * p.dp;
  if (gpus != s.cluster.total_gpus())
    pobj.required("dp").fail(std::string(p.cp > 1 ? "tp x cp x pp x dp (" : "tp x pp x dp (") + std::to_string(gpus) +
                             ") must equal the cluster's GPUs (" + std::to_string(s.cluster.total_gpus()) + ")");
  if (p.cp > 1) check_context_parallel(s, pobj);
  if (p.etp != 1) {
    auto etp = pobj.required("etp");
    const std::string got = ", got etp " + std::to_string(p.etp);
    if (m.ffn.kind != FfnSpec::Kind::moe) etp.fail("a dense model has no experts: etp must be 1" + got);
    if (p.etp != p.tp)
      etp.fail("expert tensor parallelism is simulated at 1 (experts whole) or tp (" + std::to_string(p.tp) +
               ": experts split over the TP group)" + got);
    if (p.dp % p.ep != 0)
      etp.fail("experts split over the TP group need EP groups of one TP rank: ep (" + std::to_string(p.ep) +
               ") must divide dp (" + std::to_string(p.dp) + ")" + got);
  }
  auto ep = pobj.required("ep");
  if (m.ffn.kind == FfnSpec::Kind::dense && p.ep != 1)
    ep.fail("a dense model has no experts: ep must be 1, got " + std::to_string(p.ep));
  if (m.ffn.kind == FfnSpec::Kind::moe) {
    if ((int64_t(p.dp) * p.tp) % p.ep != 0)
      ep.fail("must divide dp x tp (" + std::to_string(int64_t(p.dp) * p.tp) + "), got " + std::to_string(p.ep));
    if (p.ep_spans_tp() && p.ep % p.tp != 0)
      ep.fail("an EP group that does not divide dp (" + std::to_string(p.dp) + ") spans TP ranks and holds whole TP "
              "groups: must be a multiple of tp (" + std::to_string(p.tp) + "), got " + std::to_string(p.ep));
    if (m.ffn.routed_experts % p.ep != 0)
      ep.fail("must divide model.ffn.routed_experts (" + std::to_string(m.ffn.routed_experts) + "), got " +
              std::to_string(p.ep));
    // DeepEP's all-to-all: the same number of EP members on each node, and room for top_k experts on
    // the nodes node-limited routing allows (cost/moe_traffic.h).
    if (p.ep_all_to_all == "rail" && p.ep > 1) {
      const EpNodes en = ep_nodes(p, s.cluster.gpus_per_node);
      if (en.nodes * en.gpus_per_node != p.ep)
        ep.fail("the rail all-to-all needs the same EP members on every node: ep x tp (" +
                std::to_string(int64_t(p.ep) * p.tp) + ") must divide or be a multiple of the GPUs of one node (" +
                std::to_string(s.cluster.gpus_per_node) + "), got ep " + std::to_string(p.ep));
      const int64_t M = m.ffn.max_nodes_per_token > 0 ? std::min(m.ffn.max_nodes_per_token, en.nodes) : en.nodes;
      if (M * (m.ffn.routed_experts / en.nodes) < m.ffn.top_k)
        ep.fail("with model.ffn.max_nodes_per_token = " + std::to_string(m.ffn.max_nodes_per_token) + ", a token's " +
                std::to_string(m.ffn.top_k) + " experts (model.ffn.top_k) must fit on " + std::to_string(M) +
                " of the EP group's " + std::to_string(en.nodes) + " nodes, which hold " +
                std::to_string(m.ffn.routed_experts / en.nodes) + " experts each; got ep " + std::to_string(p.ep));
    }
  }
  // ZeRO-3's per-block all-gathers and reduce-scatters (graph/step_graph.h) are built for forward and
  // full-backward tasks of dense or single-EP-group layers.
  if (p.zero_stage == 3 && p.dp_cp() > 1) {
    if (s.schedule.kind != "gpipe" && s.schedule.kind != "1f1b" && s.schedule.kind != "interleaved")
      pobj.required("zero_stage")
          .fail("ZeRO-3 (FSDP) traffic is simulated for the gpipe, 1f1b and interleaved schedules, not \"" +
                s.schedule.kind + "\" (split weight gradients or DualPipe pairs): use zero_stage 1 or 2");
    if (p.ep > 1)
      pobj.required("zero_stage")
          .fail("ZeRO-3 (FSDP) traffic is simulated with ep 1 only (experts sharded over their own group are not), got ep " +
                std::to_string(p.ep) + ": use zero_stage 1 or 2");
  }
  auto gb = pobj.required("global_batch");
  if (p.global_batch % (int64_t(p.dp) * p.micro_batch) != 0)
    gb.fail("must be a multiple of dp x micro_batch (" + std::to_string(int64_t(p.dp) * p.micro_batch) + "), got " +
            std::to_string(p.global_batch));
  if (p.micro_batches() > limits::kMaxMicroBatches)
    gb.fail("global_batch / (dp x micro_batch) = " + std::to_string(p.micro_batches()) +
            " micro-batches per pipeline; at most " + std::to_string(limits::kMaxMicroBatches) + " are simulated");
  if (!s.mhc.recompute_block_auto) {
    int64_t min_layers = m.layers;  // over the stages that hold layers
    for (int64_t l : p.stage_layers)
      if (l > 0) min_layers = std::min(min_layers, l);
    const int64_t min_sublayers = 2 * min_layers;
    if (s.mhc.recompute_block > min_sublayers)
      mobj.required("recompute_block")
          .fail("blocks never cross pipeline stages: must be <= the smallest stage's sublayers (" +
                std::to_string(min_sublayers) + "), got " + std::to_string(s.mhc.recompute_block));
  }
  pobj.finish();
  obj.finish();
  return s;
}

}  // namespace

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  return read_guarded(path, [&] { return read_scenario(path, overrides); });
}

nlohmann::json scenario_content(const std::string& path, const std::vector<std::string>& overrides) {
  return read_guarded(path, [&] {
    JsonValue loaded = load_json_file(path);
    if (!loaded.is_object()) loaded.fail("expected an object");
    const std::string base = dir_of(path);
    nlohmann::json doc = loaded.raw();
    // Inlined before and after the overrides: an override may replace a reference by another one.
    for (const char* key : {"model", "cluster"}) inline_reference_for(doc, key, base);
    for (const auto& o : overrides) apply_override(doc, o, path, base);
    for (const char* key : {"model", "cluster"}) inline_reference_for(doc, key, base);
    doc.erase("profile");
    if (doc.contains("cluster") && doc["cluster"].is_object() && doc["cluster"].contains("gpu") &&
        doc["cluster"]["gpu"].is_object())
      doc["cluster"]["gpu"].erase("profile");
    return doc;
  });
}

nlohmann::json with_profile(nlohmann::json content, const std::vector<std::string>& profile_paths) {
  if (profile_paths.size() == 1) content["cluster"]["gpu"]["profile"] = profile_paths.front();
  else content["cluster"]["gpu"]["profile"] = profile_paths;
  return content;
}

}  // namespace mhc
