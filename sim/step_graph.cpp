#include "step_graph.h"

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

double high_priority_seconds(const PipelineCostTable& c, const ScheduledTask& t) {
  return t.phase == Phase::FB ? at(c, t.stage).F.high_priority_seconds + at(c, t.stage2).B.high_priority_seconds : 0.0;
}

// Where a new graph's edges attach for one node of the pipeline graph.
struct Ends {
  std::vector<TaskId> entries, exits;
};

TaskId add_node(TaskGraph& g, TaskNode node) { return boost::add_vertex(std::move(node), g); }

}  // namespace

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
  const int dp = s.parallel.dp, tp = s.parallel.tp, ep = s.parallel.ep;
  for (int r = 0; r < schedule.ranks; ++r) {
    const int base = r * dp * tp;
    l.gpu_of_rank.push_back(base);
    std::vector<int> dpg, epg, edpg;
    for (int d = 0; d < dp; ++d) dpg.push_back(base + d * tp);
    for (int e = 0; e < ep; ++e) epg.push_back(base + e * tp);
    for (int k = 0; k < dp * tp / ep; ++k) edpg.push_back(base + k * ep);
    l.dp_group.push_back(dpg);
    l.ep_group.push_back(epg);
    l.expert_dp_group.push_back(edpg);
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

  PipelineCosts pc;
  pc.seconds = [&](int, const ScheduledTask& t) { return task_compute_seconds(costs, t); };
  pc.transfer_bytes = [&](int, int, const ScheduledTask&) { return costs.pp_bytes_per_microbatch; };
  PipelineGraph pipe = build_pipeline_graph(schedule, pc, out.layout.gpu_of_rank);

  // Which schedule task each pipeline-graph vertex is.
  const size_t nv = boost::num_vertices(pipe.graph);
  std::vector<std::pair<int, int>> task_of(nv, {-1, -1});
  for (int r = 0; r < schedule.ranks; ++r)
    for (size_t i = 0; i < pipe.task_vertex[r].size(); ++i) task_of[pipe.task_vertex[r][i]] = {r, static_cast<int>(i)};

  TaskGraph& g = out.graph;
  std::vector<Ends> ends(nv);
  for (TaskId v = 0; v < nv; ++v) {
    TaskNode node = pipe.graph[v];
    auto [r, i] = task_of[v];
    if (r < 0) {  // a pipeline transfer: copied as it is
      TaskId id = add_node(g, node);
      ends[v] = {{id}, {id}};
      continue;
    }
    const ScheduledTask& t = schedule.per_rank[r][i];
    const double bytes = moe ? a2a_bytes(costs, t) : 0.0;
    TaskNode a2a;
    a2a.kind = NodeKind::collective;
    a2a.op = CollectiveOp::all_to_all;
    a2a.group = out.layout.ep_group[r];
    a2a.bytes = bytes;
    a2a.stream = Stream::comm;
    a2a.gpu = node.gpu;
    a2a.category = "ep";
    a2a.name = node.name + " a2a";
    a2a.rank = r;
    if (t.phase == Phase::FB) {
      // Overlapped pair: compute, all-to-all and (optionally) the high-priority kernels side by side.
      const double hp = hp_stream ? high_priority_seconds(costs, t) : 0.0;
      node.seconds -= hp;
      Ends e;
      TaskId c = add_node(g, node);
      e.entries.push_back(c);
      e.exits.push_back(c);
      if (bytes > 0) {
        TaskId a = add_node(g, a2a);
        e.entries.push_back(a);
        e.exits.push_back(a);
      }
      if (hp > 0) {
        TaskNode h = node;
        h.name += " post-res";
        h.stream = Stream::high_priority;
        h.seconds = hp;
        h.category = "mhc";
        h.phase = Phase::none;  // the FB node itself carries the schedule identity
        TaskId hid = add_node(g, h);
        e.entries.push_back(hid);
        e.exits.push_back(hid);
      }
      ends[v] = e;
    } else if (bytes > 0) {
      TaskId c = add_node(g, node);
      TaskId a = add_node(g, a2a);
      boost::add_edge(c, a, g);
      // Successors wait for both; the edge from c keeps the stream order visible as a compute
      // predecessor, so waiting on the all-to-all is charged to it and not to time zero.
      ends[v] = {{c}, {c, a}};
    } else {
      TaskId c = add_node(g, node);
      ends[v] = {{c}, {c}};
    }
  }
  for (auto [e, end] = boost::edges(pipe.graph); e != end; ++e) {
    TaskId u = boost::source(*e, pipe.graph), v = boost::target(*e, pipe.graph);
    for (TaskId x : ends[u].exits)
      for (TaskId y : ends[v].entries) boost::add_edge(x, y, g);
  }
  if (!options.with_collectives) return out;

  // Data-parallel gradient reduction of each chunk once its last weight gradient is done (ZeRO-1/2:
  // reduce-scatter then all-gather, the volume of one all-reduce).
  for (int r = 0; r < schedule.ranks; ++r) {
    for (int c = 0; c < schedule.chunks_per_rank; ++c) {
      int last = -1;
      for (int i = 0; i < static_cast<int>(schedule.per_rank[r].size()); ++i) {
        const auto& t = schedule.per_rank[r][i];
        if (((t.phase == Phase::W || t.phase == Phase::BW) && t.chunk == c) || (t.phase == Phase::FB && t.chunk2 == c))
          last = i;
      }
      if (last < 0) continue;
      const StageCost& sc = at(costs, schedule.stage_of_chunk[r][c]);
      auto add_reduce = [&](double bytes, const std::vector<int>& group, const std::string& what) {
        if (bytes <= 0 || group.size() < 2) return;
        TaskNode n;
        n.kind = NodeKind::collective;
        n.op = CollectiveOp::all_reduce;
        n.group = group;
        n.bytes = bytes;
        n.stream = Stream::comm;
        n.gpu = out.layout.gpu_of_rank[r];
        n.category = "dp";
        n.rank = r;
        n.chunk = c;
        n.name = "dp r" + std::to_string(r) + " c" + std::to_string(c) + " " + what;
        TaskId id = add_node(g, n);
        for (TaskId x : ends[pipe.task_vertex[r][last]].exits) boost::add_edge(x, id, g);
      };
      add_reduce(sc.grad_bytes_replicated, out.layout.dp_group[r], "grads");
      add_reduce(sc.grad_bytes_experts, out.layout.expert_dp_group[r], "expert grads");
    }
  }
  return out;
}

}  // namespace mhc
