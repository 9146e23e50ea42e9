// bench_engine: wall time and peak memory of the engine on a pipeline-like training step
// (1F1B over PP stages, an activation/gradient transfer per stage boundary and micro-batch, an
// expert all-to-all inside each node after every forward, a data-parallel gradient all-reduce per
// stage at the end) for 256, 2048 and 16384 GPUs of an H800 DeepSeek-like cluster.
// Usage: bench_engine [GPUS...] [--micro M] [--no-ep] [--ep N] [--rail] [--unfolded]
//   --ep N: expert-parallel group of N GPUs (default 8, one node); --rail: DeepEP-style all-to-all.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "engine/engine.h"

using namespace mhc;

namespace {

ClusterSpec deepseek_like(int gpus) {
  ClusterSpec c;
  c.name = "bench H800";
  c.gpus_per_node = 8;
  c.nodes = gpus / 8;
  c.gpu = "H800";
  c.nvlink = {160e9, 0.6e-6};
  c.nics_per_node = 8;
  c.nic = {40e9, 2.7e-6};
  c.topology = FabricTopology::multi_plane;
  c.planes = 8;
  c.nodes_per_leaf = 32;
  c.oversubscription = 1.0;
  c.sms = 132;
  c.comm_sms = 20;
  return c;
}

TaskId add(TaskGraph& g, TaskNode t) { return boost::add_vertex(std::move(t), g); }

// Stage s of replica r sits on GPU s * R + r, so a node holds 8 replicas of one stage.
TaskGraph pipeline_step(int gpus, int P, int M, bool ep, int ep_size) {
  const int R = gpus / P;
  TaskGraph g;
  const TaskId none = static_cast<TaskId>(-1);
  // fwd_in[s][r][m]: transfer into stage s for micro-batch m (none for s = 0); bwd_in likewise.
  std::vector<std::vector<std::vector<TaskId>>> fwd_out(P, std::vector<std::vector<TaskId>>(R, std::vector<TaskId>(M, none)));
  std::vector<std::vector<std::vector<TaskId>>> bwd_out = fwd_out;
  std::vector<std::vector<TaskId>> last(P, std::vector<TaskId>(R, none));
  // Per stage 1F1B order: warm-up forwards, steady 1F1B, cool-down backwards.
  auto order = [&](int s) {
    std::vector<std::pair<char, int>> o;
    int warm = std::min(M, P - s - 1), f = 0, b = 0;
    for (; f < warm; ++f) o.push_back({'F', f});
    while (b < M) {
      if (f < M) o.push_back({'F', f++});
      o.push_back({'B', b++});
    }
    return o;
  };
  // Build forwards stage by stage (a forward needs the previous stage's output), backwards in
  // reverse; stream order edges added afterwards from the per-stage order.
  std::vector<std::vector<std::vector<TaskId>>> F(P, std::vector<std::vector<TaskId>>(R, std::vector<TaskId>(M)));
  auto B = F;
  for (int s = 0; s < P; ++s)
    for (int r = 0; r < R; ++r)
      for (int m = 0; m < M; ++m) {
        TaskNode t;
        t.kind = NodeKind::compute;
        t.gpu = s * R + r;
        t.seconds = 1.0e-3;
        t.name = "F";
        t.category = "compute";
        F[s][r][m] = add(g, t);
        t.seconds = 2.0e-3;
        t.name = "B";
        B[s][r][m] = add(g, t);
      }
  for (int s = 0; s < P; ++s)
    for (int r = 0; r < R; ++r)
      for (int m = 0; m < M; ++m) {
        TaskId after_f = F[s][r][m];
        if (ep && r % ep_size == 0) {  // one all-to-all per EP group (ep_size replicas of this stage)
          TaskNode a;
          a.kind = NodeKind::collective;
          a.op = CollectiveOp::all_to_all;
          a.stream = Stream::comm;
          for (int k = 0; k < ep_size && r + k < R; ++k) a.group.push_back(s * R + r + k);
          a.bytes = 64e6;
          a.category = "ep";
          a.name = "A2A";
          TaskId x = add(g, a);
          for (int k = 0; k < ep_size && r + k < R; ++k) {
            boost::add_edge(F[s][r + k][m], x, g);
          }
          for (int k = 0; k < ep_size && r + k < R; ++k) fwd_out[s][r + k][m] = x;
        }
        if (s + 1 < P) {
          TaskNode t;
          t.kind = NodeKind::transfer;
          t.stream = Stream::comm;
          t.src_gpu = s * R + r;
          t.dst_gpu = (s + 1) * R + r;
          t.bytes = 16e6;
          t.category = "pp";
          t.name = "act";
          TaskId x = add(g, t);
          boost::add_edge(fwd_out[s][r][m] != none ? fwd_out[s][r][m] : after_f, x, g);
          boost::add_edge(x, F[s + 1][r][m], g);
          t.src_gpu = (s + 1) * R + r;
          t.dst_gpu = s * R + r;
          t.name = "grad";
          TaskId y = add(g, t);
          boost::add_edge(B[s + 1][r][m], y, g);
          boost::add_edge(y, B[s][r][m], g);
        }
        boost::add_edge(F[s][r][m], B[s][r][m], g);
      }
  for (int s = 0; s < P; ++s) {
    auto o = order(s);
    for (int r = 0; r < R; ++r) {
      TaskId prev = none;
      for (auto [kind, m] : o) {
        TaskId v = kind == 'F' ? F[s][r][m] : B[s][r][m];
        if (prev != none) boost::add_edge(prev, v, g);
        prev = v;
      }
      last[s][r] = prev;
    }
    TaskNode d;
    d.kind = NodeKind::collective;
    d.op = CollectiveOp::all_reduce;
    d.stream = Stream::comm;
    for (int r = 0; r < R; ++r) d.group.push_back(s * R + r);
    d.bytes = 1e9;
    d.category = "dp";
    d.name = "DP";
    if (R > 1) {
      TaskId x = add(g, d);
      for (int r = 0; r < R; ++r) boost::add_edge(last[s][r], x, g);
    }
  }
  return g;
}

double peak_mib(int who) {
  rusage u{};
  getrusage(who, &u);
  return u.ru_maxrss / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  int M = 32;
  bool ep = true, fold = true, rail = false;
  int ep_size = 8;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--micro") && i + 1 < argc) M = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--no-ep")) ep = false;
    else if (!std::strcmp(argv[i], "--unfolded")) fold = false;
    else if (!std::strcmp(argv[i], "--rail")) rail = true;
    else if (!std::strcmp(argv[i], "--ep") && i + 1 < argc) ep_size = std::atoi(argv[++i]);
    else sizes.push_back(std::atoi(argv[i]));
  }
  if (sizes.empty()) sizes = {256, 2048, 16384};
  std::printf("# bench_engine: 1F1B, PP16, M=%d micro-batches, %s (%s), DP all-reduce per stage; fold %s\n", M,
              ep ? ("EP" + std::to_string(ep_size) + " all-to-all per forward").c_str() : "no EP",
              rail ? "rail" : "NCCL direct", fold ? "on" : "off");
  // activities: flows, latency timers, wake-ups and GPU timers (each kernel end the GPU model
  // schedules); tasks/s counts graph tasks, the same work whatever the engine makes of it.
  std::printf("%7s %9s %9s %11s %9s %10s %10s %10s %11s %12s %12s\n", "GPUs", "tasks", "sim GPUs", "activities",
              "build s", "engine s", "act/s", "tasks/s", "makespan s", "parent MiB", "child MiB");
  for (int G : sizes) {
    auto t0 = std::chrono::steady_clock::now();
    TaskGraph g = pipeline_step(G, 16, M, ep, ep_size);
    double build = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EngineOptions o;
    o.fold_replicas = fold;
    if (rail) o.collective.all_to_all_algo = NcclAlgo::rail;
    EngineResult r = simulate(deepseek_like(G), g, o);
    std::printf("%7d %9zu %9d %11ld %9.2f %10.2f %10.0f %10.0f %11.4f %12.1f %12.1f\n", G, boost::num_vertices(g),
                r.simulated_gpus, r.activities, build, r.wall_seconds, r.activities / r.wall_seconds,
                boost::num_vertices(g) / r.wall_seconds, r.makespan_s, peak_mib(RUSAGE_SELF), peak_mib(RUSAGE_CHILDREN));
    std::fflush(stdout);
  }
  return 0;
}
