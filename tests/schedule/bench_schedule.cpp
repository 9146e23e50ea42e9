// bench_schedule: how long generating a schedule, building its task graph, checking it and evaluating
// it with zero-cost transfers takes, for the sizes the issue names (P=16, M=1024 and P=64, M=4096)
// and every kind. Prints a table; "bench_schedule quick" runs only P=16, M=1024.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <string>
#include <vector>

#include "graph/dag.h"
#include "graph/evaluator.h"
#include "schedule/schedule.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void run(mhc::ScheduleKind kind, int P, int M, int chunks) {
  mhc::PhaseTimes times;  // F=1, B=2, W=1, FB=3
  const std::clock_t cpu0 = std::clock();
  auto t0 = Clock::now();
  mhc::Schedule s = mhc::generate_schedule({kind, P, M, chunks});
  double gen = seconds_since(t0);
  auto t1 = Clock::now();
  mhc::PipelineGraph pg = mhc::build_pipeline_graph(s, mhc::phase_time_costs(times), {});
  double build = seconds_since(t1);
  auto t2 = Clock::now();
  mhc::DagCheck check = mhc::check_graph(pg.graph, s);
  double chk = seconds_since(t2);
  auto t3 = Clock::now();
  auto timings = mhc::evaluate_zero_cost(pg.graph);
  auto stats = mhc::rank_stats(pg.graph, timings, s.ranks);
  double eval = seconds_since(t3);
  // CPU seconds of the whole sequence (this process): wall times inflate when the machine is shared.
  double cpu = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
  double bubble = 0;
  for (const auto& r : stats) bubble = std::max(bubble, r.bubble);
  std::printf("%-11s %4d %6d %3d %9zu %9zu %8.3f %8.3f %8.3f %8.3f %9.3f %9.3f %10.1f %s\n", mhc::to_string(kind), P,
              M, chunks, s.task_count(), boost::num_vertices(pg.graph), gen, build, chk, eval, gen + build + eval, cpu,
              bubble, check.ok ? "ok" : "FAILED");
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "quick";
  std::printf("%-11s %4s %6s %3s %9s %9s %8s %8s %8s %8s %9s %9s %10s %s\n", "kind", "P", "M", "v", "tasks", "vertices",
              "gen_s", "build_s", "check_s", "eval_s", "gen+b+e", "all_cpu_s", "max_bubble", "check");
  std::vector<std::pair<int, int>> sizes = {{16, 1024}};
  if (!quick) sizes.push_back({64, 4096});
  for (auto [P, M] : sizes) {
    run(mhc::ScheduleKind::gpipe, P, M, 1);
    run(mhc::ScheduleKind::one_f_one_b, P, M, 1);
    run(mhc::ScheduleKind::interleaved, P, M, 2);
    run(mhc::ScheduleKind::zb_h1, P, M, 1);
    run(mhc::ScheduleKind::zb_h2, P, M, 1);
    run(mhc::ScheduleKind::dualpipe, P, M, 1);
    run(mhc::ScheduleKind::dualpipe_v, P, M, 1);
  }
  return 0;
}
