#include "graph/step_graph.h"

#include <algorithm>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <tuple>
#include <utility>

namespace mhc {

namespace {

const StageCost& at(const PipelineCostTable& c, int stage) { return c.stages.at(static_cast<size_t>(stage)); }

double a2a_bytes(const PipelineCostTable& c, const ScheduledTask& t) {
  switch (t.phase) {
    case Phase::F: return at(c, t.stage).a2a_bytes_forward;
    case Phase::B:
    case Phase::BW: return at(c, t.stage).a2a_bytes_backward;
    case Phase::FB: return at(c, t.stage).a2a_bytes_forward + at(c, t.stage2).a2a_bytes_backward;
    default: return 0.0;
  }
}

// The all-to-all's bytes by link class: its data, or (wire) what they cost the links at their rates.
LinkBytes a2a_links(const PipelineCostTable& c, const ScheduledTask& t, bool wire) {
  auto forward = [&](int st) { return wire ? at(c, st).a2a_wire_forward : at(c, st).a2a_links_forward; };
  auto backward = [&](int st) { return wire ? at(c, st).a2a_wire_backward : at(c, st).a2a_links_backward; };
  switch (t.phase) {
    case Phase::F: return forward(t.stage);
    case Phase::B:
    case Phase::BW: return backward(t.stage);
    case Phase::FB: return forward(t.stage) + backward(t.stage2);
    default: return {};
  }
}

// The TP collectives a schedule task's compute waits on, in order.
std::vector<StageCost::TpCollective> tp_collectives(const PipelineCostTable& c, const ScheduledTask& t) {
  std::vector<StageCost::TpCollective> ops;
  auto append = [&ops](const std::vector<StageCost::TpCollective>& v) { ops.insert(ops.end(), v.begin(), v.end()); };
  switch (t.phase) {
    case Phase::F: append(at(c, t.stage).tp_forward); break;
    case Phase::B:
    case Phase::BW: append(at(c, t.stage).tp_backward); break;
    case Phase::FB:
      append(at(c, t.stage).tp_forward);
      append(at(c, t.stage2).tp_backward);
      break;
    default: break;
  }
  return ops;
}

// The input re-gathers that overlap a task's compute: those of the weight gradients it computes.
int tp_regathers(const PipelineCostTable& c, const ScheduledTask& t) {
  switch (t.phase) {
    case Phase::W:
    case Phase::BW: return at(c, t.stage).tp_backward_regathers;
    case Phase::FB: return at(c, t.stage2).tp_backward_regathers;
    default: return 0;
  }
}

// Context parallelism's part of a task: its attention cores (seconds and demand) and the K/V
// exchanges they need, all-gathers and gradient reduce-scatters, their bytes summed over the cores.
struct CpPart {
  double seconds = 0;
  GpuDemand demand;
  double gather_bytes = 0, scatter_bytes = 0;
};

CpPart cp_part(const PipelineCostTable& c, const ScheduledTask& t) {
  CpPart p;
  auto add = [&p](const PhaseCost& phase, double gather, double scatter) {
    p.seconds += phase.attention_seconds;
    p.demand.sm_seconds += phase.attention_demand.sm_seconds;
    p.demand.hbm_bytes += phase.attention_demand.hbm_bytes;
    p.gather_bytes += gather, p.scatter_bytes += scatter;
  };
  auto forward = [&](int st) { const StageCost& sc = at(c, st); add(sc.F, sc.cp_kv_bytes * sc.cp_gathers_forward, 0); };
  auto backward = [&](int st) {
    const StageCost& sc = at(c, st);
    add(sc.B, sc.cp_kv_bytes * sc.cp_gathers_backward, sc.cp_kv_bytes * sc.cp_scatters_backward);
  };
  switch (t.phase) {
    case Phase::F: forward(t.stage); break;
    case Phase::B:
    case Phase::BW: backward(t.stage); break;
    case Phase::FB: forward(t.stage), backward(t.stage2); break;
    default: break;
  }
  return p;
}

double high_priority_seconds(const PipelineCostTable& c, const ScheduledTask& t) {
  return t.phase == Phase::FB ? at(c, t.stage).F.high_priority_seconds + at(c, t.stage2).B.high_priority_seconds : 0.0;
}

GpuDemand high_priority_demand(const PipelineCostTable& c, const ScheduledTask& t) {
  GpuDemand d;
  if (t.phase != Phase::FB) return d;
  for (const GpuDemand* x : {&at(c, t.stage).F.high_priority_demand, &at(c, t.stage2).B.high_priority_demand})
    d.sm_seconds += x->sm_seconds, d.hbm_bytes += x->hbm_bytes;
  return d;
}

// A compute node's demands from its kernels' (the time-weighted mean SM share over its seconds).
void set_demand(TaskNode& node, const GpuDemand& d) {
  node.sm_share = node.seconds > 0 ? std::clamp(d.sm_seconds / node.seconds, 0.0, 1.0) : 1.0;
  node.hbm_bytes = std::max(0.0, d.hbm_bytes);
}

// Where a new graph's edges attach for one node of the pipeline graph. `outputs` are the exits a
// pipeline transfer of the task's activation (or gradient) waits for: every exit but an overlapped
// pair's all-to-all. A DualPipe pair runs its all-to-all beside its compute, each half's dispatch and
// combine hidden behind the other half's compute (DeepSeek-V3, arXiv 2412.19437, sec. 3.2.1 and
// Fig. 4), so the chunk it sends is ready when the compute that produces it ends; the rank's next
// task still waits for the whole pair. A task that runs its all-to-all after its compute (not
// overlapped) has its last combine on the way to its output, so its transfer waits for it.
struct Ends {
  std::vector<TaskId> entries, exits, outputs;
};

TaskId add_node(TaskGraph& g, TaskNode node) { return boost::add_vertex(std::move(node), g); }

// ZeRO-3 as torchtitan runs it with FSDP2 (pytorch/torchtitan @820504e torchtitan/models/llama3/
// parallelize_llama.py L339-367, the commit of its published benchmarks): one FSDP unit per
// transformer block plus the root (the model: embedding, final norm, head). A unit's parameters are
// all-gathered before it computes when sharded; a block reshards after its forward as the policy
// says (fsdp_reshard_after_forward "default": with PP none, else every block but the model's last,
// "since FSDP would prefetch it immediately"), the root never (FSDP2's _lazy_init sets the root's
// post_forward_mesh_info to None: "the parameters would be freed and all-gathered immediately").
// Without PP, after a unit's backward its gradients are reduce-scattered and it reshards, every
// micro-batch (torchtitan train.py @820504e L407, L423: loss.backward() per micro-batch, no no_sync).
// With PP every backward runs without gradient sync or resharding (torch/distributed/pipelining/
// stage.py backward_maybe_with_nosync: set_requires_gradient_sync(False), set_reshard_after_backward
// (False)) and _post_backward reduce-scatters every unit once the backwards are done: here after the
// stage's last backward.
struct FsdpPiece {
  int unit = 0;                  // block index in the stage
  std::vector<int> gathers;      // units all-gathered before it computes (root = blocks count)
  std::vector<int> reduces;      // units reduce-scattered after it
};

// Pieces of every task of one rank, in its task order (empty: a task not split).
std::vector<std::vector<FsdpPiece>> fsdp_plan(const Scenario& s, const Schedule& schedule,
                                              const PipelineCostTable& costs, int r) {
  const auto& tasks = schedule.per_rank[r];
  std::vector<std::vector<FsdpPiece>> plan(tasks.size());
  const bool pp = schedule.ranks > 1 || schedule.chunks_per_rank > 1;
  const std::string& policy = s.parallel.fsdp_reshard_after_forward;
  std::map<int, std::vector<bool>> gathered;  // by stage: blocks then root
  std::map<int, int> last_backward;           // by stage: index of the rank's last backward of it
  for (int i = 0; i < static_cast<int>(tasks.size()); ++i)
    if (tasks[i].phase == Phase::BW) last_backward[tasks[i].stage] = i;
  for (int i = 0; i < static_cast<int>(tasks.size()); ++i) {
    const ScheduledTask& t = tasks[i];
    if (t.phase != Phase::F && t.phase != Phase::BW) continue;
    const StageCost& sc = at(costs, t.stage);
    const int L = static_cast<int>(sc.fsdp_block_params.size());
    if (L == 0) continue;
    const int root = L;
    auto& g = gathered.try_emplace(t.stage, std::vector<bool>(L + 1, false)).first->second;
    const bool has_root = sc.fsdp_root_params > 0;
    auto gather = [&](FsdpPiece& p, int u) {
      if (!g[u]) p.gathers.push_back(u), g[u] = true;
    };
    if (t.phase == Phase::F) {
      const int64_t first_layer = s.parallel.first_layer(t.stage);
      for (int u = 0; u < L; ++u) {
        FsdpPiece p;
        p.unit = u;
        if (u == 0 && has_root) gather(p, root);
        gather(p, u);
        const bool reshard = policy == "always" ||
                             (policy == "default" && !pp && first_layer + u < s.model.layers - 1);
        if (reshard) g[u] = false;
        plan[i].push_back(p);
      }
    } else {
      const bool last = last_backward[t.stage] == i;
      for (int u = L - 1; u >= 0; --u) {
        FsdpPiece p;
        p.unit = u;
        if (u == L - 1 && has_root) gather(p, root);
        gather(p, u);
        if (!pp) p.reduces.push_back(u), g[u] = false;
        if (u == 0 && pp && last)
          for (int w = L - 1; w >= 0; --w) p.reduces.push_back(w), g[w] = false;
        if (u == 0 && has_root && (!pp || last)) p.reduces.push_back(root), g[root] = false;
        plan[i].push_back(p);
      }
    }
  }
  return plan;
}

// ZeRO-1/2 gradient reduction overlapped with the backward, as Megatron-LM's DistributedDataParallel
// does with overlap_grad_reduce (NVIDIA/Megatron-LM @d98e8a6 megatron/core/distributed/
// distributed_data_parallel.py L131-171): gradients are grouped into buckets of about bucket_size
// parameters (default max(40M, 1M x dp), L134), in the reverse of the parameters' order, the order the
// backward produces them (param_and_grad_buffer.py L955-986: a bucket closes once it holds
// bucket_size); a bucket's reduction starts when its last gradient is ready, during the last
// micro-batch's backward (gradient accumulation runs under no_sync until then). Only the first
// pipeline rank's first model chunk is bucketed: every other stage gets one bucket (L170, "data-
// parallel communication on these stages is not on the critical path"; interleaved schedules pass
// disable_bucketing for chunks after the first), which is the single reduction after the stage's
// last backward built below. Buckets close on layer boundaries here (a layer larger than a bucket is
// one bucket, where Megatron would close several inside it, ready a little apart).
struct DpBuckets {
  int rank = -1, task = -1, stage = -1;  // the task split into layers, and its stage
  std::vector<double> bytes;             // each bucket's gradient bytes, in issue order
  std::vector<int> piece;                // the piece (backward order: layer L-1 first) completing it
};

DpBuckets dp_buckets(const Scenario& s, const Schedule& schedule, const PipelineCostTable& costs, bool moe) {
  DpBuckets out;
  if (!s.parallel.dp_overlap_grad_reduce || s.parallel.dp_cp() < 2 || schedule.ranks < 1) return out;
  const int stage = schedule.stage_of_chunk[0][0];
  int holders = 0;
  for (int r = 0; r < schedule.ranks; ++r)
    for (int c = 0; c < schedule.chunks_per_rank; ++c) holders += schedule.stage_of_chunk[r][c] == stage;
  int last = -1;
  for (int i = 0; i < static_cast<int>(schedule.per_rank[0].size()); ++i) {
    const auto& t = schedule.per_rank[0][i];
    if (((t.phase == Phase::W || t.phase == Phase::BW) && t.chunk == 0) || (t.phase == Phase::FB && t.chunk2 == 0))
      last = i;
  }
  // Split only a plain weight-gradient task of a stage held once: a DualPipe pair (FB), a task with
  // an all-to-all, or a stage whose copies reduce together keeps the single reduction.
  if (last < 0 || holders != 1) return out;
  const ScheduledTask& t = schedule.per_rank[0][last];
  const StageCost& sc = at(costs, stage);
  const int L = static_cast<int>(sc.grad_bytes_layers.size());
  if ((t.phase != Phase::W && t.phase != Phase::BW) || (moe && a2a_bytes(costs, t) > 0) || L == 0 ||
      sc.grad_bytes_replicated <= 0)
    return out;
  double layers = 0;
  for (double b : sc.grad_bytes_layers) layers += b;
  const double embedding = std::max(0.0, sc.grad_bytes_replicated - layers - sc.grad_bytes_head);
  const double bucket_bytes = 2.0 * s.parallel.dp_bucket_size();  // bf16 gradients
  double open = 0;
  for (int k = 0; k < L; ++k) {
    open += sc.grad_bytes_layers[size_t(L - 1 - k)] + (k == 0 ? sc.grad_bytes_head : 0.0) +
            (k == L - 1 ? embedding : 0.0);
    if (open >= bucket_bytes || k == L - 1) {
      if (open > 0) out.bytes.push_back(open), out.piece.push_back(k);
      open = 0;
    }
  }
  out.rank = 0, out.task = last, out.stage = stage;
  return out;
}

}  // namespace

GpuDemand task_demand(const PipelineCostTable& c, const ScheduledTask& t) {
  GpuDemand d;
  auto add = [&d](const PhaseCost& p) { d.sm_seconds += p.demand.sm_seconds, d.hbm_bytes += p.demand.hbm_bytes; };
  switch (t.phase) {
    case Phase::F: add(at(c, t.stage).F); break;
    case Phase::B: add(at(c, t.stage).B); break;
    case Phase::W: add(at(c, t.stage).W); break;
    case Phase::BW: add(at(c, t.stage).B), add(at(c, t.stage).W); break;
    case Phase::FB: add(at(c, t.stage).F), add(at(c, t.stage2).B), add(at(c, t.stage2).W); break;
    default: break;
  }
  return d;
}

double task_compute_seconds(const PipelineCostTable& c, const ScheduledTask& t) {
  switch (t.phase) {
    case Phase::F: return at(c, t.stage).F.seconds;
    case Phase::B: return at(c, t.stage).B.seconds;
    case Phase::W: return at(c, t.stage).W.seconds;
    case Phase::BW: return at(c, t.stage).B.seconds + at(c, t.stage).W.seconds;
    case Phase::FB: return at(c, t.stage).F.seconds + at(c, t.stage2).B.seconds + at(c, t.stage2).W.seconds;
    default: return 0.0;
  }
}

StepLayout step_layout(const Scenario& s, const Schedule& schedule) {
  StepLayout l;
  const int dp = s.parallel.dp, tp = s.parallel.tp, cp = s.parallel.cp, stride = s.parallel.replica_gpus();
  for (int r = 0; r < schedule.ranks; ++r) {
    const int base = r * dp * stride;
    l.gpu_of_rank.push_back(base);
    std::vector<int> dpg;  // TP rank 0 of every CP rank of every replica
    for (int d = 0; d < dp; ++d)
      for (int c = 0; c < cp; ++c) dpg.push_back(base + d * stride + c * tp);
    l.dp_group.push_back(dpg);
  }
  return l;
}

StepGraph build_step_graph(const Scenario& s, const Schedule& schedule, const PipelineCostTable& costs,
                           const StepGraphOptions& options) {
  StepGraph out;
  out.layout = step_layout(s, schedule);
  out.ranks = schedule.ranks;
  const bool hp_stream = s.mhc.high_priority_stream;
  const bool moe = options.with_collectives && s.model.ffn.kind == FfnSpec::Kind::moe && s.parallel.ep > 1;
  const int tp = s.parallel.tp, stride = s.parallel.replica_gpus();
  const int replicas = options.all_replicas ? s.parallel.dp : 1;
  const bool tp_comm = options.with_collectives && tp > 1;

  PipelineCosts pc;
  pc.seconds = [&](int, const ScheduledTask& t) { return task_compute_seconds(costs, t); };
  // A forward send leaves stage t.stage for the next; a backward one leaves it for the previous.
  pc.transfer_bytes = [&](int, int, const ScheduledTask& t) {
    const int lower = t.phase == Phase::F ? t.stage : t.stage - 1;
    return costs.pp_bytes_after_stage.at(static_cast<size_t>(lower));
  };

  // GPUs of replica d's EP group (ParallelSpec::ep_spans_tp: one GPU of each of ep replicas, or
  // every TP rank of ep / tp replicas), and TP rank 0 of the replicas that hold the same experts as d
  // (each TP rank has its own expert-DP group; the graph holds TP rank 0, run.cpp counts the rest).
  const int ep_replicas = s.parallel.ep_replicas();
  const bool ep_spans_tp = s.parallel.ep_spans_tp();
  auto ep_group = [&](int r, int d) {
    std::vector<int> g;
    const int first = (d / ep_replicas) * ep_replicas;
    for (int j = 0; j < ep_replicas; ++j)
      for (int t = 0; t < (ep_spans_tp ? tp : 1); ++t) g.push_back(out.layout.gpu_of_rank[r] + (first + j) * stride + t);
    return g;
  };
  auto expert_dp_group = [&](int r, int d) {
    std::vector<int> g;
    for (int k = 0; k < s.parallel.dp / ep_replicas; ++k)
      g.push_back(out.layout.gpu_of_rank[r] + (d % ep_replicas + k * ep_replicas) * stride);
    return g;
  };

  // The TP group of rank r in replica d: its tp consecutive GPUs (inside one node, checked on load).
  auto tp_group = [&](int r, int d) {
    std::vector<int> g(tp);
    std::iota(g.begin(), g.end(), out.layout.gpu_of_rank[r] + d * stride);
    return g;
  };

  // The CP group of rank r in replica d: TP rank 0 of each of its cp TP groups.
  const int cp = s.parallel.cp;
  const bool cp_comm = options.with_collectives && cp > 1;
  auto cp_group = [&](int r, int d) {
    std::vector<int> g;
    for (int c = 0; c < cp; ++c) g.push_back(out.layout.gpu_of_rank[r] + d * stride + c * tp);
    return g;
  };

  TaskGraph& g = out.graph;
  // ZeRO-3 over a real sharding group: every forward and full backward split into its blocks, with
  // the FSDP all-gathers and reduce-scatters around them.
  const bool fsdp = options.with_collectives && s.parallel.zero_stage == 3 && s.parallel.dp_cp() > 1;
  std::vector<std::vector<std::vector<FsdpPiece>>> plans(schedule.ranks);
  if (fsdp)
    for (int r = 0; r < schedule.ranks; ++r) plans[r] = fsdp_plan(s, schedule, costs, r);
  // pieces[d][r][i]: the compute node of each piece of task i of rank r in replica d.
  std::vector<std::vector<std::vector<std::vector<TaskId>>>> pieces(
      replicas, std::vector<std::vector<std::vector<TaskId>>>(schedule.ranks));
  for (int d = 0; d < replicas; ++d)
    for (int r = 0; r < schedule.ranks; ++r) pieces[d][r].resize(schedule.per_rank[r].size());
  std::vector<std::vector<TaskId>> fsdp_reduces(costs.stages.size());  // the optimizer waits for them
  const DpBuckets buckets = options.with_collectives && !fsdp ? dp_buckets(s, schedule, costs, moe) : DpBuckets{};
  std::vector<PipelineGraph> pipes;
  std::vector<std::vector<Ends>> ends(replicas);
  // The all-to-all of (EP group, rank, task index), shared by the group's replicas.
  std::map<std::tuple<int, int, int>, TaskId> a2a_of;
  for (int d = 0; d < replicas; ++d) {
    std::vector<int> gpus;
    for (int r = 0; r < schedule.ranks; ++r) gpus.push_back(out.layout.gpu_of_rank[r] + d * stride);
    pipes.push_back(build_pipeline_graph(schedule, pc, gpus));
    const PipelineGraph& pipe = pipes.back();
    const std::string prefix = d == 0 ? "" : "d" + std::to_string(d) + " ";

    // Which schedule task each pipeline-graph vertex is.
    const size_t nv = boost::num_vertices(pipe.graph);
    std::vector<std::pair<int, int>> task_of(nv, {-1, -1});
    for (int r = 0; r < schedule.ranks; ++r)
      for (size_t i = 0; i < pipe.task_vertex[r].size(); ++i) task_of[pipe.task_vertex[r][i]] = {r, static_cast<int>(i)};

    ends[d].resize(nv);
    for (TaskId v = 0; v < nv; ++v) {
      TaskNode node = pipe.graph[v];
      node.name = prefix + node.name;
      auto [r, i] = task_of[v];
      if (r < 0) {  // a pipeline transfer: copied as it is
        TaskId id = add_node(g, node);
        ends[d][v] = {{id}, {id}, {id}};
        continue;
      }
      if (d > 0) node.rank = -1;  // replica 0 stands for the pipeline in per-rank statistics
      const ScheduledTask& t = schedule.per_rank[r][i];
      GpuDemand demand = task_demand(costs, t);
      // Context parallelism: the attention cores become their own node (below), beside or after the
      // K/V exchange; the task's node keeps the rest.
      const CpPart cpt = cp_comm ? cp_part(costs, t) : CpPart{};
      const bool cp_task = cpt.gather_bytes > 0 && cpt.seconds > 0;
      if (cp_task) {
        node.seconds -= cpt.seconds;
        demand.sm_seconds -= cpt.demand.sm_seconds;
        demand.hbm_bytes -= cpt.demand.hbm_bytes;
      }
      const double bytes = moe ? a2a_bytes(costs, t) : 0.0;
      std::optional<TaskId> a;
      if (bytes > 0) {
        auto key = std::make_tuple(d / ep_replicas, r, i);
        auto it = a2a_of.find(key);
        if (it == a2a_of.end()) {
          TaskNode a2a;
          a2a.kind = NodeKind::collective;
          a2a.op = CollectiveOp::all_to_all;
          a2a.group = ep_group(r, d);
          a2a.bytes = bytes;
          if (s.parallel.ep_all_to_all == "rail") {
            const LinkBytes links = a2a_links(costs, t, false), wire = a2a_links(costs, t, true);
            a2a.rail_network_bytes = links.network;
            a2a.rail_nvlink_bytes = links.nvlink;
            if (wire.network > 0) a2a.rail_network_efficiency = links.network / wire.network;
            if (wire.nvlink > 0) a2a.rail_nvlink_efficiency = links.nvlink / wire.nvlink;
          }
          a2a.stream = Stream::comm;
          a2a.gpu = node.gpu;
          a2a.category = "ep";
          a2a.name = all_to_all_name(node.name);
          a2a.rank = d == 0 ? r : -1;
          it = a2a_of.emplace(key, add_node(g, a2a)).first;
        }
        a = it->second;
      }
      if (t.phase == Phase::FB) {
        // Overlapped pair: compute, all-to-all and (optionally) the high-priority kernels side by side.
        const double hp = hp_stream ? high_priority_seconds(costs, t) : 0.0;
        const GpuDemand hp_demand = hp_stream ? high_priority_demand(costs, t) : GpuDemand{};
        node.seconds -= hp;
        demand.sm_seconds -= hp_demand.sm_seconds;
        demand.hbm_bytes -= hp_demand.hbm_bytes;
        set_demand(node, demand);
        Ends e;
        TaskId c = add_node(g, node);
        e.entries.push_back(c);
        e.exits.push_back(c);
        if (a) {
          e.entries.push_back(*a);
          e.exits.push_back(*a);
        }
        e.outputs.push_back(c);
        if (hp > 0) {
          TaskNode h = node;
          h.name += " post-res";
          h.stream = Stream::high_priority;
          h.seconds = hp;
          set_demand(h, hp_demand);
          h.category = "mhc";
          h.phase = Phase::none;  // the FB node itself carries the schedule identity
          TaskId hid = add_node(g, h);
          e.entries.push_back(hid);
          e.exits.push_back(hid);
          e.outputs.push_back(hid);
        }
        ends[d][v] = e;
      } else if (a) {
        set_demand(node, demand);
        TaskId c = add_node(g, node);
        boost::add_edge(c, *a, g);
        // Successors wait for both; the edge from c keeps the stream order visible as a compute
        // predecessor, so waiting on the all-to-all is charged to it and not to time zero.
        ends[d][v] = {{c}, {c, *a}, {c, *a}};
      } else if (fsdp && !plans[r][i].empty()) {
        // The task's blocks one after another, each an equal share of its compute (the embedding's and
        // head's time spread over them).
        const auto& plan = plans[r][i];
        const double share = 1.0 / static_cast<double>(plan.size());
        set_demand(node, demand);
        std::vector<TaskId>& ids = pieces[d][r][i];
        for (const FsdpPiece& p : plan) {
          TaskNode piece = node;
          piece.seconds = node.seconds * share;
          piece.hbm_bytes = node.hbm_bytes * share;
          piece.unit = p.unit;
          piece.name = node.name + " L" + std::to_string(p.unit);
          TaskId id = add_node(g, piece);
          if (!ids.empty()) boost::add_edge(ids.back(), id, g);
          ids.push_back(id);
        }
        ends[d][v] = {{ids.front()}, {ids.back()}, {ids.back()}};
      } else if (r == buckets.rank && i == buckets.task) {
        // The stage's last weight-gradient task, its layers one after another in backward order (an
        // equal share each), so each DP bucket can start when its layers are done.
        set_demand(node, demand);
        const int L = static_cast<int>(at(costs, t.stage).grad_bytes_layers.size());
        std::vector<TaskId>& ids = pieces[d][r][i];
        for (int u = L - 1; u >= 0; --u) {
          TaskNode piece = node;
          piece.seconds = node.seconds / L;
          piece.hbm_bytes = node.hbm_bytes / L;
          piece.unit = u;
          piece.name = node.name + " L" + std::to_string(u);
          TaskId id = add_node(g, piece);
          if (!ids.empty()) boost::add_edge(ids.back(), id, g);
          ids.push_back(id);
        }
        ends[d][v] = {{ids.front()}, {ids.back()}, {ids.back()}};
      } else {
        set_demand(node, demand);
        TaskId c = add_node(g, node);
        ends[d][v] = {{c}, {c}, {c}};
      }
      // A collective of this task over `group` on the communication stream, named after the task.
      auto task_collective = [&](const std::string& category, std::vector<int> group, CollectiveOp op, double bytes,
                                 const std::string& what) {
        TaskNode c;
        c.kind = NodeKind::collective;
        c.op = op;
        c.group = std::move(group);
        c.bytes = bytes;
        c.stream = Stream::comm;
        c.gpu = node.gpu;
        c.category = category;
        c.name = node.name + " " + category + " " + what;
        c.rank = d == 0 ? r : -1;
        return add_node(g, c);
      };
      // Tensor parallelism with sequence parallelism: the task's all-gathers and reduce-scatters, one
      // after another after its compute. In a real step each blocks the GEMM that follows it, and
      // Megatron's default schedule does not overlap them, so they are modelled as blocking: the
      // chain adds its full time to the task (the order inside the task does not change its length).
      // With tp_comm_overlap each is split as the GEMM is (tp chunks): the first chunk of an
      // all-gather (the last of a reduce-scatter) still blocks, the other tp - 1 run on the
      // communication stream beside the compute, from its start; the task ends when both have.
      if (tp_comm) {
        const bool overlap = s.parallel.tp_comm_overlap;
        auto tp_node = [&](CollectiveOp op, double bytes, const std::string& what) {
          return task_collective("tp", tp_group(r, d), op, bytes, what);
        };
        // The task's compute node, or its FSDP blocks: then each block is followed by its even share
        // of the chain (the layers' collectives are alike; the embedding's and head's land on the
        // first and last blocks' shares), which the next block waits for, so the blocks' reduce-
        // scatters and prefetches see the TP time where it is spent.
        const std::vector<TaskId> ps =
            pieces[d][r][i].empty() ? std::vector<TaskId>{ends[d][v].entries.front()} : pieces[d][r][i];
        const std::vector<StageCost::TpCollective> ops = tp_collectives(costs, t);
        auto label = [&](size_t k) {
          return std::to_string(k) + (ops[k].op == CollectiveOp::all_gather ? " ag" : " rs");
        };
        size_t cp = 0;
        TaskId prev = ps[0];
        auto advance_to = [&](size_t piece) {
          for (; cp < piece; ++cp) {
            if (prev != ps[cp]) boost::add_edge(prev, ps[cp + 1], g);
            prev = ps[cp + 1];
          }
        };
        const double blocking = overlap ? 1.0 / tp : 1.0;
        for (size_t k = 0; k < ops.size(); ++k) {
          advance_to(k * ps.size() / ops.size());
          TaskId id = tp_node(ops[k].op, ops[k].bytes * blocking, label(k));
          boost::add_edge(prev, id, g);
          prev = id;
        }
        advance_to(ps.size() - 1);
        if (prev != ps.back()) ends[d][v].exits.push_back(prev), ends[d][v].outputs.push_back(prev);
        if (overlap && !ops.empty()) {  // the overlapped chunks, one collective after another
          std::optional<TaskId> last;
          for (size_t k = 0; k < ops.size(); ++k) {
            const TaskId id = tp_node(ops[k].op, ops[k].bytes * (1.0 - blocking), label(k) + " overlapped");
            if (last) boost::add_edge(*last, id, g);
            else ends[d][v].entries.push_back(id);
            last = id;
          }
          ends[d][v].exits.push_back(*last), ends[d][v].outputs.push_back(*last);
        }
        // The weight-gradient input re-gathers start with the task's compute and run beside it (one
        // after another on the communication stream); successors wait for them too.
        const int regathers = tp_regathers(costs, t);
        for (int i = 0; i < regathers; ++i) {
          TaskId id = tp_node(CollectiveOp::all_gather, costs.tp_bytes_per_collective, "regather " + std::to_string(i));
          if (i == 0)
            ends[d][v].entries.push_back(id);
          else
            boost::add_edge(prev, id, g);
          prev = id;
        }
        if (regathers > 0) ends[d][v].exits.push_back(prev), ends[d][v].outputs.push_back(prev);
      }
      // The attention cores after the rest of the task (within a layer they sit between the QKV and
      // output projections; a chunk's layers are alike, so the task's length is the same). "p2p": the
      // ring's K/V (backward: K/V, then their gradients) on the communication stream beside the first
      // cp - 1 of the cp blocks of attention, each step hidden behind one block
      // (TransformerEngine's AttnFuncWithCPAndKVP2P; PyTorch's ring attention likewise), the last
      // block after the last step. "all_gather": K/V gathered before the attention (and their
      // gradients reduce-scattered after its backward), on the critical path (Llama 3, arXiv
      // 2407.21783 sec. 3.3.2: "the all-gather communication latency is exposed").
      if (cp_task) {
        TaskNode att = node;
        att.seconds = cpt.seconds;
        set_demand(att, cpt.demand);
        att.name = node.name + " attn";
        att.phase = Phase::none;  // the task's node carries the schedule identity
        att.unit = -1;
        auto cp_node = [&](CollectiveOp op, double bytes, const std::string& what) {
          return task_collective("cp", cp_group(r, d), op, bytes, what);
        };
        const std::vector<TaskId> before = ends[d][v].exits;
        const bool ring = s.parallel.cp_comm == "p2p";
        // Ring step i's transfer hides behind block i's attention; the last block waits for the last
        // transfer: max((cp - 1) / cp x A, ring) + A / cp. In the backward the gradients' transfers
        // follow the K/V ones on the same stream.
        TaskNode tail = att;
        if (ring) {
          tail.seconds = att.seconds / cp;
          tail.hbm_bytes = att.hbm_bytes / cp;
          tail.name = node.name + " attn last block";
          att.seconds -= tail.seconds;
          att.hbm_bytes -= tail.hbm_bytes;
        }
        const TaskId a = add_node(g, att);
        const TaskId kv = cp_node(CollectiveOp::all_gather, cpt.gather_bytes, "kv");
        std::optional<TaskId> dkv;
        if (cpt.scatter_bytes > 0) dkv = cp_node(CollectiveOp::reduce_scatter, cpt.scatter_bytes, "dkv");
        std::vector<TaskId> last;
        if (ring) {
          const TaskId b = add_node(g, tail);
          for (TaskId x : before) boost::add_edge(x, a, g), boost::add_edge(x, kv, g);
          boost::add_edge(a, b, g), boost::add_edge(kv, b, g);
          if (dkv) boost::add_edge(kv, *dkv, g);
          last = {b};
          if (dkv) last.push_back(*dkv);
        } else {
          // The edges from `before` to the attention keep the stream order visible to it (a wait
          // on the gather is then charged from the end of the compute before it, not from time zero).
          for (TaskId x : before) boost::add_edge(x, kv, g), boost::add_edge(x, a, g);
          boost::add_edge(kv, a, g);
          if (dkv) boost::add_edge(a, *dkv, g);
          last = {a};
          if (dkv) last.push_back(*dkv);
        }
        ends[d][v].exits = last;
        ends[d][v].outputs = last;
      }
    }
    for (auto [e, end] = boost::edges(pipe.graph); e != end; ++e) {
      TaskId u = boost::source(*e, pipe.graph), v = boost::target(*e, pipe.graph);
      const bool sends = task_of[v].first < 0 && pipe.graph[v].kind == NodeKind::transfer;
      for (TaskId x : sends ? ends[d][u].outputs : ends[d][u].exits)
        for (TaskId y : ends[d][v].entries) boost::add_edge(x, y, g);
    }
  }
  if (!options.with_collectives) return out;

  // FSDP collectives over the rank's DP (sharding) group, one node for all replicas (they move in
  // lockstep). All-gathers of bf16 parameters (torchtitan's mixed_precision_param default
  // "bfloat16", config_manager.py @820504e L221; float8 all-gather is off by default, L475) run in
  // issue order on their own stream, each before the block that needs it; FSDP2 keeps one
  // all-gather ahead of the compute (its implicit forward prefetch and default backward prefetch),
  // so the one for piece k waits for piece k-2 to end: the block computing and the one prefetched are
  // all that is gathered. Reduce-scatters of fp32 gradients (mixed_precision_reduce "float32", L227)
  // follow each block's backward, in order on their own stream.
  if (fsdp)
    for (int r = 0; r < schedule.ranks; ++r) {
      std::vector<std::pair<int, int>> order;  // (task, piece) in the rank's issue order
      for (size_t i = 0; i < plans[r].size(); ++i)
        for (size_t k = 0; k < plans[r][i].size(); ++k) order.emplace_back(int(i), int(k));
      std::optional<TaskId> last_gather, last_reduce;
      auto collective = [&](CollectiveOp op, double bytes, const std::string& name, int chunk) {
        TaskNode n;
        n.kind = NodeKind::collective;
        n.op = op;
        n.group = out.layout.dp_group[r];
        n.bytes = bytes;
        n.stream = Stream::comm;
        n.gpu = out.layout.gpu_of_rank[r];
        n.category = "fsdp";
        n.rank = r;
        n.chunk = chunk;
        n.name = name;
        return add_node(g, n);
      };
      for (size_t q = 0; q < order.size(); ++q) {
        const auto [i, k] = order[q];
        const ScheduledTask& t = schedule.per_rank[r][i];
        const StageCost& sc = at(costs, t.stage);
        const FsdpPiece& p = plans[r][i][k];
        const int L = static_cast<int>(sc.fsdp_block_params.size());
        auto params = [&](int u) { return u == L ? sc.fsdp_root_params : sc.fsdp_block_params[size_t(u)]; };
        auto unit_name = [&](int u) { return u == L ? std::string("root") : "L" + std::to_string(u); };
        const std::string task_name = pipes[0].graph[pipes[0].task_vertex[r][i]].name;
        for (int u : p.gathers) {
          TaskId id = collective(CollectiveOp::all_gather, 2.0 * params(u), task_name + " fsdp ag " + unit_name(u), t.chunk);
          if (last_gather) boost::add_edge(*last_gather, id, g);
          last_gather = id;
          if (q >= 2)
            for (int d = 0; d < replicas; ++d)
              boost::add_edge(pieces[d][r][order[q - 2].first][size_t(order[q - 2].second)], id, g);
          for (int d = 0; d < replicas; ++d) boost::add_edge(id, pieces[d][r][i][size_t(k)], g);
        }
        for (int u : p.reduces) {
          TaskId id = collective(CollectiveOp::reduce_scatter, 4.0 * params(u), task_name + " fsdp rs " + unit_name(u), t.chunk);
          if (last_reduce) boost::add_edge(*last_reduce, id, g);
          last_reduce = id;
          for (int d = 0; d < replicas; ++d) boost::add_edge(pieces[d][r][i][size_t(k)], id, g);
          fsdp_reduces[size_t(t.stage)].push_back(id);
        }
      }
    }

  // Data-parallel gradient reduction of each model stage once its last weight gradient is done on every
  // GPU holding a copy of it (ZeRO-1/2: reduce-scatter then all-gather, the volume of one all-reduce).
  // DualPipe places every stage on two ranks (r and P-1-r): both copies' gradients join one reduction,
  // which is how the two parameter copies stay identical.
  struct Holder {
    int rank, chunk, last_task;
  };
  std::map<int, std::vector<Holder>> holders;  // by stage, in rank order
  for (int r = 0; r < schedule.ranks; ++r)
    for (int c = 0; c < schedule.chunks_per_rank; ++c) {
      int last = -1;
      for (int i = 0; i < static_cast<int>(schedule.per_rank[r].size()); ++i) {
        const auto& t = schedule.per_rank[r][i];
        if (((t.phase == Phase::W || t.phase == Phase::BW) && t.chunk == c) || (t.phase == Phase::FB && t.chunk2 == c))
          last = i;
      }
      if (last >= 0) holders[schedule.stage_of_chunk[r][c]].push_back({r, c, last});
    }
  for (const auto& [stage, copies] : holders) {
    const StageCost& sc = at(costs, stage);
    // `group_of(rank)` gives the GPUs of the copy a holding rank has; the reduction spans every copy.
    std::vector<TaskId> reductions;  // the optimizer step waits for them
    // `after`: what it waits for, when not the holders' last weight-gradient tasks (a DP bucket).
    auto add_reduce = [&](double bytes, const std::function<std::vector<int>(int)>& group_of,
                          const std::vector<int>& members, const std::string& what,
                          const std::vector<TaskId>* after = nullptr) {
      std::vector<int> group;
      for (const Holder& h : copies)
        for (int gpu : group_of(h.rank)) group.push_back(gpu);
      if (bytes <= 0 || group.size() < 2) return;
      TaskNode n;
      n.kind = NodeKind::collective;
      n.op = CollectiveOp::all_reduce;
      n.group = group;
      n.bytes = bytes;
      n.stream = Stream::comm;
      n.gpu = group.front();
      n.category = "dp";
      n.rank = copies.front().rank;
      n.chunk = copies.front().chunk;
      const std::string copies_text = copies.size() > 1 ? " (" + std::to_string(copies.size()) + " copies)" : "";
      n.name = "dp stage " + std::to_string(stage) + copies_text + " " + what;
      TaskId id = add_node(g, n);
      reductions.push_back(id);
      if (after) {
        for (TaskId x : *after) boost::add_edge(x, id, g);
        return;
      }
      for (const Holder& h : copies)
        for (int d : members)
          for (TaskId x : ends[d][pipes[d].task_vertex[h.rank][h.last_task]].exits) boost::add_edge(x, id, g);
    };
    std::vector<int> all(replicas);
    std::iota(all.begin(), all.end(), 0);
    // ZeRO-3: the gradients were reduce-scattered block by block after their backward (above), and
    // the parameters stay sharded until the next step's all-gathers.
    if (fsdp) reductions = fsdp_reduces[size_t(stage)];
    auto dp_group_of = [&](int r) { return out.layout.dp_group[r]; };
    if (!fsdp && stage != buckets.stage) add_reduce(sc.grad_bytes_replicated, dp_group_of, all, "grads");
    // Overlapped buckets: each starts once the piece that completes it has ended in every replica,
    // after the one before it (Megatron issues them in order on one stream).
    if (!fsdp && stage == buckets.stage)
      for (size_t b = 0; b < buckets.bytes.size(); ++b) {
        std::vector<TaskId> after;
        for (int d = 0; d < replicas; ++d) after.push_back(pieces[d][buckets.rank][size_t(buckets.task)][size_t(buckets.piece[b])]);
        if (b > 0 && !reductions.empty()) after.push_back(reductions.back());
        add_reduce(buckets.bytes[b], dp_group_of, all,
                   "grads bucket " + std::to_string(b + 1) + "/" + std::to_string(buckets.bytes.size()), &after);
      }
    // One expert reduction per set of replicas holding the same experts (d, d + ep_replicas, ...).
    for (int j = 0; j < (fsdp ? 0 : std::min(ep_replicas, replicas)); ++j) {
      std::vector<int> members;
      for (int d = j; d < replicas; d += ep_replicas) members.push_back(d);
      add_reduce(sc.grad_bytes_experts, [&](int r) { return expert_dp_group(r, j); }, members,
                 "expert grads" + (j == 0 ? std::string() : " " + std::to_string(j)));
    }
    // The optimizer step of the stage's parameters on every GPU holding a copy, once its gradients
    // are reduced (sc.optimizer_seconds: this GPU's ZeRO shard, memory-bound) and the rank's whole
    // schedule has run: training loops step the optimizer once the pipeline schedule returns
    // (Megatron-LM megatron/training/training.py train_step: forward_backward_func, then
    // optimizer.step(); deepseek-ai/DualPipe examples/example_dualpipe.py @7cb1e5e reads the
    // gradients after DualPipe.step()), so it never co-runs with the rank's other chunk.
    if (sc.optimizer_seconds > 0)
      for (const Holder& h : copies)
        for (int d = 0; d < replicas; ++d) {
          TaskNode n;
          n.kind = NodeKind::compute;
          n.gpu = out.layout.gpu_of_rank[h.rank] + d * stride;
          n.seconds = sc.optimizer_seconds;
          set_demand(n, sc.optimizer_demand);
          n.category = "optimizer";
          n.rank = d == 0 ? h.rank : -1;
          n.chunk = h.chunk;
          n.name = (d == 0 ? "" : "d" + std::to_string(d) + " ") + "r" + std::to_string(h.rank) + " optimizer stage " +
                   std::to_string(stage);
          TaskId id = add_node(g, n);
          for (TaskId r : reductions) boost::add_edge(r, id, g);
          for (TaskId x : ends[d][pipes[d].task_vertex[h.rank][h.last_task]].exits) boost::add_edge(x, id, g);
          for (TaskId x : ends[d][pipes[d].task_vertex[h.rank].back()].exits) boost::add_edge(x, id, g);
        }
  }
  return out;
}

}  // namespace mhc
