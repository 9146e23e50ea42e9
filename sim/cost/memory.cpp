#include "cost/memory.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "model/model.h"
#include "model/saved_activations.h"

namespace mhc {

namespace {

constexpr double kAct = 2.0;   // bf16 residual stream
constexpr double kCoef = 4.0;  // fp32 mapping coefficients

std::string gib(double bytes) {
  std::ostringstream os;
  os.precision(3);
  os << bytes / double(1ull << 30) << " GiB";
  return os.str();
}

std::string num(double v) {
  std::ostringstream os;
  os.precision(4);
  os << v;
  return os.str();
}

// The run's recomputation and storage choices, for the formulas.
std::string policy_words(const TrainingSpec& t) {
  std::string r = "recompute " + t.recompute.name;
  if (t.recompute.name == "custom") {
    std::string mods;
    for (RecomputeModule m : t.recompute.modules) mods += (mods.empty() ? "" : ", ") + std::string(to_string(m));
    r += " (" + (mods.empty() ? std::string("no modules") : mods) +
         (t.recompute.full_layers != 0 ? ", full " + std::to_string(t.recompute.full_layers) + " layers per stage" : "") +
         ")";
  }
  r += ", saved activations " + t.saved_activations.name;
  return r;
}

}  // namespace

StageActivations stage_activations(const Scenario& s, int stage, int chunks_held) {
  StageActivations a;
  const auto& p = s.parallel;
  const double T = s.tokens_per_microbatch();  // on this CP rank
  // The residual stream lives outside the TP regions: T/tp tokens per GPU under sequence parallelism.
  const double T_local = T / double(p.tp);
  const int64_t layers = p.stage_layers.at(stage), first = p.first_layer(stage);
  const int64_t full = s.training.recompute.full_layers_in(layers);
  const bool plain = s.mhc.variant == ResidualVariant::residual;
  const auto rebuilt = rebuilt_sublayer_inputs(s);
  std::map<LayerKind, ActivationAccount> accounts;
  auto account = [&](LayerKind kind) -> const ActivationAccount& {
    auto it = accounts.find(kind);
    if (it == accounts.end()) it = accounts.emplace(kind, account_activations(layer_plan(s, kind).forward, rebuilt)).first;
    return it->second;
  };
  for (int64_t l = first; l < first + layers; ++l) {
    const ActivationAccount& acc = account(layer_kind(s.model, l));
    if (l - first < full) {
      // Recomputed whole from its input (x_l: C wide for a plain residual; mHC's n-stream x_l is
      // counted with the residual stream below); everything it keeps is rebuilt while it runs backward.
      if (plain) a.sublayers += T_local * double(s.model.hidden) * kAct;
      a.rebuilt_transient = std::max(a.rebuilt_transient, T * (acc.stored + acc.rebuilt));
    } else {
      a.sublayers += T * acc.stored;
      a.rebuilt_transient = std::max(a.rebuilt_transient, T * acc.rebuilt);
    }
  }
  const bool collapse_here = stage == stream_collapse_stage(s);
  if (collapse_here && stage != s.model_stages() - 1) {  // the stage before a layer-less head stage
    const ActivationAccount collapse = account_activations(stream_collapse_plan(s).forward, {});
    a.sublayers += T * collapse.stored;
    a.rebuilt_transient = std::max(a.rebuilt_transient, T * collapse.rebuilt);
  }
  if (stage == s.model_stages() - 1) {
    const ActivationAccount head = account_activations(head_plan(s, collapse_here).forward, {});
    a.sublayers += T * head.stored;
    a.rebuilt_transient = std::max(a.rebuilt_transient, T * head.rebuilt);
    if (s.model.mtp_depth > 0) {
      // The MTP modules' layers, norms, projection and heads (their n-stream residual is not counted).
      std::vector<std::string> mtp_rebuilt;
      for (int64_t d = 1; d <= s.model.mtp_depth; ++d)
        for (const auto& id : rebuilt) mtp_rebuilt.push_back("mtp" + std::to_string(d) + "." + id);
      const ActivationAccount mtp = account_activations(mtp_plan(s).forward, mtp_rebuilt);
      a.sublayers += T * mtp.stored;
      a.rebuilt_transient = std::max(a.rebuilt_transient, T * mtp.rebuilt);
    }
  }
  if (plain) return a;

  // Paper 4.3.2. Without recomputation every sublayer keeps x_l (nC), F's output f (C, for dH_post)
  // and its mappings. With it, a block of L_r sublayers keeps x_{l0} (nC) once and f every sublayer;
  // x_l, H_pre x_l and RMSNorm(H_pre x_l) (F's input and the norm's output, which the layer's account
  // above already counts as rebuilt) are rebuilt in backward. A layer the run recomputes whole keeps
  // only its input x_l.
  const double n = s.mhc.n, C = double(s.model.hidden), rest = double(layers - full), S = 2.0 * rest;
  const double mappings = n * n + 2 * n + 1;
  const double whole = double(full) * n * C * kAct;
  a.residual_stream_no_recompute = T_local * (S * ((n + 1) * C * kAct + mappings * kCoef) + whole);
  const int lr = rest > 0 ? recompute_block_for(s.mhc, s.model.hidden, layers - full, chunks_held) : 1;
  a.recompute_block = lr;
  a.residual_stream_recompute = T_local * ((std::ceil(S / lr) * n * C + S * C) * kAct + whole);
  if (s.mhc.recompute && rest > 0) {
    a.residual_stream = a.residual_stream_recompute;
    a.recompute_transient = T_local * double(lr) * ((n + 2) * C * kAct + mappings * kCoef);
  } else {
    a.residual_stream = a.residual_stream_no_recompute;
  }
  return a;
}

RankParams rank_params(const Scenario& s, const std::vector<int>& stages) {
  RankParams r;
  const auto& p = s.parallel;
  for (int st : stages) {
    const int64_t first = p.first_layer(st);
    for (int64_t l = first; l < first + p.stage_layers.at(st); ++l) {
      const LayerParams lp = layer_params_per_gpu(s, layer_kind(s.model, l));
      r.replicated += lp.replicated;
      r.experts += lp.experts;
      r.adam_only += lp.vectors;
    }
    const double table = double(s.model.vocab) * double(s.model.hidden) / p.tp;
    if (st == 0) {
      r.replicated += table;
      r.adam_only += table;
    }
    if (st == s.model_stages() - 1) {
      const double head = (s.model.tied_embeddings && st == 0 ? 0.0 : table) + double(s.model.hidden);
      r.replicated += head;
      r.adam_only += head;
      // The MTP modules share the embedding and the head (DeepSeek-V3 3.2.3); their own parameters.
      const LayerParams mtp = mtp_params_per_gpu(s);
      r.replicated += mtp.replicated;
      r.experts += mtp.experts;
      r.adam_only += mtp.vectors;
    }
  }
  return r;
}

namespace {

// Activations a rank holds: per live micro-batch chunk, its own stage's.
struct Held {
  double sublayers = 0, residual_stream = 0, no_recompute = 0, recompute = 0;
  int chunks = 0;
};

// The peak over the schedule's timeline of the live chunks' activations (sublayers and residual
// stream together), or without a timeline the largest stage's times the peak count.
Held held_activations(const std::vector<StageActivations>& per_chunk, const StageActivations& worst, int in_flight,
                      const std::vector<std::pair<int, int>>* live) {
  Held h;
  if (!live) {
    h = {worst.sublayers * in_flight, worst.residual_stream * in_flight, worst.residual_stream_no_recompute * in_flight,
         worst.residual_stream_recompute * in_flight, in_flight};
    return h;
  }
  Held cur;
  for (const auto& [chunk, delta] : *live) {
    if (chunk < 0 || size_t(chunk) >= per_chunk.size()) continue;
    const StageActivations& a = per_chunk[size_t(chunk)];
    cur.sublayers += delta * a.sublayers;
    cur.residual_stream += delta * a.residual_stream;
    cur.no_recompute += delta * a.residual_stream_no_recompute;
    cur.recompute += delta * a.residual_stream_recompute;
    cur.chunks += delta;
    if (cur.sublayers + cur.residual_stream > h.sublayers + h.residual_stream) h = cur;
  }
  return h;
}

// Which L_r each of the rank's stages uses, and why.
std::string recompute_block_words(const Scenario& s, const std::vector<int>& stages,
                                  const std::vector<StageActivations>& per_chunk, int in_flight) {
  std::string r = "one block of L_r sublayers rebuilt at a time: L_r (n+2) C tokens x 2 B + mappings; L_r =";
  for (size_t c = 0; c < stages.size(); ++c)
    r += (c ? ", " : " ") + std::to_string(per_chunk[c].recompute_block) + " (stage " + std::to_string(stages[c]) + ")";
  if (s.mhc.recompute_block_auto)
    r += ", auto: paper Eq. 20 with the kept x_{l0} weighed by the " + std::to_string(in_flight) +
         " live chunks the schedule holds";
  return r;
}

RankMemory memory_items(const Scenario& s, int rank, const std::vector<int>& stages, int in_flight,
                        const std::vector<std::pair<int, int>>* live) {
  RankMemory m;
  m.rank = rank;
  m.capacity_bytes = s.cluster.gpu_memory_bytes;
  const auto& p = s.parallel;
  const auto& opt = s.training.optimizer;
  const RankParams rp = rank_params(s, stages);
  // Replicated weights are shared by the dp x cp data-parallel and context-parallel ranks; experts by
  // their expert-DP group, dp x cp x tp / (ep x etp) ranks.
  const double dp = double(p.dp_cp()), dp_experts = double(p.expert_dp());
  auto sharded = [&](double replicated, double experts, int from_stage) {
    return p.zero_stage >= from_stage ? replicated / dp + experts / dp_experts : replicated + experts;
  };
  auto zero = [&](int from_stage, const char* what) {
    if (p.zero_stage < from_stage) return std::string();
    return std::string(p.cp > 1 ? " / DP x CP (ZeRO-" : " / DP (ZeRO-") + std::to_string(p.zero_stage) + " shards " +
           what + ")";
  };
  std::ostringstream pf;
  pf << num(rp.total() / 1e9) << "B parameters on this GPU (" << num(rp.replicated / 1e9) << "B replicated, "
     << num(rp.experts / 1e9) << "B experts";
  if (s.model.mtp_depth > 0) pf << ", MTP modules included";
  pf << ")";
  if (p.tp > 1)
    pf << " [TP" << p.tp << ": attention, dense FFN" << (p.etp > 1 ? ", expert" : "") << " and vocab matrices / " << p.tp
       << "]";
  const double pb = dtype_bytes(opt.params), gb = dtype_bytes(opt.gradients);
  m.items.push_back({"parameters", pb * sharded(rp.replicated, rp.experts, 3),
                     pf.str() + " x " + num(pb) + " B (" + to_string(opt.params) + ")" + zero(3, "parameters")});
  // ZeRO-3 as FSDP2 runs it (graph/step_graph.cpp): the gathered bf16 copies of the units in use
  // beside the shards. The root unit (embedding, head) stays gathered from its forward to its backward;
  // blocks that reshard after forward hold the one computing and the one prefetched, blocks that do
  // not (torchtitan's default with PP, or "never") stay gathered through the step.
  if (p.zero_stage == 3 && p.dp_cp() > 1) {
    const bool pp = s.model_stages() > 1;
    const std::string& policy = p.fsdp_reshard_after_forward;
    const bool keep = policy == "never" || (policy == "default" && pp);
    double blocks = 0, largest = 0, held = 0;
    for (int st : stages) {
      const int64_t first = p.first_layer(st);
      double stage_blocks = 0;
      for (int64_t l = first; l < first + p.stage_layers.at(st); ++l) {
        const LayerParams lp = layer_params_per_gpu(s, layer_kind(s.model, l));
        stage_blocks += lp.replicated + lp.experts;
        largest = std::max(largest, lp.replicated + lp.experts);
      }
      blocks += stage_blocks;
      held += rank_params(s, {st}).total() - stage_blocks;  // the stage's root unit
    }
    held += keep ? blocks : std::min(blocks, 2 * largest);
    m.items.push_back({"gathered parameters (FSDP)", 2.0 * held,
                       num(held / 1e9) + "B parameters x 2 B (bf16 all-gather): the root unit (embedding, head) " +
                           (keep ? std::string("and every block, kept gathered after forward")
                                 : std::string("and two blocks (the one computing, the one prefetched)"))});
  }
  m.items.push_back({"gradients", gb * sharded(rp.replicated, rp.experts, 2),
                     "parameters x " + num(gb) + " B (" + to_string(opt.gradients) + " main gradients)" +
                         zero(2, "gradients")});
  const std::string master = opt.master_weights ? "fp32 master copy 4 B + " : "";
  if (opt.kind == OptimizerSpec::Kind::muon) {
    const double matrices = rp.replicated - rp.adam_only;
    m.items.push_back({"optimizer state",
                       sharded(opt.state_bytes(true) * matrices + opt.state_bytes(false) * rp.adam_only,
                               opt.state_bytes(true) * rp.experts, 1),
                       "Muon: matrices x (" + master + "one " + to_string(opt.states) + " momentum), " +
                           num(rp.adam_only / 1e9) + "B embedding, head and 1-D parameters x (" + master + "two " +
                           to_string(opt.states) + " AdamW moments)" + zero(1, "optimizer state")});
  } else {
    m.items.push_back({"optimizer state", opt.state_bytes(false) * sharded(rp.replicated, rp.experts, 1),
                       "parameters x " + num(opt.state_bytes(false)) + " B (" + master + "Adam m, v in " +
                           to_string(opt.states) + ")" + zero(1, "optimizer state")});
  }

  StageActivations worst;
  std::vector<StageActivations> per_chunk;
  for (int st : stages) {
    auto a = stage_activations(s, st, in_flight);
    per_chunk.push_back(a);
    const double transient = worst.recompute_transient, rebuilt = worst.rebuilt_transient;
    if (a.sublayers + a.residual_stream > worst.sublayers + worst.residual_stream) worst = a;
    worst.recompute_transient = std::max(transient, a.recompute_transient);
    worst.rebuilt_transient = std::max(rebuilt, a.rebuilt_transient);
  }
  const Held held = held_activations(per_chunk, worst, in_flight, live);
  std::string per;
  if (live) {
    per = "at the schedule's peak: " + std::to_string(held.chunks) + " micro-batch chunks in flight, each its stage's (";
    for (size_t c = 0; c < stages.size(); ++c)
      per += (c ? ", " : "") + std::string("stage ") + std::to_string(stages[c]) + " " +
             gib(per_chunk[c].sublayers + per_chunk[c].residual_stream);
    per += " per micro-batch)";
  } else {
    per = " per micro-batch x " + std::to_string(in_flight) + " in flight (the schedule's peak" +
          std::string(stages.size() > 1 ? "; the larger of the rank's stages" : "") + ")";
  }
  const std::string held_words = live ? gib(held.sublayers) + " " : gib(worst.sublayers);
  const std::string held_stream_words = live ? gib(held.residual_stream) + " " : gib(worst.residual_stream);
  const std::string tp = std::to_string(p.tp);
  const std::string sp = p.tp > 1 ? "; sequence parallel: norms, mHC, MoE and GEMM inputs on T/" + tp +
                                        " tokens, attention and GEMM outputs at width / " + tp
                                  : "";
  m.items.push_back({"activations", held.sublayers, held_words + per + "; " + policy_words(s.training) + sp});
  if (worst.rebuilt_transient > 0)
    m.items.push_back({"recomputed (transient)", worst.rebuilt_transient,
                       "the largest layer's tensors the recomputation rebuilds, one layer and micro-batch at a time"});
  if (s.mhc.variant != ResidualVariant::residual) {
    m.items.push_back({"mhc residual stream", held.residual_stream,
                       held_stream_words + per +
                           (s.mhc.recompute ? ", recomputation keeps x_{l0} per block and f per sublayer"
                                            : ", without recomputation: x_l, f and mappings per sublayer") +
                           (p.tp > 1 ? ", on T/" + std::to_string(p.tp) + " tokens (sequence parallel)" : "")});
    if (s.mhc.recompute && worst.recompute_transient > 0)
      m.items.push_back({"mhc recompute block", worst.recompute_transient, recompute_block_words(s, stages, per_chunk, in_flight)});
    m.residual_stream_without_recompute = held.no_recompute;
    m.residual_stream_with_recompute = held.recompute + worst.recompute_transient;
  }
  m.items.push_back({"framework overhead", s.training.framework_overhead_bytes,
                     s.training.framework_overhead_given
                         ? "training.framework_overhead_GiB as the scenario states it (NCCL and all-to-all buffers, "
                           "allocator fragmentation, workspaces)"
                         : "not counted: NCCL and all-to-all buffers, allocator fragmentation and workspaces are "
                           "not modelled; set training.framework_overhead_GiB"});
  for (const auto& item : m.items) m.total_bytes += item.bytes;
  m.fits = m.total_bytes <= m.capacity_bytes;
  return m;
}

}  // namespace

namespace {

RankMemory rank_memory_with(const Scenario& s, int rank, const std::vector<int>& stages, int in_flight,
                            const std::vector<std::pair<int, int>>* live) {
  RankMemory m = memory_items(s, rank, stages, in_flight, live);
  auto total = [&](const Scenario& v) { return memory_items(v, rank, stages, in_flight, live).total_bytes; };
  const TrainingSpec& t = s.training;
  // Recomputation, storage formats and folded routing weights, added one after the other.
  Scenario bare = s, recompute_only = s, stored = s;
  bare.training.recompute = *recompute_preset("none");
  bare.training.saved_activations = *saved_activations_preset("as-computed");
  recompute_only.training.saved_activations = *saved_activations_preset("as-computed");
  stored.training.saved_activations.fold_routing_weights = false;
  const double t_bare = total(bare), t_recompute = total(recompute_only), t_stored = total(stored);
  if (!t.recompute.modules.empty() || t.recompute.full_layers != 0) {
    std::string what = t.recompute.name;
    if (t.recompute.full_layers != 0)
      what += t.recompute.full_layers < 0 ? ": every layer whole"
                                          : ": the first " + std::to_string(t.recompute.full_layers) + " layers of each stage whole";
    for (RecomputeModule mod : t.recompute.modules) what += std::string(what.find(':') == std::string::npos ? ": " : ", ") + to_string(mod);
    m.savings.push_back({"recomputation", t_bare - t_recompute,
                         what + " (the rebuilt tensors' transient included; their time is priced in the backward)"});
  }
  if (!t.saved_activations.formats.empty()) {
    std::string what;
    for (const auto& [role, f] : t.saved_activations.formats)
      what += (what.empty() ? "" : ", ") + role + " in " + f.name + " (" + num(f.bytes_per_value()) + " B per value)";
    m.savings.push_back({"storage formats", t_recompute - t_stored, what});
  }
  if (t.saved_activations.fold_routing_weights)
    m.savings.push_back({"routing weights folded", t_stored - m.total_bytes,
                         "the combine keeps no expert outputs; each routed row's weight is applied and kept by its "
                         "expert activation"});
  if (s.mhc.recompute && s.mhc.variant != ResidualVariant::residual) {
    Scenario v = s;
    v.mhc.recompute = false;
    m.savings.push_back({"mhc recomputation", total(v) - m.total_bytes,
                         "paper 4.3.2: x_{l0} per block of L_r sublayers instead of x_l, H_pre x_l and the norm's "
                         "output per sublayer"});
  }
  if (s.parallel.zero_stage > 0) {
    Scenario v = s;
    v.parallel.zero_stage = 0;
    m.savings.push_back({"zero sharding", total(v) - m.total_bytes,
                         "ZeRO-" + std::to_string(s.parallel.zero_stage) + " over DP " + std::to_string(s.parallel.dp) +
                             (s.parallel.cp > 1 ? " x CP " + std::to_string(s.parallel.cp) : std::string()) + " (experts over " +
                             num(double(s.parallel.expert_dp())) + ")"});
  }
  return m;
}

}  // namespace

RankMemory rank_memory(const Scenario& s, int rank, const std::vector<int>& stages, int in_flight) {
  return rank_memory_with(s, rank, stages, in_flight, nullptr);
}

RankMemory rank_memory(const Scenario& s, int rank, const std::vector<int>& stages, int in_flight,
                       const std::vector<std::pair<int, int>>& live_chunks) {
  return rank_memory_with(s, rank, stages, in_flight, &live_chunks);
}

}  // namespace mhc
