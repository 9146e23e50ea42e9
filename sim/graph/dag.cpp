#include "graph/dag.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace mhc {
namespace {

constexpr int64_t kNone = -1;
constexpr size_t kMaxListedProblems = 20;

void check_range(const Schedule& sch, int rank, const ScheduledTask& t, int micro, int chunk, int stage) {
  const int M = sch.request.micro;
  if (micro < 0 || micro >= M || stage < 0 || stage >= sch.model_stages || chunk < 0 ||
      chunk >= static_cast<int>(sch.stage_of_chunk[rank].size()))
    throw std::invalid_argument("schedule task '" + task_name(rank, t) + "' is outside " + std::to_string(M) +
                                " micro-batches x " + std::to_string(sch.model_stages) + " stages");
}

// Every task numbered across ranks (task k of rank r is offset[r] + k), and where each
// (micro-batch, model stage) forward and input-gradient backward runs (first occurrence; check_graph
// reports duplicates and gaps).
class ScheduleIndex {
 public:
  explicit ScheduleIndex(const Schedule& sch)
      : sch_(sch), S_(sch.model_stages), offset_(sch.ranks + 1, 0) {
    for (int r = 0; r < sch.ranks; ++r) offset_[r + 1] = offset_[r] + sch.per_rank[r].size();
    const size_t n = size_t(sch.request.micro) * S_;
    fwd_.assign(n, kNone);
    bwd_.assign(n, kNone);
    fwd_chunk_.assign(n, -1);
    bwd_chunk_.assign(n, -1);
    rank_of_.resize(offset_.back());
    for (int r = 0; r < sch.ranks; ++r) {
      const auto& list = sch.per_rank[r];
      for (size_t k = 0; k < list.size(); ++k) {
        const ScheduledTask& t = list[k];
        const auto v = static_cast<int64_t>(offset_[r] + k);
        rank_of_[v] = r;
        auto put = [&](std::vector<int64_t>& where, std::vector<int32_t>& chunk, int m, int c, int st) {
          check_range(sch, r, t, m, c, st);
          size_t i = at(m, st);
          if (where[i] == kNone) where[i] = v, chunk[i] = c;
        };
        switch (t.phase) {
          case Phase::F: put(fwd_, fwd_chunk_, t.micro, t.chunk, t.stage); break;
          case Phase::B:
          case Phase::BW: put(bwd_, bwd_chunk_, t.micro, t.chunk, t.stage); break;
          case Phase::W: check_range(sch, r, t, t.micro, t.chunk, t.stage); break;
          case Phase::FB:
            put(fwd_, fwd_chunk_, t.micro, t.chunk, t.stage);
            put(bwd_, bwd_chunk_, t.micro2, t.chunk2, t.stage2);
            break;
          default: throw std::invalid_argument("schedule task '" + task_name(r, t) + "' has no phase");
        }
      }
    }
  }
  size_t tasks() const { return offset_.back(); }
  size_t global(int rank, size_t k) const { return offset_[rank] + k; }
  int rank_of(size_t task) const { return rank_of_[task]; }

  // fn(producer, consumer, sent) for every data dependency between tasks (global numbers). `sent` is
  // what crosses: Phase::F (activation of micro/chunk/stage) or Phase::B (input gradient); Phase::none
  // for a dependency that never leaves the rank (own forward -> backward, backward -> W).
  template <typename Fn>
  void for_each_dependency(Fn&& fn) const {
    for (int r = 0; r < sch_.ranks; ++r) {
      const auto& list = sch_.per_rank[r];
      for (size_t k = 0; k < list.size(); ++k) {
        const ScheduledTask& t = list[k];
        const size_t v = offset_[r] + k;
        auto from_slot = [&](const std::vector<int64_t>& where, const std::vector<int32_t>& chunk, int m, int st,
                             Phase sent_phase) {
          size_t i = at(m, st);
          if (where[i] == kNone || static_cast<size_t>(where[i]) == v) return;  // missing: check_graph says so
          ScheduledTask sent;
          sent.phase = sent_phase;
          sent.micro = m;
          sent.chunk = chunk[i];
          sent.stage = st;
          fn(static_cast<size_t>(where[i]), v, sent);
        };
        auto needs_forward = [&](int m, int st) {
          if (st > 0) from_slot(fwd_, fwd_chunk_, m, st - 1, Phase::F);
        };
        auto needs_backward = [&](int m, int st) {
          from_slot(fwd_, fwd_chunk_, m, st, Phase::none);  // activations; the loss on the last stage
          if (st + 1 < S_) from_slot(bwd_, bwd_chunk_, m, st + 1, Phase::B);
        };
        switch (t.phase) {
          case Phase::F: needs_forward(t.micro, t.stage); break;
          case Phase::B:
          case Phase::BW: needs_backward(t.micro, t.stage); break;
          case Phase::W: from_slot(bwd_, bwd_chunk_, t.micro, t.stage, Phase::none); break;
          case Phase::FB:
            needs_forward(t.micro, t.stage);
            needs_backward(t.micro2, t.stage2);
            break;
          default: break;
        }
      }
    }
  }

