#include "cost/stage_costs.h"

#include <cmath>
#include <map>
#include <numeric>

#include "cost/deepep_calibration.h"
#include "cost/kernel_demand.h"
#include "cost/muon_step.h"

namespace mhc {

namespace {

const char* class_of(const Op& op) {
  return op.kind == OpKind::mhc || op.kind == OpKind::residual ? "mhc" : "layer";
}

// The FFN's post kernels (fused post-res, or the unfused apply_post/apply_res/merge) are what the
// paper moves to a high-priority stream (4.3.3).
bool is_ffn_post(const Op& op) { return op.sublayer == "ffn" && op.kind == OpKind::mhc && runs_after_sublayer(op); }

const char* recompute_class(const Op& op) {
  return op.recompute_reason == "mhc" || op.kind == OpKind::mhc ? "mhc_recompute" : "recompute";
}

struct Pricer {
  const CostModel& cost;
  double tokens;
  std::vector<PricedOpRecord>& records;
  std::map<std::string, size_t> seen;  // key -> index in records

  // Prices `op`, adds it to `phase` under `cls` with what it demands of the GPU, and returns it.
  double price(const Op& op, const std::string& tag, PhaseCost& phase, const std::string& cls, bool high_priority) {
    const double t = tokens * op.token_share;
    const PriceQuery q = query_for_op(op, t);
    const PricedOp p = cost.price(q);
    const KernelDemand d = kernel_demand(cost, q, p.seconds);
    std::string key = tag + " " + op.name + " " + to_string(op.pass);
    auto [it, added] = seen.emplace(key, records.size());
    if (added)
      records.push_back({key, op.kernel, to_string(op.pass), p.seconds, to_string(p.method), p.source, op.flops * t,
                         (op.read_bytes + op.write_bytes) * t, 0, false, d.dram_bytes, d.sm_share, d.memory_bound});
    ++records[it->second].launches;
    phase.add(cls, p.seconds);
    phase.demand.add(p.seconds, d.sm_share, d.dram_bytes);
    if (high_priority) {
      phase.high_priority_seconds += p.seconds;
      phase.high_priority_demand.add(p.seconds, d.sm_share, d.dram_bytes);
    }
    if (op.kind == OpKind::attention) {  // what context parallelism's K/V exchange runs beside or before
      phase.attention_seconds += p.seconds;
      phase.attention_demand.add(p.seconds, d.sm_share, d.dram_bytes);
    }
    return p.seconds;
  }

  // Prices `op` into `phase`, counting an attention core as one K/V exchange (context parallelism).
  void add(const Op& op, const std::string& tag, PhaseCost& phase, const std::string& cls, bool high_priority,
           int* exchanges) {
    price(op, tag, phase, cls, high_priority);
    if (op.kind == OpKind::attention) ++*exchanges;
  }

