#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "model/io_table.h"
#include "model/model.h"
#include "profile/profile.h"

namespace mhc {

namespace {

using nlohmann::json;

void add_phase(std::map<std::string, double>& out, const PhaseCost& p, const std::string& pass) {
  for (const auto& [cls, s] : p.by_class) {
    if (cls == "mhc") out["mhc_" + pass] += s;
    else out[cls] += s;
  }
}

json variant_json(const VariantRun& v) {
  json ranks = json::array();
  double bubble_sum = 0;
  for (const auto& r : v.ranks) {
    ranks.push_back({{"rank", r.rank},
                     {"busy_s", r.busy},
                     {"bubble_s", r.bubble},
                     {"bubble_fraction", v.step_time_s > 0 ? r.bubble / v.step_time_s : 0.0},
                     {"peak_activations", r.peak_activations}});
    bubble_sum += r.bubble;
  }
  json pairs = json::array();
  for (const auto& p : v.pairs)
    if (p.pairs > 0)
      pairs.push_back({{"rank", p.rank},
                       {"pairs", p.pairs},
                       {"compute_s_per_pair", p.compute_s / p.pairs},
                       {"all_to_all_s_per_pair", p.all_to_all_s / p.pairs},
                       {"all_to_all_bound_pairs", p.all_to_all_bound},
                       {"all_to_all_beyond_compute_s", p.beyond_compute_s}});
  const double mean_bubble = v.ranks.empty() ? 0.0 : bubble_sum / double(v.ranks.size());
  json memory = json::array();
  for (const auto& m : v.memory) {
    json items = json::array();
    for (const auto& it : m.items) items.push_back({{"name", it.name}, {"bytes", it.bytes}, {"formula", it.formula}});
    json savings = json::array();
    for (const auto& it : m.savings) savings.push_back({{"name", it.name}, {"bytes", it.bytes}, {"formula", it.formula}});
    memory.push_back({{"rank", m.rank}, {"items", items}, {"savings", savings}, {"total_bytes", m.total_bytes}, {"fits", m.fits},
                      {"mhc_residual_stream_without_recompute_bytes", m.residual_stream_without_recompute},
                      {"mhc_residual_stream_with_recompute_bytes", m.residual_stream_with_recompute}});
  }
  return {{"step_time_s", v.step_time_s},
          {"ranks", ranks},
          {"overlapped_pairs", pairs},
          {"mean_bubble_s", mean_bubble},
          {"mean_bubble_fraction", v.step_time_s > 0 ? mean_bubble / v.step_time_s : 0.0},
          {"exposed_comm_s", v.exposed_comm_s_by_category},
          {"compute_slowed_by_comm_s", v.lost_to_comm_s},
          {"compute_slowed_by_corun_s", v.lost_to_corun_s},
          {"memory", memory},
          {"network_bytes", {{"by_category", v.network_bytes_by_category}, {"by_link_class", v.network_bytes_by_link_class}}},
          {"engine", {{"wall_s", v.engine_wall_s}, {"activities", v.engine_activities}}}};
}

std::string fmt_factor(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gx", x);
  return buf;
}

// What the profile says about the clocks it was measured at, for the report.
std::string clock_statement(const Profile& p) {
  const auto& c = p.provenance.clocks;
  auto median_of = [](const ClockRecord& r, const char* part) -> double {
    for (const auto& cp : r.parts)
      if (cp.part == part) return cp.sm_clock_mhz.median;
    return r.parts.empty() ? 0.0 : r.parts.front().sm_clock_mhz.median;
  };
  std::ostringstream s;
  if (!c || c->mode == "burst") {
    s << "measured in short bursts (each entry's launches on an otherwise idle GPU, at boost clocks";
    if (c && !c->parts.empty()) s << ", SM clock median " << median_of(*c, "gemm") << " MHz during the GEMMs";
    else if (p.kind == ProfileKind::measured) s << "; the profile records no sampled clocks, its SM clock " << p.provenance.sm_clock_mhz << " MHz is the device's peak";
    s << "); a training step runs sustained under the power limit, where clocks may be lower: kernel times are "
         "optimistic by that much";
  } else {
    s << "measured under a sustained load (" << c->sustained_load_s << " s at the power limit before each part), SM "
      << "clock median " << median_of(*c, "gemm") << " MHz during the GEMMs";
  }
  return s.str();
}

double peak_memory(const VariantRun& v) {
  double m = 0;
  for (const auto& r : v.memory) m = std::max(m, r.total_bytes);
  return m;
}

}  // namespace

std::map<std::string, double> rank_compute_by_class(const VariantRun& v, int rank) {
  std::map<std::string, double> out;
  const auto& st = v.costs.stages;
  for (const auto& t : v.schedule.per_rank.at(rank)) {
    switch (t.phase) {
      case Phase::F: add_phase(out, st[t.stage].F, "forward"); break;
      case Phase::B: add_phase(out, st[t.stage].B, "backward"); break;
      case Phase::W: add_phase(out, st[t.stage].W, "backward"); break;
      case Phase::BW:
        add_phase(out, st[t.stage].B, "backward");
        add_phase(out, st[t.stage].W, "backward");
        break;
      case Phase::FB:
        add_phase(out, st[t.stage].F, "forward");
        add_phase(out, st[t.stage2].B, "backward");
        add_phase(out, st[t.stage2].W, "backward");
        break;
      default: break;
    }
  }
  // The optimizer step: its own tasks in the step graph, once per step.
  for (TaskId id = 0; id < boost::num_vertices(v.step.graph); ++id) {
    const TaskNode& n = v.step.graph[id];
    if (n.kind == NodeKind::compute && n.rank == rank && n.category == "optimizer") out["optimizer"] += n.seconds;
  }
  return out;
}

RankSharing rank_sharing(const VariantRun& v, int rank) {
  RankSharing out;
  const RankStats& st = v.ranks.at(rank);
  out.overlap_s = st.busy - (st.makespan - st.idle);
  for (TaskId id = 0; id < v.shares.size(); ++id) {
    const TaskNode& n = v.step.graph[id];
    if (n.kind != NodeKind::compute || n.rank != rank) continue;
    out.lost_to_comm_s += v.shares[id].lost_to_comm_s;
    out.lost_to_corun_s += v.shares[id].lost_to_corun_s;
  }
  return out;
}

int bottleneck_rank(const VariantRun& v) {
  int best = 0;
  for (const auto& r : v.ranks)
    if (r.busy > v.ranks[best].busy) best = r.rank;
  return best;
}

json report_json(const RunResult& r) {
  const VariantRun &m = r.mhc, &b = r.baseline;
  const Scenario& s = m.scenario;
  json j;
  j["scenario"] = {{"name", s.name},
                   {"file", s.file},
                   {"variant", to_string(s.mhc.variant)},
                   {"n", s.mhc.n},
                   {"fused", s.mhc.fused},
                   {"recompute", s.mhc.recompute},
                   {"high_priority_stream", s.mhc.high_priority_stream},
                   {"schedule", s.schedule.kind},
                   {"layout", {{"tp", s.parallel.tp}, {"cp", s.parallel.cp}, {"cp_comm", s.parallel.cp_comm},
                               {"etp", s.parallel.etp}, {"edp", s.parallel.expert_dp()}, {"pp", s.parallel.pp},
                               {"ep", s.parallel.ep}, {"dp", s.parallel.dp},
                               {"zero_stage", s.parallel.zero_stage}, {"micro_batches", s.parallel.micro_batches()},
                               {"tokens_per_micro_batch", m.costs.tokens_per_microbatch}}},
                   {"cluster", {{"name", s.cluster.name}, {"gpus", s.cluster.total_gpus()}, {"gpu", s.cluster.gpu}}}};
  j["profile"] = {{"file", s.profile}, {"kind", to_string(r.profile.kind)}, {"note", s.cluster.profile_note},
                  {"clocks", clock_statement(r.profile)}};
  json published = json::array();
  for (const auto& part : r.profile.published)
    published.push_back({{"file", part.file}, {"gpu", part.provenance.gpu}, {"compiled_from", part.provenance.compiled_from}});
  j["profile"]["published_parts"] = published;
  // Parameters counted from the model file (model/model.h count_params): the main model with its mHC
  // mappings, without MTP modules; active: routed experts top_k times, no input embedding.
  const ParamCount params = count_params(s.model, s.mhc);
  j["scenario"]["model"] = {{"name", s.model.name}, {"layers", s.model.layers}, {"hidden", s.model.hidden},
                            {"parameters", params.total()}, {"active_parameters", params.active},
                            {"mtp_depth", s.model.mtp_depth}};
  j["scenario"]["precision"] = {{"name", s.model.precision.name}, {"gemm", to_string(s.model.precision.gemm)},
                                {"moe_dispatch", to_string(s.model.precision.moe_dispatch)}};
  j["what_if"] = json::array();
  if (r.pricing.mhc_at_floor)
    j["what_if"].push_back("mhc_at_floor: mHC kernels priced at their roofline floor on the profile's ceilings, "
                           "not at their measured times (what perfect kernels would cost)");
  if (r.pricing.sm_demand_proportional)
    j["what_if"].push_back("sm_demand_proportional: memory-bound kernels take SMs in proportion to their bandwidth "
                           "over the copy ceiling, not on the measured or published curve (the least co-run credit)");
  j["step_time_s"] = m.step_time_s;
  j["baseline_step_time_s"] = b.step_time_s;
  j["overhead_pct"] = 100.0 * (m.step_time_s - b.step_time_s) / b.step_time_s;

  // Where the extra time goes, on the busiest rank: step = busy + bubble there, so the parts add up.
  const int R = bottleneck_rank(m);
  auto mc = rank_compute_by_class(m, R), bc = rank_compute_by_class(b, R);
  const double d_busy = m.ranks[R].busy - b.ranks[R].busy;
  const double mhc_kernels = mc["mhc_forward"] + mc["mhc_backward"] + mc["mhc_recompute"] -
                             (bc["mhc_forward"] + bc["mhc_backward"]);
  // The run's own recomputation runs in both variants: it is compute like any other.
  const double d_layer = mc["layer"] + mc["optimizer"] + mc["recompute"] - (bc["layer"] + bc["optimizer"] + bc["recompute"]);
  const RankSharing ms = rank_sharing(m, R), bs = rank_sharing(b, R);
  const double d_idle = m.ranks[R].idle - b.ranks[R].idle;
  j["overhead_breakdown"] = {
      {"rank", R},
      {"delta_step_s", m.step_time_s - b.step_time_s},
      {"mhc_kernels_s",
       {{"forward", mc["mhc_forward"] - bc["mhc_forward"]},
        {"backward", mc["mhc_backward"] - bc["mhc_backward"]},
        {"recompute", mc["mhc_recompute"]},
        {"total", mhc_kernels}}},
      {"other_compute_s", d_layer},
      // busy = own seconds + lost to communication + lost to co-running kernels, so these close the sum.
      {"compute_slowed_by_comm_s", ms.lost_to_comm_s - bs.lost_to_comm_s},
      {"mhc_hidden_under_other_kernels_s", -((ms.overlap_s - ms.lost_to_corun_s) - (bs.overlap_s - bs.lost_to_corun_s))},
      {"bubble_s", d_idle},
      {"checks",
       {{"busy_unaccounted_s", d_busy - mhc_kernels - d_layer - (ms.lost_to_comm_s - bs.lost_to_comm_s) -
                                   (ms.lost_to_corun_s - bs.lost_to_corun_s)}}},
      {"pp_bytes_per_micro_batch", {{"mhc", m.costs.pp_bytes_per_microbatch}, {"baseline", b.costs.pp_bytes_per_microbatch}}},
      {"pp_bytes_per_boundary", {{"mhc", m.costs.pp_bytes_after_stage}, {"baseline", b.costs.pp_bytes_after_stage}}},
      {"exposed_comm_s_mean_per_gpu", {{"mhc", m.exposed_comm_s_by_category}, {"baseline", b.exposed_comm_s_by_category}}},
      {"mechanisms",
       {{"compute_slowed_by_comm_s",
         "communication kernels hold " + std::to_string(s.cluster.comm_sms) + " of " + std::to_string(s.cluster.sms) +
             " SMs while their flows move data and draw HBM for them (per byte: " + fmt_factor(m.gpu.hbm_per_byte_sent_nvlink) +
             " sent over NVLink, " + fmt_factor(m.gpu.hbm_per_byte_sent_network) + " sent over the network, " +
             fmt_factor(m.gpu.hbm_per_byte_received) + " received; NVIDIA/nccl #1428); compute keeps the rest"},
        {"mhc_hidden_under_other_kernels_s",
         std::string(s.mhc.high_priority_stream
                         ? "the FFN post-res kernels on the high-priority stream run beside the other chunk's compute "
                           "of a DualPipe pair: "
                         : "no mHC kernel runs beside other kernels (high-priority stream off): ") +
             "SMs go to the high-priority stream first, HBM is shared max-min; credited: the time they overlap "
             "other kernels minus what both lose to sharing"},
        {"bubble_s", "rank R's idle time: no kernel of its own running (waiting on the pipeline or communication)"}}},
      {"note", "rank R's step = own kernel time + time lost to communication + co-run credit (negative: hidden) + "
               "idle; delta_step = mhc kernels + other compute + compute slowed by communication + mhc hidden + "
               "bubble change; checks/busy_unaccounted_s is busy time the engine's loss accounting misses (0 up to rounding)"}};
  j["gpu_model"] = {{"sms", s.cluster.sms},
                    {"comm_sms", s.cluster.comm_sms},
                    {"hbm_Bps", m.gpu.hbm_Bps},
                    {"hbm_source", r.profile.ceilings.copy_bandwidth_Bps.source},
                    {"sm_demand_of_memory_bound_kernels", m.costs.sm_demand_source},
                    {"hbm_bytes_per_comm_byte",
                     {{"sent_nvlink", m.gpu.hbm_per_byte_sent_nvlink},
                      {"sent_network", m.gpu.hbm_per_byte_sent_network},
                      {"received", m.gpu.hbm_per_byte_received},
                      {"source", "NVIDIA/nccl issue #1428 (maintainer: network traffic costs at least 2x in memory "
                                 "bandwidth, stored then read back; 3x with the user buffer)"}}},
                    {"priority", "CUDA stream priority orders which pending blocks get SMs next; it never preempts "
                                 "running blocks"}};
  j["mhc"] = variant_json(m);
  j["baseline"] = variant_json(b);
  j["bubble"] = {{"mhc", j["mhc"]["ranks"]}, {"baseline", j["baseline"]["ranks"]},
                 {"mhc_mean_fraction", j["mhc"]["mean_bubble_fraction"]},
                 {"baseline_mean_fraction", j["baseline"]["mean_bubble_fraction"]}};
  j["memory"] = {{"capacity_bytes", s.cluster.gpu_memory_bytes},
                 {"peak_bytes", peak_memory(m)},
                 {"baseline_peak_bytes", peak_memory(b)},
                 {"fits", peak_memory(m) <= s.cluster.gpu_memory_bytes},
                 {"per_rank", j["mhc"]["memory"]}};
  j["io_per_token"] = to_json(io_table(s.mhc.n, s.model.hidden, s.mhc.sinkhorn_iters, Pass::forward));
  j["network_bytes"] = {{"mhc", j["mhc"]["network_bytes"]}, {"baseline", j["baseline"]["network_bytes"]}};
  const CostModel cost(r.profile);
  // MFU against the peak of the precision the run's GEMMs use (an FP8 run against the FP8 peak): every
  // op's time is at least its FLOPs over its own dtype's peak, and no dtype's peak exceeds the GEMM
  // dtype's, so the figure cannot pass 100%.
  const DType peak_dtype = s.model.precision.gemm_dtype();
  const double peak = cost.peak_flops(peak_dtype), gpus = s.cluster.total_gpus();
  j["mfu"] = {{"mhc", m.model_flops_per_step / (gpus * peak * m.step_time_s)},
              {"baseline", b.model_flops_per_step / (gpus * peak * b.step_time_s)},
              {"model_flops_per_step", m.model_flops_per_step},
              {"peak_flops_per_gpu", peak},
              {"convention",
               "model FLOPs = 3 x forward FLOPs (2 per multiply-add) of the plain-residual model's GEMMs, attention, "
               "norms and elementwise ops x global tokens (an op without a backward, DeepSeek-V4's indexer, once); "
               "mHC kernels, MTP modules and recomputation excluded; peak = the "
               "profile's dense " + std::string(to_string(peak_dtype)) + " ceiling (the precision of the run's GEMMs)"},
              {"peak_dtype", to_string(peak_dtype)}};
  // Each priced op with how it was priced and its share of a pipeline GPU's step: per micro-batch ops
  // run `launches` times per micro-batch over the pipeline's ranks; the optimizer once per step.
  json priced = json::array();
  const double micro = double(s.parallel.micro_batches()), ranks = double(m.schedule.ranks);
  std::map<std::string, int> by_method;
  json roofline_warnings = json::array();
  double bandwidth_share = 0;
  for (const auto& p : m.costs.priced) {
    const double share = p.per_step ? p.seconds / m.step_time_s
                                    : p.seconds * double(p.launches) * micro / (ranks * m.step_time_s);
    json o{{"op", p.op},       {"kernel", p.kernel},     {"seconds", p.seconds}, {"method", p.method},
           {"source", p.source}, {"launches", p.launches}, {"per_step", p.per_step}, {"share_of_step", share},
           {"flops", p.flops},   {"bytes", p.bytes},
           {"dram_bytes", p.dram_bytes}, {"sm_share", p.sm_share}, {"bound", p.memory_bound ? "memory" : "compute"}};
    if (p.seconds > 0) {
      o["achieved_tflops"] = p.flops / p.seconds / 1e12;
      o["achieved_GBps"] = p.bytes / p.seconds / 1e9;
    }
    priced.push_back(o);
    ++by_method[p.method];
    if (p.method == "roofline" && share > 0.01) roofline_warnings.push_back({{"op", p.op}, {"share_of_step", share}});
    if (p.method == "bandwidth") bandwidth_share += share;
  }
  j["priced_ops"] = priced;
  j["pricing"] = {{"by_method", by_method},
                  {"roofline_over_1pct_of_step", roofline_warnings},
                  {"bandwidth_share_of_step", bandwidth_share},
                  {"note", "measured: a profile entry at the exact shape; interpolated: from measured entries; "
                           "published: from published entries (their source in each op's); bandwidth: a memory-bound "
                           "op without an entry at the measured copy bandwidth; roofline: a GEMM or attention without "
                           "data, at its lower bound"}};
  return j;
}

}  // namespace mhc
