#include "dag.h"

#include <algorithm>
#include <cstdint>
#include <deque>

namespace mhc {
namespace {

constexpr int64_t kNone = -1;
constexpr size_t kMaxListedProblems = 20;

// Where each (micro-batch, model stage) half-task lives: forward and backward (input gradient).
struct Slots {
  int stages = 0;
  std::vector<int64_t> fwd, bwd;  // vertex or kNone
  std::vector<int32_t> fwd_rank, bwd_rank, fwd_chunk, bwd_chunk;
  Slots(int micro, int stages_)
      : stages(stages_),
        fwd(size_t(micro) * stages_, kNone),
        bwd(fwd.size(), kNone),
        fwd_rank(fwd.size(), -1),
        bwd_rank(fwd.size(), -1),
        fwd_chunk(fwd.size(), -1),
        bwd_chunk(fwd.size(), -1) {}
  size_t at(int m, int s) const { return size_t(m) * stages + s; }
};

void check_range(const Schedule& sch, int rank, const ScheduledTask& t, int micro, int chunk, int stage) {
  const int M = sch.request.micro;
  if (micro < 0 || micro >= M || stage < 0 || stage >= sch.model_stages || chunk < 0 ||
      chunk >= static_cast<int>(sch.stage_of_chunk[rank].size()))
    throw std::invalid_argument("schedule task '" + task_name(rank, t) + "' is outside " + std::to_string(M) +
                                " micro-batches x " + std::to_string(sch.model_stages) + " stages");
}

}  // namespace

PipelineCosts phase_time_costs(const PhaseTimes& times) {
  PipelineCosts c;
  c.seconds = [times](int, const ScheduledTask& t) { return times.seconds(t.phase); };
  return c;
}

PipelineGraph build_pipeline_graph(const Schedule& sch, const PipelineCosts& costs,
                                   const std::vector<int>& gpu_of_rank) {
  if (!costs.seconds) throw std::invalid_argument("build_pipeline_graph: PipelineCosts::seconds is not set");
  if (!gpu_of_rank.empty() && static_cast<int>(gpu_of_rank.size()) < sch.ranks)
    throw std::invalid_argument("build_pipeline_graph: gpu_of_rank has " + std::to_string(gpu_of_rank.size()) +
                                " entries for " + std::to_string(sch.ranks) + " ranks");
  auto gpu = [&](int r) { return gpu_of_rank.empty() ? r : gpu_of_rank[r]; };
  const int S = sch.model_stages;

  // Task k of rank r is vertex offset[r] + k; transfers follow all tasks. Sizing the graph once
  // keeps building linear and free of reallocation (P=64, M=4096 is about a million vertices).
  std::vector<size_t> offset(sch.ranks + 1, 0);
  for (int r = 0; r < sch.ranks; ++r) offset[r + 1] = offset[r] + sch.per_rank[r].size();
  const size_t tasks = offset[sch.ranks];

  // Where every half-task sits (first occurrence; check_graph reports duplicates and gaps).
  Slots slots(sch.request.micro, S);
  for (int r = 0; r < sch.ranks; ++r) {
    const auto& list = sch.per_rank[r];
    for (size_t k = 0; k < list.size(); ++k) {
      const ScheduledTask& t = list[k];
      const auto v = static_cast<int64_t>(offset[r] + k);
      auto put_fwd = [&](int m, int c, int st) {
        check_range(sch, r, t, m, c, st);
        size_t i = slots.at(m, st);
        if (slots.fwd[i] == kNone) slots.fwd[i] = v, slots.fwd_rank[i] = r, slots.fwd_chunk[i] = c;
      };
      auto put_bwd = [&](int m, int c, int st) {
        check_range(sch, r, t, m, c, st);
        size_t i = slots.at(m, st);
        if (slots.bwd[i] == kNone) slots.bwd[i] = v, slots.bwd_rank[i] = r, slots.bwd_chunk[i] = c;
      };
      switch (t.phase) {
        case Phase::F: put_fwd(t.micro, t.chunk, t.stage); break;
        case Phase::B:
        case Phase::BW: put_bwd(t.micro, t.chunk, t.stage); break;
        case Phase::W: check_range(sch, r, t, t.micro, t.chunk, t.stage); break;
        case Phase::FB:
          put_fwd(t.micro, t.chunk, t.stage);
          put_bwd(t.micro2, t.chunk2, t.stage2);
          break;
        default: throw std::invalid_argument("schedule task '" + task_name(r, t) + "' has no phase");
      }
    }
  }

  // The cross-stage dependencies of every task: (producer slot index, is gradient).
  auto for_each_input = [&](const ScheduledTask& t, auto&& fn) {
    auto fwd_input = [&](int m, int st) {
      if (st > 0) fn(slots.at(m, st - 1), false);
    };
    auto bwd_input = [&](int m, int st) {
      if (st + 1 < S) fn(slots.at(m, st + 1), true);
    };
    if (t.phase == Phase::F || t.phase == Phase::FB) fwd_input(t.micro, t.stage);
    if (t.phase == Phase::B || t.phase == Phase::BW) bwd_input(t.micro, t.stage);
    if (t.phase == Phase::FB) bwd_input(t.micro2, t.stage2);
  };
  size_t transfer_count = 0;
  for (int r = 0; r < sch.ranks; ++r)
    for (const ScheduledTask& t : sch.per_rank[r])
      for_each_input(t, [&](size_t i, bool grad) {
        int64_t producer = grad ? slots.bwd[i] : slots.fwd[i];
        int from = grad ? slots.bwd_rank[i] : slots.fwd_rank[i];
        if (producer != kNone && from != r) ++transfer_count;
      });

  PipelineGraph pg;
  pg.graph = TaskGraph(tasks + transfer_count);
  TaskGraph& g = pg.graph;
  pg.task_vertex.resize(sch.ranks);
  pg.transfers.reserve(transfer_count);
  for (int r = 0; r < sch.ranks; ++r) {
    const auto& list = sch.per_rank[r];
    pg.task_vertex[r].resize(list.size());
    for (size_t k = 0; k < list.size(); ++k) {
      const ScheduledTask& t = list[k];
      const TaskId v = offset[r] + k;
      pg.task_vertex[r][k] = v;
      TaskNode& n = g[v];
      n.name = task_name(r, t);
      n.kind = NodeKind::compute;
      n.gpu = gpu(r);
      n.stream = Stream::compute;
      n.seconds = costs.seconds(r, t);
      if (costs.category) n.category = costs.category(r, t);
      n.phase = t.phase;
      n.rank = r;
      n.micro = t.micro;
      n.chunk = t.chunk;
      n.micro2 = t.micro2;
      n.chunk2 = t.chunk2;
    }
  }

  TaskId next_transfer = tasks;
  // A dependency producer -> consumer; across ranks it goes through a transfer node.
  auto connect = [&](int64_t producer, int from, TaskId consumer, int to, Phase sent_phase, int m, int c, int st) {
    if (producer == kNone) return;  // missing task: check_graph reports it
    if (from == to) {
      boost::add_edge(static_cast<TaskId>(producer), consumer, g);
      return;
    }
    ScheduledTask sent;
    sent.phase = sent_phase;
    sent.micro = m;
    sent.chunk = c;
    sent.stage = st;
    const TaskId x = next_transfer++;
    TaskNode& n = g[x];
    n.kind = NodeKind::transfer;
    n.name = "pp r" + std::to_string(from) + "->r" + std::to_string(to) + " mb" + std::to_string(m) + " s" +
             std::to_string(st) + (sent_phase == Phase::F ? " act" : " grad");
    n.src_gpu = gpu(from);
    n.dst_gpu = gpu(to);
    n.bytes = costs.transfer_bytes ? costs.transfer_bytes(from, to, sent) : 0.0;
    n.category = "pp";
    n.micro = m;
    n.chunk = c;
    pg.transfers.push_back(x);
    boost::add_edge(static_cast<TaskId>(producer), x, g);
    boost::add_edge(x, consumer, g);
  };
  auto local = [&](int64_t producer, TaskId consumer) {
    if (producer != kNone && static_cast<TaskId>(producer) != consumer)
      boost::add_edge(static_cast<TaskId>(producer), consumer, g);
  };
  for (int r = 0; r < sch.ranks; ++r) {
    const auto& list = sch.per_rank[r];
    for (size_t k = 0; k < list.size(); ++k) {
      const ScheduledTask& t = list[k];
      const TaskId v = offset[r] + k;
      if (k > 0) boost::add_edge(v - 1, v, g);  // stream order
      for_each_input(t, [&](size_t i, bool grad) {
        if (grad)
          connect(slots.bwd[i], slots.bwd_rank[i], v, r, Phase::B, i / S, slots.bwd_chunk[i], static_cast<int>(i % S));
        else
          connect(slots.fwd[i], slots.fwd_rank[i], v, r, Phase::F, i / S, slots.fwd_chunk[i], static_cast<int>(i % S));
      });
      // The backward needs the stage's own forward (its activations, and the loss on the last stage);
      // the weight gradient needs the input-gradient backward.
      if (t.phase == Phase::B || t.phase == Phase::BW) local(slots.fwd[slots.at(t.micro, t.stage)], v);
      if (t.phase == Phase::FB) local(slots.fwd[slots.at(t.micro2, t.stage2)], v);
      if (t.phase == Phase::W) local(slots.bwd[slots.at(t.micro, t.stage)], v);
    }
  }
  return pg;
}

std::vector<TaskId> find_cycle(const TaskGraph& g) {
  const size_t V = boost::num_vertices(g);
  std::vector<uint32_t> indeg(V, 0);
  for (TaskId v = 0; v < V; ++v) indeg[v] = static_cast<uint32_t>(boost::in_degree(v, g));
  std::vector<TaskId> queue;
  queue.reserve(V);
  for (TaskId v = 0; v < V; ++v)
    if (indeg[v] == 0) queue.push_back(v);
  for (size_t i = 0; i < queue.size(); ++i)
    for (auto e : boost::make_iterator_range(boost::out_edges(queue[i], g))) {
      TaskId w = boost::target(e, g);
      if (--indeg[w] == 0) queue.push_back(w);
    }
  if (queue.size() == V) return {};
  // Every vertex left has a predecessor that is also left: walk backwards until one repeats.
  TaskId v = 0;
  while (indeg[v] == 0) ++v;
  std::vector<int64_t> position(V, -1);
  std::vector<TaskId> walk;
  while (position[v] < 0) {
    position[v] = static_cast<int64_t>(walk.size());
    walk.push_back(v);
    for (auto e : boost::make_iterator_range(boost::in_edges(v, g))) {
      TaskId u = boost::source(e, g);
      if (indeg[u] > 0) {
        v = u;
        break;
      }
    }
  }
  std::vector<TaskId> cycle(walk.begin() + position[v], walk.end());
  std::reverse(cycle.begin(), cycle.end());  // the walk went against the edges
  cycle.push_back(cycle.front());
  return cycle;
}

std::string describe_cycle(const TaskGraph& g, const std::vector<TaskId>& cycle) {
  std::string s;
  for (size_t i = 0; i < cycle.size(); ++i) s += (i ? " -> " : "") + g[cycle[i]].name;
  return s;
}

std::vector<TaskId> topological_order(const TaskGraph& g) {
  const size_t V = boost::num_vertices(g);
  std::vector<uint32_t> indeg(V);
  for (TaskId v = 0; v < V; ++v) indeg[v] = static_cast<uint32_t>(boost::in_degree(v, g));
  std::vector<TaskId> order;
  order.reserve(V);
  for (TaskId v = 0; v < V; ++v)
    if (indeg[v] == 0) order.push_back(v);
  for (size_t i = 0; i < order.size(); ++i)
    for (auto e : boost::make_iterator_range(boost::out_edges(order[i], g))) {
      TaskId w = boost::target(e, g);
      if (--indeg[w] == 0) order.push_back(w);
    }
  if (order.size() != V) {
    auto cycle = find_cycle(g);
    throw DeadlockError(cycle, describe_cycle(g, cycle));
  }
  return order;
}

DagCheck check_graph(const TaskGraph& g, const Schedule& sch) {
  DagCheck check;
  auto problem = [&](const std::string& p) {
    check.ok = false;
    ++check.problem_count;
    if (check.problems.size() < kMaxListedProblems) check.problems.push_back(p);
  };
  check.cycle = find_cycle(g);
  if (!check.cycle.empty()) {
    check.cycle_text = describe_cycle(g, check.cycle);
    problem("deadlock: dependency cycle " + check.cycle_text);
  }

  const int M = sch.request.micro, S = sch.model_stages;
  std::vector<uint32_t> f(size_t(M) * S, 0), b(f.size(), 0), w(f.size(), 0);
  size_t schedule_nodes = 0;
  auto count = [&](std::vector<uint32_t>& c, const TaskNode& n, int m, int chunk) {
    if (n.rank < 0 || n.rank >= sch.ranks || chunk < 0 || chunk >= static_cast<int>(sch.stage_of_chunk[n.rank].size()) ||
        m < 0 || m >= M) {
      problem("task '" + n.name + "' names a rank, chunk or micro-batch outside the schedule");
      return;
    }
    ++c[size_t(m) * S + sch.stage_of_chunk[n.rank][chunk]];
  };
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
    const TaskNode& n = g[v];
    if (n.kind != NodeKind::compute || n.phase == Phase::none) continue;
    ++schedule_nodes;
    switch (n.phase) {
      case Phase::F: count(f, n, n.micro, n.chunk); break;
      case Phase::B: count(b, n, n.micro, n.chunk); break;
      case Phase::W: count(w, n, n.micro, n.chunk); break;
      case Phase::BW:
        count(b, n, n.micro, n.chunk);
        count(w, n, n.micro, n.chunk);
        break;
      case Phase::FB:
        count(f, n, n.micro, n.chunk);
        count(b, n, n.micro2, n.chunk2);
        count(w, n, n.micro2, n.chunk2);
        break;
      default: break;
    }
  }
  if (schedule_nodes != sch.task_count())
    problem("graph has " + std::to_string(schedule_nodes) + " schedule tasks, the schedule " +
            std::to_string(sch.task_count()));
  const char* names[3] = {"forward (F)", "input gradient (B)", "weight gradient (W)"};
  const std::vector<uint32_t>* counts[3] = {&f, &b, &w};
  for (int m = 0; m < M; ++m)
    for (int s = 0; s < S; ++s)
      for (int k = 0; k < 3; ++k) {
        uint32_t c = (*counts[k])[size_t(m) * S + s];
        if (c != 1)
          problem("micro-batch " + std::to_string(m) + " stage " + std::to_string(s) + ": " + names[k] + " runs " +
                  std::to_string(c) + " times (expected once)");
      }
  return check;
}

}  // namespace mhc