  void add_plan(const OpPlan& plan, const std::string& tag, StageCost& sc) {
    int backward_cores = 0;
    for (const auto& op : plan.forward) add(op, tag, sc.F, class_of(op), is_ffn_post(op), &sc.cp_gathers_forward);
    for (const auto& op : plan.backward_input) add(op, tag, sc.B, class_of(op), is_ffn_post(op), &backward_cores);
    // What the backward re-runs: mHC's recomputation (paper 4.3.2: its kernels and the sublayer norms
    // they feed) apart from the run's own (training.recompute), which the baseline runs too.
    for (const auto& op : plan.recompute) add(op, tag, sc.B, recompute_class(op), false, &sc.cp_gathers_backward);
    for (const auto& op : plan.backward_weight) price(op, tag, sc.W, class_of(op), false);
    sc.cp_gathers_backward += backward_cores;
    sc.cp_scatters_backward += backward_cores;
  }
};

}  // namespace

namespace {

// The weight matrices Muon orthogonalises among a plan's forward GEMMs (those that train: not the
// indexer's; not the unfused attention core's products of activations), with this GPU's share of each
// under ZeRO (replicated over DP, experts over their expert-DP group). The embedding and the output
// head train with AdamW (their lookups and the head are not in the layer plans; an MTP module's shared
// head is skipped by name).
void add_muon_matrices(const OpPlan& plan, double replicated_share, double expert_share,
                       std::map<std::pair<int64_t, int64_t>, double>& out) {
  for (const auto& op : plan.forward) {
    if (op.kind != OpKind::gemm || op.forward_only) continue;
    const std::string& n = op.name;
    if (n.ends_with("attn.scores") || n.ends_with("attn.context") || n.ends_with("lm_head")) continue;
    const bool expert = n.find(".experts_") != std::string::npos;
    out[{op.gemm.k, op.gemm.n}] += double(op.gemm.groups) * (expert ? expert_share : replicated_share);
  }
}

}  // namespace

double optimizer_step_bytes_per_param(const OptimizerSpec& o) {
  const double moments = double(o.moments(o.kind == OptimizerSpec::Kind::muon)) * dtype_bytes(o.states);
  const double weights = o.master_weights ? 4.0 : dtype_bytes(o.params);  // what the update reads and writes
  const double cast_out = o.master_weights ? dtype_bytes(o.params) : 0.0;   // the new weights in their dtype
  return dtype_bytes(o.gradients) + 2.0 * (weights + moments) + cast_out;
}

PriceQuery optimizer_step_query(double params, const OptimizerSpec& optimizer) {
  PriceQuery q;
  q.kernel = "optimizer_adam";
  q.family = kernel_family(q.kernel);
  q.bytes = optimizer_step_bytes_per_param(optimizer) * params;
  q.flops = 12.0 * params;
  q.shape.C = 1;
  q.shape.tokens = std::llround(params);
  return q;
}

PipelineCostTable price_pipeline(const Scenario& s, const CostModel& cost) {
  PipelineCostTable table;
  const auto& m = s.model;
  const auto& p = s.parallel;
  table.tokens_per_microbatch = s.tokens_per_microbatch();
  const double T = table.tokens_per_microbatch;
  // mHC carries n streams across stage boundaries (paper 4.3.3), bf16, T/tp tokens per GPU.
  table.pp_bytes_per_microbatch = T * double(s.mhc.n) * double(m.hidden) * 2.0 / double(p.tp);
  for (int st = 0; st + 1 < s.model_stages(); ++st)
    table.pp_bytes_after_stage.push_back(T * boundary_streams(s, st) * double(m.hidden) * 2.0 / double(p.tp));
  const double T_local = T / double(p.tp);  // tokens per GPU outside the TP regions
  // DeepEP's achieved bandwidth per link class, from the cluster's published figures (rail only:
  // NCCL's direct all-to-all is calibrated in the engine, engine/nccl_calibration.h).
  const DeepEpCalibration deepep = p.ep_all_to_all == "rail" ? calibrate_deepep(s.cluster) : DeepEpCalibration{};
  if (p.tp > 1) table.tp_bytes_per_collective = T * double(m.hidden) * 2.0;
  using Tp = StageCost::TpCollective;
  const double tpb = table.tp_bytes_per_collective;
  // One TP-split sublayer: forward all-gather + reduce-scatter, backward the same pair on gradients.
  auto tp_sublayer = [tpb](StageCost& sc) {
    for (auto* v : {&sc.tp_forward, &sc.tp_backward}) {
      v->push_back({CollectiveOp::all_gather, tpb});
      v->push_back({CollectiveOp::reduce_scatter, tpb});
    }
    ++sc.tp_backward_regathers;
  };
  // Expert TP: the MoE layer's received rows (top_k per token, all T tokens of the TP group) gathered
  // before the experts in the dispatch dtype and their bf16 outputs reduce-scattered after; backward
  // the output gradients gathered and the input gradients reduce-scattered, bf16. Megatron-Core's
  // all-to-all dispatcher does the same over its expert-TP group.
  const double etp_rows = T * double(m.ffn.top_k) * double(m.hidden);
  auto etp_layer = [&](StageCost& sc) {
    sc.tp_forward.push_back({CollectiveOp::all_gather, etp_rows * dtype_bytes(m.precision.moe_dispatch)});
    sc.tp_forward.push_back({CollectiveOp::reduce_scatter, etp_rows * 2.0});
    sc.tp_backward.push_back({CollectiveOp::all_gather, etp_rows * 2.0});
    sc.tp_backward.push_back({CollectiveOp::reduce_scatter, etp_rows * 2.0});
  };

  table.sm_demand_source = sm_demand_source(cost);
  Pricer pricer{cost, T, table.priced, {}};
  std::map<LayerKind, OpPlan> plans;  // one per kind of layer the model has
  const bool muon = s.training.optimizer.kind == OptimizerSpec::Kind::muon;
  const double muon_replicated = p.zero_stage >= 1 ? 1.0 / double(p.dp_cp()) : 1.0;
  const double muon_experts = p.zero_stage >= 1 ? 1.0 / double(p.expert_dp()) : 1.0;
  for (const LayerKind& k : layer_kinds(m)) plans.emplace(k, layer_plan(s, k));
  // Context parallelism exchanges every CP rank's keys and values (cp x T tokens in the buffer): each
  // token's K and V of this TP rank's heads, bf16, the same for every layer's attention core.
  double cp_kv_bytes = 0;
  if (p.cp > 1)
    for (const auto& op : plans.begin()->second.forward)
      if (op.kind == OpKind::attention) {
        const AttentionShape& a = op.attention;
        cp_kv_bytes = T * double(p.cp) * double(a.kv_heads * (a.head_dim_qk + a.head_dim_v)) * 2.0;
      }
  // Layers the run recomputes whole (the first ones of each stage): their forward runs again in the
  // backward, TP collectives included (scenario.cpp refuses it for MoE layers, whose all-to-all would
  // run again too).
  std::map<LayerKind, OpPlan> whole_plans;
  if (s.training.recompute.full_layers != 0)
    for (const LayerKind& k : layer_kinds(m))
      if (!k.moe()) whole_plans.emplace(k, layer_plan(s, k, true));
  const OpPlan mtp = mtp_plan(s);
  for (int st = 0; st < s.model_stages(); ++st) {
    StageCost sc;
    sc.stage = st;
    std::map<std::pair<int64_t, int64_t>, double> muon_matrices;  // (rows, cols) -> this GPU's share
    sc.layers = p.stage_layers[st];
    const int64_t first = p.first_layer(st), full = s.training.recompute.full_layers_in(sc.layers);
    for (int64_t l = first; l < first + sc.layers; ++l) {
      const LayerKind kind = layer_kind(m, l);
      const bool is_moe = kind.moe(), whole = l - first < full;
      sc.moe_layers += is_moe ? 1 : 0;
      pricer.add_plan(whole && !is_moe ? whole_plans.at(kind) : plans.at(kind),
                      is_moe ? "moe layer" : whole ? "recomputed dense layer" : "dense layer", sc);
      if (p.tp > 1) {
        tp_sublayer(sc);                // attention
        if (!is_moe) tp_sublayer(sc);  // dense FFN (MoE FFNs are not TP-split, but for expert TP)
        if (is_moe && p.etp > 1) etp_layer(sc);
        if (whole)                      // the recomputed forward's all-gather and reduce-scatter, twice
          for (int i = 0; i < 2; ++i) {
            sc.tp_backward.push_back({CollectiveOp::all_gather, tpb});
            sc.tp_backward.push_back({CollectiveOp::reduce_scatter, tpb});
          }
      }
      if (muon) add_muon_matrices(plans.at(kind), muon_replicated, muon_experts, muon_matrices);
      auto params = layer_params_per_gpu(s, kind);
      sc.grad_bytes_replicated += 2.0 * params.replicated;
      sc.grad_bytes_layers.push_back(2.0 * params.replicated);
      sc.grad_bytes_experts += 2.0 * params.experts;
      sc.fsdp_block_params.push_back(params.replicated + params.experts);
    }
    const double table_params = double(m.vocab) * double(m.hidden) / p.tp;
    // mHC's expansion and collapse sit with the first and last stages holding layers (model.h).
    const bool expand_here = st == stream_expand_stage(s), collapse_here = st == stream_collapse_stage(s);
    if (expand_here && st != 0) pricer.add_plan(stream_expand_plan(s), "stream expansion", sc);
    if (collapse_here && st != s.model_stages() - 1) pricer.add_plan(stream_collapse_plan(s), "stream collapse", sc);
    if (st == 0) {
      pricer.add_plan(embedding_plan(s, expand_here), "embedding", sc);
      sc.grad_bytes_replicated += 2.0 * table_params;
      if (p.tp > 1) {
        sc.tp_forward.insert(sc.tp_forward.begin(), Tp{CollectiveOp::reduce_scatter, tpb});
        sc.tp_backward.push_back({CollectiveOp::all_gather, tpb});
      }
    }
    if (st == s.model_stages() - 1) {
      pricer.add_plan(head_plan(s, collapse_here), "head", sc);
      sc.grad_bytes_replicated += 2.0 * table_params;
      sc.grad_bytes_head += 2.0 * table_params;
      // Multi-token prediction runs after the head, with its own layer (and MoE all-to-alls).
      if (m.mtp_depth > 0) {
        pricer.add_plan(mtp, "mtp", sc);
        if (muon) add_muon_matrices(mtp, muon_replicated, muon_experts, muon_matrices);
        const LayerParams mp = mtp_params_per_gpu(s);
        sc.grad_bytes_replicated += 2.0 * mp.replicated;
        sc.grad_bytes_head += 2.0 * mp.replicated;
        sc.grad_bytes_experts += 2.0 * mp.experts;
        for (int64_t d = 1; d <= m.mtp_depth; ++d) sc.moe_layers += layer_kind(m, m.layers + d - 1).moe() ? 1 : 0;
      }
      if (p.tp > 1) {
        sc.tp_forward.push_back({CollectiveOp::all_gather, tpb});
        sc.tp_backward.insert(sc.tp_backward.begin(), Tp{CollectiveOp::reduce_scatter, tpb});
        ++sc.tp_backward_regathers;
      }
    }
    sc.cp_kv_bytes = cp_kv_bytes;
    if (sc.moe_layers > 0) {
      // Each GPU dispatches its own T/tp tokens (sequence parallelism); the bytes per token per layer
      // and link class come from cost/moe_traffic.h.
      const MoeTraffic mt = moe_traffic(moe_traffic_input(s));
      const double tokens = double(sc.moe_layers) * T_local;
      sc.a2a_bytes_forward = tokens * mt.forward_buffer;
      sc.a2a_bytes_backward = tokens * mt.backward_buffer;
      sc.a2a_links_forward = mt.forward() * tokens;
      sc.a2a_links_backward = mt.backward() * tokens;
      // The backward dispatch (the combine's gradient) runs DeepEP's dispatch kernel, and vice versa.
      using Kernel = DeepEpMeasurement::Kernel;
      auto wire = [&](const LinkBytes& dispatch, const LinkBytes& combine) {
        return (deepep_wire(deepep, Kernel::dispatch, dispatch) + deepep_wire(deepep, Kernel::combine, combine)) * tokens;
      };
      sc.a2a_wire_forward = wire(mt.forward_dispatch, mt.forward_combine);
      sc.a2a_wire_backward = wire(mt.backward_dispatch, mt.backward_combine);
      sc.a2a_count_forward = static_cast<int>(2 * sc.moe_layers);
    }
    // The root FSDP unit: the embedding on the first stage; the final norm, the head (unless tied to an
    // embedding on the same stage) and the MTP modules on the last (as cost/memory.cpp rank_params).
    if (st == 0) sc.fsdp_root_params += table_params;
    if (st == s.model_stages() - 1) {
      const LayerParams mp = mtp_params_per_gpu(s);
      sc.fsdp_root_params += (m.tied_embeddings && st == 0 ? 0.0 : table_params) + double(m.hidden) + mp.replicated +
                             mp.experts;
    }
    // The optimizer updates this GPU's share of the stage's parameters: replicated ones over the DP
    // group (with its CP ranks), experts over their expert-DP group (ZeRO-1 and up shard the optimizer
    // state).
    const double dp = double(p.dp_cp()), dp_experts = double(p.expert_dp());
    const double replicated = sc.grad_bytes_replicated / 2.0, experts = sc.grad_bytes_experts / 2.0;
    sc.optimizer_params = p.zero_stage >= 1 ? replicated / dp + experts / dp_experts : replicated + experts;
    if (sc.optimizer_params > 0) {
      const PriceQuery q = optimizer_step_query(sc.optimizer_params, s.training.optimizer);
      const PricedOp priced = cost.price(q);
      const KernelDemand d = kernel_demand(cost, q, priced.seconds);
      sc.optimizer_seconds = priced.seconds;
      sc.optimizer_demand.add(priced.seconds, d.sm_share, d.dram_bytes);
      const std::string key = "stage " + std::to_string(st) + " optimizer." +
                              (s.training.optimizer.kind == OptimizerSpec::Kind::muon ? "muon" : "adam") + " step";
      table.priced.push_back({key, q.kernel, "step", priced.seconds, to_string(priced.method), priced.source, q.flops,
                              q.bytes, 1, true, d.dram_bytes, d.sm_share, d.memory_bound});
    }
    if (!muon_matrices.empty()) {
      std::vector<MuonMatrices> list;
      for (const auto& [shape, count] : muon_matrices) list.push_back({shape.first, shape.second, count});
      const int iterations = s.training.optimizer.newton_schulz_steps;
      const MuonStepCost ns = muon_newton_schulz(cost, list, iterations);
      sc.optimizer_seconds += ns.seconds;
      sc.optimizer_demand.add(ns.seconds, 1.0, ns.dram_bytes);
      table.priced.push_back({"stage " + std::to_string(st) + " optimizer.muon newton-schulz", "gemm", "step",
                              ns.seconds, "interpolated",
                              std::to_string(iterations) + " Newton-Schulz iterations on this GPU's share of " +
                                  std::to_string(list.size()) + " matrix shapes, 3 bf16 GEMMs each (cost/muon_step.h), " +
                                  "priced on the profile's bf16 GEMM entries",
                              ns.flops, ns.dram_bytes, 1, true, ns.dram_bytes, 1.0, false});
    }
    table.stages.push_back(sc);
  }
  return table;
}

}  // namespace mhc
