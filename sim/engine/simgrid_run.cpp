// The simulation itself (runs in simulate()'s child process): one SimGrid actor per GPU, each an
// event loop over its own activities (mailbox puts for flows into mailboxes with a permanent
// receiver, so a flow starts when posted and its sender sees it end; an exec on a many-core timer
// host for NCCL latency terms) with Activity::wait_any_for: of the patterns tried with SimGrid 3.32
// this was the fastest (actor-less activity DAGs, add_successor + vetoable_start, degrade
// quadratically at 1000 hosts in 3.32); bench_engine measures it. Kernels are not SimGrid
// activities: each GPU's kernels share its SMs and HBM in the GPU's own timeline (gpu_share.h), and
// the actor's wait times out when the next kernel ends. Dependencies are tracked here, outside
// SimGrid: when a task's last predecessor ends, the actor that saw it queues the task's work on the
// actors that must start it (or adds a kernel to its GPU's timeline) and wakes them with a zero-byte
// message on their control mailbox (instant: see platform.cpp) when their next event moved earlier.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <tuple>
#include <stdexcept>

#include <simgrid/s4u.hpp>
#include <xbt/log.h>

#include "engine/actor_limits.h"
#include "engine/engine.h"
#include "engine/exposed_comm.h"
#include "engine/fold.h"
#include "engine/fold_all_to_all.h"
#include "engine/platform.h"
#include "engine/progress_line.h"

namespace mhc {
namespace {

namespace sg4 = simgrid::s4u;

enum class Role : uint8_t { send, timer, instant, control };

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Work {
  TaskId task;
  Role role;
  int flow;  // collective flow index; -1 for a transfer
};

// Communication kernels moving data on one GPU: the SMs they hold and the payload rates their flows
// would have alone (an upper bound on their HBM traffic; see comm_update), by port and direction.
struct CommLoad {
  std::map<int, int> sm_holders;  // SMs requested -> active flows asking for it
  double rate[2][2] = {{0, 0}, {0, 0}};  // [sent, received][nvlink, network]
  int count[2][2] = {{0, 0}, {0, 0}};
};

struct GpuState {
  std::vector<Work> queue;
  bool wake_pending = false;
  std::vector<int> forward;  // GPUs whose wake-up this actor passes on when it wakes (send_wakes)
  bool returned = false;     // its actor has returned (the end): it needs and passes on nothing
  std::unique_ptr<GpuTimeline> timeline;
  // When the actor's wait times out; -inf while it runs (it re-plans before it waits again).
  double armed = -kInf;
  CommLoad comm;
  bool comm_dirty = false;  // comm changed since the timeline last heard of it
  sg4::Mailbox* control = nullptr;
  // Incoming flows, by their rate cap (0: none). SimGrid takes a comm's rate from the receiving
  // side, so a capped flow must meet a get that carries the same cap: one mailbox per cap.
  std::map<double, sg4::Mailbox*> data;
  sg4::Host* host = nullptr;
};

// What a SimGrid activity in an actor's wait set stands for.
struct Waiting {
  Role role;
  TaskId task;
  std::unique_ptr<void*> slot;  // where the control get stores its payload
  int flow = -1;
};

// A flow's payload names its task (never null: SimGrid takes a null payload for "not a sender").
uintptr_t encode(TaskId task, int flow) {
  return (static_cast<uintptr_t>(task + 1) << 32) | static_cast<uint32_t>(flow + 1);
}

class Runner {
 public:
  // `weight[v]`: how many identical tasks v stands for (folding), for the byte totals.
  Runner(const ClusterSpec& cluster, const TaskGraph& graph, const EngineOptions& options,
         std::vector<double> weight)
      : graph_(graph), topology_(cluster), options_(options), weight_(std::move(weight)) {}

  EngineResult run();

