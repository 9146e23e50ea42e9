#include "cli/schedule_command.h"

#include <algorithm>
#include <climits>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/output_file.h"
#include "core/cli_args.h"
#include "core/json_input.h"
#include "graph/dag.h"
#include "graph/evaluator.h"
#include "report/trace.h"
#include "scenario/input_limits.h"
#include "schedule/schedule.h"

namespace mhc {

const char* const kScheduleUsage =
    "mhcsim schedule --kind K --stages P --micro M [--chunks V] [--times F=..,B=..,W=..,FB=..]\n"
    "                [--layers L] [--json] [--trace FILE]\n"
    "  --kind     gpipe | 1f1b | interleaved | zb1p | zbh2 | dualpipe | dualpipev (aliases: one_f_one_b,\n"
    "             interleaved-1f1b, interleaved_1f1b, vpp, zb-h1, zbh1, zb_h1, zb-h2, zb_h2, dualpipe-v,\n"
    "             dualpipe_v)\n"
    "  --stages   pipeline stages P (dualpipe: even; dualpipev: even model stages run on P/2 devices)\n"
    "  --micro    micro-batches per step (1f1b/zb: >= P; interleaved: a multiple of P; dualpipe: even\n"
    "             and >= 2P; dualpipev: >= P)\n"
    "  --chunks   virtual stages per rank, interleaved only (default 1)\n"
    "  --times    task times in arbitrary units; defaults F=1,B=2,W=1 and FB=F+B (of the F and B given).\n"
    "             B is the full backward (input + weight gradient) as in the DualPipe README table; kinds\n"
    "             that split it (zb1p, zbh2, dualpipe's zero-bubble chunks) run B-W then W. FB is\n"
    "             DualPipe's overlapped forward+backward pair. Needs 0 <= W <= B.\n"
    "  --layers   model layers; checked to split evenly over the model stages (P x V; dualpipev P)\n"
    "  --json     {\"kind\",\"stages\",\"micro\",\"makespan\",\"ranks\":[{\"rank\",\"busy\",\"bubble\","
    "\"peak_activations\"}]} plus details\n"
    "  --trace    write a Chrome/Perfetto trace (one track per rank; 1 time unit = 1 us)\n"
    "Transfers between stages are free here; bubble = makespan - busy time, per rank.";

namespace {

constexpr const char* kOrigin = "mhcsim schedule";
constexpr double kMaxPhaseTime = 1e9;


PhaseTimes parse_times(const CliArgs& args) {
  PhaseTimes t;
  if (!args.has("--times")) return t;  // documented defaults: F=1, B=2, W=1, FB=F+B=3
  bool fb_given = false;
  for (const auto& [key, value] : args.key_values("--times")) {
    // Arbitrary units, but a step must stay a finite sum of them.
    if (std::fabs(value) > kMaxPhaseTime)
      args.fail("--times", key + " must be at most " + std::to_string(int64_t(kMaxPhaseTime)) + " time units");
    if (key == "F") t.F = value;
    else if (key == "B") t.B = value;
    else if (key == "W") t.W = value;
    else if (key == "FB" || key == "F&B") t.FB = value, fb_given = true;
    else args.fail("--times", "unknown task '" + key + "' (expected F, B, W, FB)");
  }
  if (!fb_given) t.FB = t.F + t.B;
  validate_phase_times(t, kOrigin, "--times");
  return t;
}

std::string fmt(double v) {
  std::ostringstream os;
  os << std::setprecision(10) << v;
  return os.str();
}

}  // namespace

int run_schedule_command(const std::vector<std::string>& argv, std::ostream& out) {
  CliArgs args(kOrigin, argv, {"--kind", "--stages", "--micro", "--chunks", "--times", "--trace", "--layers"}, {"--json"});
  args.expect_positional(0, "");
  ScheduleRequest req;
  req.kind = parse_schedule_kind(args.required("--kind"), kOrigin, "--kind");
  // The ranges validate_request() enforces, read without narrowing.
  req.stages = static_cast<int>(args.integer("--stages", 1, kMaxScheduleStages));
  req.micro = static_cast<int>(args.integer("--micro", 1, kMaxScheduleMicroBatches));
  req.chunks = static_cast<int>(args.integer_or("--chunks", 1, 1, kMaxScheduleChunks));
  const PhaseTimes times = parse_times(args);
  validate_request(req);
  if (args.has("--layers")) validate_layers(req, static_cast<int>(args.integer("--layers", 1, limits::kMaxLayers)));
  auto trace = OutputFile::open_if_given(args, kOrigin, "--trace");

  const Schedule schedule = generate_schedule(req);
  const PipelineGraph pg = build_pipeline_graph(schedule, phase_time_costs(times), {});
  const DagCheck check = check_graph(pg.graph, schedule);
  if (!check.cycle.empty()) {  // cannot be priced; generated schedules never get here
    out << "schedule " << to_string(req.kind) << " deadlocks: " << check.cycle_text << "\n";
    return 1;
  }
  const auto timings = evaluate_zero_cost(pg.graph);
  const auto stats = rank_stats(pg.graph, timings, schedule.ranks);
  const auto path = critical_path(pg.graph, timings);
  const double makespan = stats.empty() ? 0.0 : stats.front().makespan;
  if (trace) trace->write(chrome_trace_json(pg.graph, timings, 1.0));

  if (args.has("--json")) {
    nlohmann::json j;
    j["kind"] = to_string(req.kind);
    j["stages"] = req.stages;
    j["micro"] = req.micro;
    j["chunks"] = schedule.chunks_per_rank;
    j["devices"] = schedule.ranks;
    j["model_stages"] = schedule.model_stages;
    j["params_per_rank"] = schedule.params_per_rank;
    j["times"] = {{"F", times.F}, {"B", times.B}, {"W", times.W}, {"FB", times.FB}};
    j["makespan"] = makespan;
    j["ranks"] = nlohmann::json::array();
    for (const auto& s : stats)
      j["ranks"].push_back({{"rank", s.rank}, {"busy", s.busy}, {"bubble", s.bubble}, {"idle", s.idle},
                            {"peak_activations", s.peak_activations}});
    j["checks"] = {{"ok", check.ok}, {"problems", check.problems}};
    out << j.dump(2) << "\n";
    return check.ok ? 0 : 1;
  }

  out << "schedule " << to_string(req.kind) << ": " << schedule.model_stages << " model stages on " << schedule.ranks
      << " ranks (" << schedule.chunks_per_rank << " chunk" << (schedule.chunks_per_rank > 1 ? "s" : "")
      << " per rank, parameters per rank " << schedule.params_per_rank << "x), " << req.micro << " micro-batches\n";
  out << "times: F=" << fmt(times.F) << " B=" << fmt(times.B) << " (full backward; split input-gradient B-W="
      << fmt(times.B - times.W) << ") W=" << fmt(times.W) << " FB=" << fmt(times.FB) << "\n";
  out << "tasks: " << schedule.task_count() << " compute, " << pg.transfers.size() << " transfers (free here)\n";
  out << "checks: " << (check.ok ? "ok (acyclic; every micro-batch runs F, B and W once per stage)" : "FAILED") << "\n";
  for (const auto& p : check.problems) out << "  " << p << "\n";
  out << "makespan: " << fmt(makespan) << "\n\n";
  out << "rank        busy      bubble   bubble/makespan   peak activations\n";
  for (const auto& s : stats)
    out << std::setw(4) << s.rank << std::setw(12) << fmt(s.busy) << std::setw(12) << fmt(s.bubble) << std::setw(17)
        << (makespan > 0 ? fmt(std::round(1e4 * s.bubble / makespan) / 1e4) : "0") << std::setw(19)
        << s.peak_activations << "\n";
  double path_compute = 0;
  for (TaskId v : path)
    if (pg.graph[v].kind == NodeKind::compute) path_compute += pg.graph[v].seconds;
  out << "\ncritical path: " << path.size() << " nodes, compute " << fmt(path_compute) << ", from '"
      << (path.empty() ? "" : pg.graph[path.front()].name) << "' to '" << (path.empty() ? "" : pg.graph[path.back()].name)
      << "'\n";
  if (schedule.task_count() <= 4000) {
    std::string timeline = ascii_timeline(pg.graph, timings, schedule.ranks);
    if (!timeline.empty()) out << "\n" << timeline;
  }
  if (args.has("--trace")) out << "\ntrace written to " << *args.get("--trace") << "\n";
  return check.ok ? 0 : 1;
}

}  // namespace mhc