 private:
  size_t at(int m, int st) const { return size_t(m) * S_ + st; }
  const Schedule& sch_;
  int S_;
  std::vector<size_t> offset_;
  std::vector<int32_t> rank_of_;
  std::vector<int64_t> fwd_, bwd_;
  std::vector<int32_t> fwd_chunk_, bwd_chunk_;
};

bool crosses_ranks(const ScheduleIndex& idx, size_t producer, size_t consumer, const ScheduledTask& sent) {
  return sent.phase != Phase::none && idx.rank_of(producer) != idx.rank_of(consumer);
}

}  // namespace

PipelineCosts phase_time_costs(const PhaseTimes& times) {
  PipelineCosts c;
  c.seconds = [times](int, const ScheduledTask& t) { return times.seconds(t.phase); };
  return c;
}

std::vector<PipelineTransfer> pipeline_transfers(const Schedule& sch) {
  const ScheduleIndex idx(sch);
  std::vector<PipelineTransfer> out;
  idx.for_each_dependency([&](size_t producer, size_t consumer, const ScheduledTask& sent) {
    if (!crosses_ranks(idx, producer, consumer, sent)) return;
    PipelineTransfer x;
    x.from_rank = idx.rank_of(producer);
    x.to_rank = idx.rank_of(consumer);
    x.producer_index = producer - idx.global(x.from_rank, 0);
    x.consumer_index = consumer - idx.global(x.to_rank, 0);
    x.sent = sent;
    out.push_back(x);
  });
  return out;
}

PipelineGraph build_pipeline_graph(const Schedule& sch, const PipelineCosts& costs,
                                   const std::vector<int>& gpu_of_rank) {
  if (!costs.seconds) throw std::invalid_argument("build_pipeline_graph: PipelineCosts::seconds is not set");
  if (!gpu_of_rank.empty() && static_cast<int>(gpu_of_rank.size()) < sch.ranks)
    throw std::invalid_argument("build_pipeline_graph: gpu_of_rank has " + std::to_string(gpu_of_rank.size()) +
                                " entries for " + std::to_string(sch.ranks) + " ranks");
  auto gpu = [&](int r) { return gpu_of_rank.empty() ? r : gpu_of_rank[r]; };

  // Tasks are vertices 0..tasks-1 in rank order, transfers follow. Sizing the graph once keeps
  // building linear and free of reallocation (P=64, M=4096 is about a million vertices).
  const ScheduleIndex idx(sch);
  size_t transfer_count = 0;
  idx.for_each_dependency([&](size_t p, size_t c, const ScheduledTask& sent) { transfer_count += crosses_ranks(idx, p, c, sent); });

  PipelineGraph pg;
  pg.graph = TaskGraph(idx.tasks() + transfer_count);
  TaskGraph& g = pg.graph;
  pg.task_vertex.resize(sch.ranks);
  pg.transfers.reserve(transfer_count);
  for (int r = 0; r < sch.ranks; ++r) {
    const auto& list = sch.per_rank[r];
    pg.task_vertex[r].resize(list.size());
    for (size_t k = 0; k < list.size(); ++k) {
      const ScheduledTask& t = list[k];
      const TaskId v = idx.global(r, k);
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
      if (k > 0) boost::add_edge(v - 1, v, g);  // stream order
    }
  }

  TaskId next_transfer = idx.tasks();
  idx.for_each_dependency([&](size_t producer, size_t consumer, const ScheduledTask& sent) {
    if (!crosses_ranks(idx, producer, consumer, sent)) {
      boost::add_edge(producer, consumer, g);
      return;
    }
    const int from = idx.rank_of(producer), to = idx.rank_of(consumer);
    const TaskId x = next_transfer++;
    TaskNode& n = g[x];
    n.kind = NodeKind::transfer;
    char name[96];
    std::snprintf(name, sizeof name, "pp r%d->r%d mb%d s%d %s", from, to, sent.micro, sent.stage,
                  sent.phase == Phase::F ? "act" : "grad");
    n.name = name;
    n.src_gpu = gpu(from);
    n.dst_gpu = gpu(to);
    n.bytes = costs.transfer_bytes ? costs.transfer_bytes(from, to, sent) : 0.0;
    n.category = "pp";
    n.micro = sent.micro;
    n.chunk = sent.chunk;
    pg.transfers.push_back(x);
    boost::add_edge(producer, x, g);
    boost::add_edge(x, consumer, g);
  });
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

  // Each task's stage must be the stage its rank holds as that chunk.
  for (int r = 0; r < sch.ranks && r < static_cast<int>(sch.stage_of_chunk.size()); ++r)
    for (const ScheduledTask& t : sch.per_rank[r]) {
      auto holds = [&](int chunk, int stage) {
        return chunk >= 0 && chunk < static_cast<int>(sch.stage_of_chunk[r].size()) && sch.stage_of_chunk[r][chunk] == stage;
      };
      if (!holds(t.chunk, t.stage) || (t.phase == Phase::FB && !holds(t.chunk2, t.stage2)))
        problem("task '" + task_name(r, t) + "' names a stage its rank does not hold as that chunk");
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