 private:
  void plan();
  void gpu_loop(int gpu);
  void start(int gpu, const Work& w, std::vector<sg4::ActivityPtr>& acts, std::vector<Waiting>& info);
  void finish(TaskId t);
  void make_ready(TaskId t);
  void start_flows(TaskId t);
  void drain(int gpu);
  void push(int gpu, Work w);
  void wake(int gpu);
  bool send_wakes(int self);
  void rearm(int gpu);
  void add_kernel(TaskId t);
  bool finish_kernels(int gpu);
  void flow_moving(TaskId t, int flow, int delta);
  void comm_side(int gpu, TaskId t, bool sent, bool network, double rate, int delta);
  void comm_update(int gpu);
  void flush_comm();
  int owner(TaskId t) const;
  void account(int src, int dst, double bytes, const std::string& category, double weight);
  void route_classes(int src, int dst, bool cls[3]);
  void add_bytes(const std::string& category, double bytes, const double by_class[3]);
  struct Planned;
  const Planned& plan_of(const TaskNode& t, const std::vector<char>& computes);
  sg4::Mailbox* data_mailbox(int gpu, double cap);

  const TaskGraph& graph_;
  Topology topology_;
  EngineOptions options_;
  std::vector<double> weight_;
  SimPlatform platform_;
  std::vector<GpuState> gpus_;
  std::vector<int> remaining_;
  std::vector<int> outstanding_;
  std::vector<std::shared_ptr<const CollectivePlan>> plans_;
  // Collectives of the same shape (a stage's all-to-all in every micro-batch) share one plan and its
  // byte sums: planning and routing p (p - 1) flows once, not once per task.
  struct Planned {
    std::shared_ptr<const CollectivePlan> plan;  // what runs (folded where it folds)
    double bytes = 0;                            // every flow's data bytes
    double by_class[3] = {0, 0, 0};              // of them, those whose route uses each link class
    size_t flows = 0;                            // in the whole operation
  };
  std::map<std::tuple<int, std::vector<int>, double, double, double, double, double, int>, Planned> planned_;
  std::vector<TaskTiming> timings_;
  std::vector<TaskShare> shares_;
  std::vector<TaskId> worklist_;
  std::vector<int> comm_dirty_;  // GPUs whose communication changed at this instant
  std::vector<int> gpus_used_;
  std::vector<bool> links_used_;
  size_t done_ = 0;
  long activities_ = 0;
  bool running_ = false;
  bool stopping_ = false;  // every task has ended: each GPU actor returns at its next control message
  std::vector<int> gpu_of_pid_;
  int current_gpu() const {
    auto pid = static_cast<size_t>(sg4::this_actor::get_pid());
    return pid < gpu_of_pid_.size() ? gpu_of_pid_[pid] : -1;
  }
  sg4::SemaphorePtr all_done_;
  std::unique_ptr<ProgressLine> progress_;  // made in run(), with the task count
  EngineResult result_;
  int dummy_ = 0;
  std::vector<int> to_wake_;  // GPUs woken since the last send_wakes, not yet sent a message
};

void Runner::route_classes(int src, int dst, bool cls[3]) {
  std::vector<int> links;
  double lat;
  topology_.route(src, dst, links, lat);
  cls[0] = cls[1] = cls[2] = false;
  for (int i : links) {
    links_used_[i] = true;
    cls[static_cast<int>(topology_.links()[i].cls)] = true;
  }
}

void Runner::add_bytes(const std::string& category, double bytes, const double by_class[3]) {
  result_.bytes_by_category[category] += bytes;
  for (int c = 0; c < 3; ++c)
    if (by_class[c] > 0) {
      const std::string name = to_string(static_cast<LinkClass>(c));
      result_.bytes_by_link_class[name] += by_class[c];
      result_.bytes_by_category_link_class[category + "/" + name] += by_class[c];
    }
}

void Runner::account(int src, int dst, double bytes, const std::string& category, double weight) {
  bytes *= weight;
  bool cls[3];
  route_classes(src, dst, cls);
  const double by_class[3] = {cls[0] ? bytes : 0, cls[1] ? bytes : 0, cls[2] ? bytes : 0};
  add_bytes(category, bytes, by_class);
}

const Runner::Planned& Runner::plan_of(const TaskNode& t, const std::vector<char>& computes) {
  auto key = std::make_tuple(static_cast<int>(t.op), t.group, t.bytes, t.rail_network_bytes, t.rail_nvlink_bytes,
                             t.rail_network_efficiency, t.rail_nvlink_efficiency, t.gpu);
  auto it = planned_.find(key);
  if (it != planned_.end()) return it->second;
  auto plan = std::make_shared<CollectivePlan>(
      plan_collective(topology_, t.op, t.group, t.bytes, options_.collective,
                      RailBytes{t.rail_network_bytes, t.rail_nvlink_bytes, t.rail_network_efficiency,
                                t.rail_nvlink_efficiency}));
  Planned p;
  p.flows = plan->flows.size();
  for (const Flow& f : plan->flows) {
    bool cls[3];
    route_classes(f.src, f.dst, cls);
    p.bytes += f.data_bytes;
    for (int c = 0; c < 3; ++c) p.by_class[c] += cls[c] ? f.data_bytes : 0.0;
  }
  if (options_.fold_all_to_all && t.op == CollectiveOp::all_to_all && all_to_all_folds(topology_, t, computes))
    keep_flows_of(t.gpu, *plan);
  p.plan = std::move(plan);
  return planned_.emplace(std::move(key), std::move(p)).first->second;
}

// Validates the graph, plans every collective and collects the GPUs and links the run needs.
void Runner::plan() {
  const size_t n = boost::num_vertices(graph_);
  const int G = topology_.gpus();
  remaining_.assign(n, 0);
  outstanding_.assign(n, 0);
  plans_.resize(n);
  timings_.assign(n, TaskTiming{});
  shares_.assign(n, TaskShare{});
  links_used_.assign(topology_.links().size(), false);
  std::vector<char> used(G, 0);
  // GPUs that run compute: an all-to-all folds only where its other members run none.
  std::vector<char> computes(G, 0);
  if (options_.fold_all_to_all)
    for (TaskId v = 0; v < n; ++v)
      if (graph_[v].kind == NodeKind::compute && graph_[v].gpu >= 0 && graph_[v].gpu < G) computes[graph_[v].gpu] = 1;
  auto use = [&](int g, const TaskNode& t) {
    if (g < 0 || g >= G)
      throw std::invalid_argument("task '" + t.name + "' uses GPU " + std::to_string(g) + " outside the cluster of " +
                                  std::to_string(G));
    used[g] = 1;
  };
  for (TaskId v = 0; v < n; ++v) {
    const TaskNode& t = graph_[v];
    remaining_[v] = static_cast<int>(boost::in_degree(v, graph_));
    switch (t.kind) {
      case NodeKind::compute:
        use(t.gpu, t);
        if (!(t.seconds >= 0)) throw std::invalid_argument("task '" + t.name + "' has negative seconds");
        if (!(t.sm_share >= 0 && t.sm_share <= 1))
          throw std::invalid_argument("task '" + t.name + "' has an SM share outside [0, 1]");
        if (!(t.hbm_bytes >= 0)) throw std::invalid_argument("task '" + t.name + "' has negative HBM bytes");
        break;
      case NodeKind::transfer:
        use(t.src_gpu, t);
        use(t.dst_gpu, t);
        if (!(t.bytes >= 0)) throw std::invalid_argument("task '" + t.name + "' has negative bytes");
        if (t.comm_sms < 0) throw std::invalid_argument("task '" + t.name + "' has negative comm_sms");
        if (t.src_gpu != t.dst_gpu && t.bytes > 0) account(t.src_gpu, t.dst_gpu, t.bytes, t.category, weight_[v]);
        break;
      case NodeKind::collective: {
        for (int g : t.group) use(g, t);
        if (!(t.bytes >= 0)) throw std::invalid_argument("task '" + t.name + "' has negative bytes");
        if (t.comm_sms < 0) throw std::invalid_argument("task '" + t.name + "' has negative comm_sms");
        try {
          const Planned& p = plan_of(t, computes);
          plans_[v] = p.plan;
          const double w = weight_[v];
          const double by_class[3] = {w * p.by_class[0], w * p.by_class[1], w * p.by_class[2]};
          if (p.flows > 0) add_bytes(t.category, w * p.bytes, by_class);
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument("task '" + t.name + "': " + e.what());
        }
        break;
      }
    }
  }
  // A cycle would leave tasks waiting forever: reject it here with a name.
  std::vector<int> indeg(remaining_);
  std::vector<TaskId> order;
  order.reserve(n);
  for (TaskId v = 0; v < n; ++v)
    if (indeg[v] == 0) order.push_back(v);
  for (size_t i = 0; i < order.size(); ++i)
    for (auto [e, end] = boost::out_edges(order[i], graph_); e != end; ++e)
      if (--indeg[boost::target(*e, graph_)] == 0) order.push_back(boost::target(*e, graph_));
  if (order.size() != n)
    for (TaskId v = 0; v < n; ++v)
      if (indeg[v] > 0) throw std::invalid_argument("task graph has a cycle through '" + graph_[v].name + "'");
  for (int g = 0; g < G; ++g)
    if (used[g]) gpus_used_.push_back(g);
}

int Runner::owner(TaskId t) const {
  const TaskNode& n = graph_[t];
  if (n.kind == NodeKind::compute) return n.gpu;
  if (n.kind == NodeKind::transfer) return n.src_gpu;
  int m = n.group.front();
  for (int g : n.group) m = std::min(m, g);
  return m;
}

// Mailboxes are all created before the actors run: creating one is a simcall, during which another
// actor could find a half-made entry.
sg4::Mailbox* Runner::data_mailbox(int gpu, double cap) {
  auto [it, fresh] = gpus_[gpu].data.emplace(cap, nullptr);
  if (fresh) {
    if (running_) throw std::logic_error("data mailbox created while the simulation runs");
    char name[64];
    std::snprintf(name, sizeof name, "d%d/%.17g", gpu, cap);
    it->second = sg4::Mailbox::by_name(name);
  }
  return it->second;
}

void Runner::push(int gpu, Work w) {
  gpus_[gpu].queue.push_back(w);
  wake(gpu);
}

// Before the actors run, and for an actor's own queue, no wake-up is needed: the owner drains its
// queue and re-plans its timer before it blocks. (Any simcall may let other actors run, so ask
// SimGrid who is running.) The message itself is sent by send_wakes before the actor blocks: no
// simulated time passes while an actor runs, so the GPU still wakes at this instant.
void Runner::wake(int gpu) {
  GpuState& s = gpus_[gpu];
  if (!running_ || s.wake_pending || gpu == current_gpu()) return;
  s.wake_pending = true;
  to_wake_.push_back(gpu);
}

// Sends the wake-ups owed: those raised since the last call and those another actor handed this one
// to pass on. Fanned out as a tree: a few GPUs get a message each and the rest of their share to pass
// on when they wake. SimGrid 3.32 keeps a sender's unfinished comms in a std::list it walks to
// remove each one that ends (CommImpl::finish), so one actor waking a whole DP group directly cost
// time quadratic in the group (bench_engine: 23.7 s at 16384 GPUs, 3.4x per doubling).
bool Runner::send_wakes(int self) {
  constexpr size_t kFanOut = 4;
  std::vector<int> list;
  list.swap(gpus_[self].forward);
  list.insert(list.end(), to_wake_.begin(), to_wake_.end());
  to_wake_.clear();
  // This GPU is running: it is told to look again (true) instead; a returned one needs nothing.
  const bool again = std::erase(list, self) > 0;
  std::erase_if(list, [&](int g) { return gpus_[g].returned; });
  const size_t n = list.size(), heads = std::min(kFanOut, n);
  std::vector<int> head(heads);
  for (size_t c = 0; c < heads; ++c) {  // no simcall until every share is handed over
    const size_t b = c * n / heads, e = (c + 1) * n / heads;
    head[c] = list[b];
    auto& fw = gpus_[head[c]].forward;
    fw.insert(fw.end(), list.begin() + static_cast<std::ptrdiff_t>(b) + 1, list.begin() + static_cast<std::ptrdiff_t>(e));
  }
  for (int h : head) {
    gpus_[h].control->put_init(&dummy_, 0)->detach();
    ++activities_;
  }
  return again;
}

// The GPU's next kernel end moved: its actor must wake before its timer if that is now too late.
void Runner::rearm(int gpu) {
  GpuState& s = gpus_[gpu];
  if (s.timeline->next_finish() < s.armed) wake(gpu);
}

void Runner::add_kernel(TaskId t) {
  const TaskNode& n = graph_[t];
  GpuState& s = gpus_[n.gpu];
  const double now = sg4::Engine::get_clock();
  KernelLoad load;
  load.sms = n.sm_share * topology_.cluster().sms;
  load.hbm_Bps = n.hbm_bytes / n.seconds;
  load.high_priority = n.stream == Stream::high_priority;
  s.timeline->advance(now);
  s.timeline->add(t, n.seconds, load, now);
  rearm(n.gpu);
}

// Ends the kernels of `gpu` that are done by now; true if any ended (their successors may have
// queued work here).
bool Runner::finish_kernels(int gpu) {
  GpuTimeline& tl = *gpus_[gpu].timeline;
  const double now = sg4::Engine::get_clock();
  tl.advance(now);
  std::vector<GpuTimeline::Finished> done = tl.take_finished(now);
  for (GpuTimeline::Finished& f : done) {
    TaskShare& sh = shares_[f.id];
    sh.lost_to_comm_s = f.lost_to_comm_s;
    sh.lost_to_corun_s = f.lost_to_corun_s;
    sh.sm_seconds = f.sm_seconds;
    sh.segments = std::move(f.segments);
  }
  for (const GpuTimeline::Finished& f : done) finish(f.id);
  return !done.empty();
}

// A flow of task t started (delta +1) or ended (-1): the communication kernels at both of its ends
// hold their SMs and draw HBM only while it moves data.
void Runner::flow_moving(TaskId t, int flow, int delta) {
  const TaskNode& n = graph_[t];
  int src = n.src_gpu, dst = n.dst_gpu;
  double data = n.bytes, wire = n.bytes, cap = 0.0;
  if (flow >= 0) {
    const Flow& f = plans_[t]->flows[flow];
    src = f.src, dst = f.dst, data = f.data_bytes, wire = f.wire_bytes, cap = f.rate_cap_Bps;
  }
  double rate = topology_.route_bandwidth(src, dst);
  if (cap > 0) rate = std::min(rate, cap);
  if (wire > 0) rate *= data / wire;  // payload rate: protocol overhead carries no user data
  const bool network = topology_.node_of(src) != topology_.node_of(dst);
  comm_side(src, t, true, network, rate, delta);
  comm_side(dst, t, false, network, rate, delta);
}

void Runner::comm_side(int gpu, TaskId t, bool sent, bool network, double rate, int delta) {
  CommLoad& c = gpus_[gpu].comm;
  const int sms = graph_[t].comm_sms > 0 ? graph_[t].comm_sms : topology_.cluster().comm_sms;
  if (sms > 0 && (c.sm_holders[sms] += delta) == 0) c.sm_holders.erase(sms);
  const int d = sent ? 0 : 1, k = network ? 1 : 0;
  c.count[d][k] += delta;
  c.rate[d][k] = c.count[d][k] == 0 ? 0.0 : c.rate[d][k] + delta * rate;  // exact zero when idle
  // Many flows start and end at one instant (a collective's): the timeline hears of them once, before
  // any actor waits again (flush_comm), which is still this instant.
  if (!gpus_[gpu].comm_dirty) {
    gpus_[gpu].comm_dirty = true;
    comm_dirty_.push_back(gpu);
  }
}

void Runner::flush_comm() {
  while (!comm_dirty_.empty()) {
    std::vector<int> dirty;
    dirty.swap(comm_dirty_);  // comm_update may yield (a wake-up) and another actor add more
    for (int g : dirty) {
      gpus_[g].comm_dirty = false;
      comm_update(g);
    }
  }
}

// Communication on a GPU holds the largest SM count any of its moving kernels asks for (they share
// the SMs the cluster gives communication), and draws HBM for its flows at their uncontended payload
// rates, each port capped at its link's bandwidth: an upper bound where flows share a link.
void Runner::comm_update(int gpu) {
  GpuState& s = gpus_[gpu];
  const CommLoad& c = s.comm;
  const ClusterSpec& cl = topology_.cluster();
  const GpuModelOptions& o = options_.gpu;
  const double port[2] = {cl.nvlink.bandwidth_Bps, cl.nic.bandwidth_Bps};
  auto flowing = [&](int d, int k) { return port[k] > 0 ? std::min(c.rate[d][k], port[k]) : c.rate[d][k]; };
  const double hbm = o.hbm_per_byte_sent_nvlink * flowing(0, 0) + o.hbm_per_byte_sent_network * flowing(0, 1) +
                     o.hbm_per_byte_received * (flowing(1, 0) + flowing(1, 1));
  const double sms = c.sm_holders.empty() ? 0.0 : double(c.sm_holders.rbegin()->first);
  const double now = sg4::Engine::get_clock();
  s.timeline->advance(now);
  s.timeline->set_comm(sms, hbm, now);
  rearm(gpu);
}

void Runner::make_ready(TaskId t) {
  const TaskNode& n = graph_[t];
  timings_[t].start = sg4::Engine::get_clock();
  switch (n.kind) {
    case NodeKind::compute:
      if (n.seconds > 0)
        add_kernel(t);
      else
        push(n.gpu, {t, Role::instant, -1});
      break;
    case NodeKind::transfer:
      if (n.src_gpu == n.dst_gpu || n.bytes <= 0)
        push(owner(t), {t, Role::instant, -1});
      else
        push(n.src_gpu, {t, Role::send, -1});
      break;
    case NodeKind::collective: {
      const CollectivePlan& p = *plans_[t];
      if (p.flows.empty() && p.latency_s <= 0) {
        push(owner(t), {t, Role::instant, -1});
        break;
      }
      outstanding_[t] = static_cast<int>(p.flows.size());
      if (p.latency_s > 0)
        push(owner(t), {t, Role::timer, -1});
      else
        start_flows(t);
      break;
    }
  }
}

void Runner::start_flows(TaskId t) {
  const CollectivePlan& p = *plans_[t];
  if (p.flows.empty()) {
    finish(t);
    return;
  }
  for (size_t f = 0; f < p.flows.size(); ++f) {
    push(p.flows[f].src, {t, Role::send, static_cast<int>(f)});
  }
}

void Runner::finish(TaskId first) {
  worklist_.push_back(first);
  while (!worklist_.empty()) {
    TaskId t = worklist_.back();
    worklist_.pop_back();
    timings_[t].end = sg4::Engine::get_clock();
    if (++done_ == timings_.size()) {
      all_done_->release();
      stopping_ = true;
      for (int g : gpus_used_) wake(g);  // each returns at the top of its loop (this one too)
    }
    progress_->task_ended(done_, timings_[t].end);
    for (auto [e, end] = boost::out_edges(t, graph_); e != end; ++e) {
      TaskId s = boost::target(*e, graph_);
      if (--remaining_[s] == 0) make_ready(s);
    }
  }
}

void Runner::start(int /*gpu*/, const Work& w, std::vector<sg4::ActivityPtr>& acts, std::vector<Waiting>& info) {
  const TaskNode& n = graph_[w.task];
  switch (w.role) {
    case Role::timer: {
      sg4::ExecPtr e = sg4::this_actor::exec_init(plans_[w.task]->latency_s);
      e->set_host(platform_.timer_host);
      e->start();
      acts.push_back(e);
      info.push_back({Role::timer, w.task, nullptr});
      break;
    }
    case Role::send: {
      double bytes = n.bytes, cap = 0.0;
      int dst = n.dst_gpu;
      if (w.flow >= 0) {
        const Flow& f = plans_[w.task]->flows[w.flow];
        bytes = f.wire_bytes, cap = f.rate_cap_Bps, dst = f.dst;
      }
      auto payload = reinterpret_cast<void*>(encode(w.task, w.flow));
      sg4::CommPtr c = data_mailbox(dst, cap)->put_init(payload, static_cast<uint64_t>(std::llround(bytes)));
      if (cap > 0) c->set_rate(cap);
      c->start();
      acts.push_back(c);
      info.push_back({Role::send, w.task, nullptr, w.flow});
      flow_moving(w.task, w.flow, +1);
      break;
    }
    case Role::instant: finish(w.task); return;
    case Role::control: return;
  }
  ++activities_;
}

// Arrived flows wait in their receiver's mailboxes until taken; take the finished ones in order.
void Runner::drain(int gpu) {
  for (auto& [cap, mb] : gpus_[gpu].data)
    while (mb->ready()) mb->get<void>();
}

void Runner::gpu_loop(int gpu) {
  GpuState& s = gpus_[gpu];
  std::vector<sg4::ActivityPtr> acts;
  std::vector<Waiting> info;
  auto post_control = [&] {
    auto slot = std::make_unique<void*>(nullptr);
    sg4::CommPtr c = s.control->get_init()->set_dst_data(slot.get(), sizeof(void*));
    c->start();
    acts.push_back(c);
    info.push_back({Role::control, 0, std::move(slot)});
  };
  post_control();
  for (;;) {
    send_wakes(gpu);
    // The end (finish() woke every GPU): the only activity left is this GPU's control receive. Cancel
    // it and return: a started Comm destroyed as a killed daemon unwinds makes SimGrid print a backtrace.
    if (stopping_) {
      for (auto& a : acts)
        if (!a->test()) a->cancel();
      s.returned = true;
      return;
    }
    s.wake_pending = false;
    while (!s.queue.empty()) {
      std::vector<Work> items;
      items.swap(s.queue);
      for (const Work& w : items) start(gpu, w, acts, info);
    }
    flush_comm();
    if (finish_kernels(gpu)) continue;  // their successors may have queued work here
    if (stopping_) continue;            // this GPU ended the last task: it is not woken, it returns
    // Another actor may have queued work here, or handed this GPU wake-ups to pass on, meanwhile.
    if (send_wakes(gpu) || !s.forward.empty()) continue;
    // No simcall between planning the timer and waiting: nothing can change this GPU in between.
    const double next = s.timeline->next_finish();
    s.armed = next;
    const double timeout = next == kInf ? -1.0 : std::max(0.0, next - sg4::Engine::get_clock());
    ssize_t i = sg4::Activity::wait_any_for(acts, timeout);
    s.armed = -kInf;
    if (i < 0) {  // the timer: a kernel ends now
      ++activities_;
      continue;
    }
    Waiting w = std::move(info[i]);
    acts[i] = acts.back();
    acts.pop_back();
    info[i] = std::move(info.back());
    info.pop_back();
    switch (w.role) {
      case Role::timer: start_flows(w.task); break;
      case Role::send: {  // the flow has arrived (receivers are permanent: see run())
        TaskId t = w.task;
        flow_moving(t, w.flow, -1);
        if (graph_[t].kind == NodeKind::transfer || --outstanding_[t] == 0) finish(t);
        break;
      }
      case Role::control: post_control(); break;
      default: break;
    }
    drain(gpu);
  }
}

EngineResult Runner::run() {
  plan();
  const size_t n = boost::num_vertices(graph_);
  result_.simulated_gpus = static_cast<int>(gpus_used_.size());
  if (n == 0) return result_;
  // One actor per GPU: refuse a run the process cannot hold before SimGrid dies of it.
  check_actor_capacity(static_cast<long>(gpus_used_.size()), topology_.cluster());

  // SimGrid's configuration (see engine.h); the console stays quiet unless something is fatal.
  std::vector<std::string> args = {"mhcsim",
                                   "--log=root.thres:critical",
                                   "--cfg=network/model:CM02",
                                   "--cfg=network/crosstraffic:0",
                                   // TCP-gamma caps a flow at gamma / (2 x latency). 0 disables the cap but also
                                   // drops Comm::set_rate (LL's bandwidth cap); 1e9 B puts the cap at
                                   // >= 1e13 B/s on any route here, far above every link.
                                   "--cfg=network/TCP-gamma:1e9",
                                   // raw by default (fastest); thread under sanitizers (raw's stack
                                   // switching gives AddressSanitizer false reports): sim/CMakeLists.txt.
                                   "--cfg=contexts/factory:" MHC_SIMGRID_CONTEXTS,
                                   "--cfg=contexts/stack-size:256"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  sg4::Engine engine(&argc, argv.data());
  platform_ = build_simgrid_platform(topology_, gpus_used_, links_used_);

  gpus_.resize(topology_.gpus());
  const GpuCapacity capacity{double(topology_.cluster().sms), options_.gpu.hbm_Bps};
  for (int g : gpus_used_) {
    GpuState& s = gpus_[g];
    s.timeline = std::make_unique<GpuTimeline>(capacity, options_.gpu.record_segments);
    s.host = platform_.gpu_hosts[g];
    s.control = sg4::Mailbox::by_name("c" + std::to_string(g));
  }
  for (int g : gpus_used_) data_mailbox(g, 0.0);
  for (TaskId v = 0; v < n; ++v)
    if (plans_[v])
      for (const Flow& f : plans_[v]->flows) data_mailbox(f.dst, f.rate_cap_Bps);
  all_done_ = sg4::Semaphore::create(0);
  progress_ = std::make_unique<ProgressLine>(options_.progress_label, n);
  for (TaskId v = 0; v < n; ++v)  // before the actors run: queued work needs no wake-up
    if (remaining_[v] == 0) make_ready(v);
  running_ = true;
  for (int g : gpus_used_) {
    sg4::ActorPtr a = sg4::Actor::create("g" + std::to_string(g), gpus_[g].host, [this, g] { gpu_loop(g); });
    auto pid = static_cast<size_t>(a->get_pid());
    if (gpu_of_pid_.size() <= pid) gpu_of_pid_.resize(pid + 1, -1);
    gpu_of_pid_[pid] = g;
    // Permanent receivers: a flow starts the moment its sender posts it and the sender sees it end,
    // so the receiving GPU needs no activity and no wake-up per flow.
    for (auto& [cap, mb] : gpus_[g].data) mb->set_receiver(a);
  }
  sg4::Actor::create("main", platform_.timer_host, [this] { all_done_->acquire(); });
  engine.run();
  if (done_ != n) throw std::runtime_error("simulation ended with " + std::to_string(n - done_) + " tasks not run");

  result_.timings = timings_;
  result_.shares = std::move(shares_);
  if (options_.gpu.record_segments)
    for (int g : gpus_used_)
      if (!gpus_[g].timeline->comm_segments().empty()) result_.comm_segments[g] = gpus_[g].timeline->comm_segments();
  for (const TaskTiming& t : timings_) result_.makespan_s = std::max(result_.makespan_s, t.end);
  result_.activities = activities_;
  return result_;
}

}  // namespace

EngineResult simulate_here(const ClusterSpec& cluster, const TaskGraph& graph, const EngineOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  EngineResult r;
  FoldedGraph f;
  if (options.fold_replicas) f = fold_replicas(cluster, graph);
  if (options.fold_replicas && !f.identity) {
    Runner runner(cluster, f.graph, options, f.multiplicity);
    EngineResult folded = runner.run();
    r = unfold_result(graph, f, folded);
  } else {
    Runner runner(cluster, graph, options, std::vector<double>(boost::num_vertices(graph), 1.0));
    r = runner.run();
  }
  compute_exposed_comm(graph, r);
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace mhc
