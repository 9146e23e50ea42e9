// `mhcsim collective`: sizes run back to back in one simulation (each operation alone on the
// network, as nccl-tests runs them), one row per size.
#include "cli/collective_command.h"

#include <cmath>
#include <cstdio>
#include <optional>

#include "cli/cli_args.h"
#include "core/json_input.h"
#include "engine/engine.h"
#include "scenario/cluster.h"

namespace mhc {

const char* const kCollectiveUsage =
    "mhcsim collective --op OP --cluster FILE --gpus G [--min B] [--max B] [--factor F]\n"
    "                  [--algo ring|tree|nvls|direct|rail] [--proto LL|LL128|Simple]\n"
    "  OP: all_reduce, reduce_scatter, all_gather, all_to_all, sendrecv. Runs OP on the first G GPUs\n"
    "  of the cluster for sizes min, min*F, ... max (bytes, suffixes K M G T = 1024^n; defaults 1K, 1G,\n"
    "  2) and prints a table like nccl-tests: size, count and type (float), time (us), algbw and\n"
    "  busbw (GB/s), then the algorithm/protocol chosen and NCCL's closed-form time. Size is the\n"
    "  buffer nccl-tests reports (all-gather: the gathered output; reduce-scatter: the full input).\n"
    "  --algo rail (all_to_all only) is DeepEP's NVLink-forwarded all-to-all, not an NCCL algorithm.\n"
    "  Latency and bandwidth constants follow NCCL 2.23 (src/graph/tuning.cc); the time column is the\n"
    "  SimGrid simulation of the algorithm's flows, nccl-model is NCCL's own tuner formula.";

namespace {
constexpr double kMaxCollectiveBytes = 1024.0 * 1024 * 1024 * 1024;
}  // namespace

double parse_size(const std::string& text, const std::string& flag) {
  auto fail = [&] {
    throw InputError("mhcsim collective", flag, "expected a size in bytes like 8, 1K, 4M or 2G, got '" + bounded(text) + "'");
  };
  if (text.empty()) fail();
  double mult = 1;
  std::string num = text;
  char last = text.back();
  if (last == 'K' || last == 'k') mult = 1024.0;
  if (last == 'M' || last == 'm') mult = 1024.0 * 1024;
  if (last == 'G' || last == 'g') mult = 1024.0 * 1024 * 1024;
  if (last == 'T' || last == 't') mult = 1024.0 * 1024 * 1024 * 1024;
  if (mult > 1) num.pop_back();
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(num, &used);
  } catch (...) {
    fail();
  }
  if (used != num.size() || !(v > 0) || !std::isfinite(v)) fail();
  // At most 1 TiB: a buffer beyond any GPU's memory.
  if (v * mult > kMaxCollectiveBytes)
    throw InputError("mhcsim collective", flag, "a size of at most 1T (1024^4 bytes), got '" + bounded(text) + "'");
  return v * mult;
}

namespace {

constexpr int kMaxCollectiveSizes = 1000;

struct Row {
  double bytes;
  TaskId task;
};

}  // namespace

int run_collective_command(const std::vector<std::string>& args, std::ostream& out) {
  const std::string cmd = "mhcsim collective";
  CliArgs cli(cmd, args, {"--op", "--cluster", "--gpus", "--min", "--max", "--factor", "--algo", "--proto"}, {});
  const std::string op_text = cli.required("--op");
  bool sendrecv = op_text == "sendrecv";
  CollectiveOp op = CollectiveOp::all_reduce;
  if (op_text == "all_reduce") op = CollectiveOp::all_reduce;
  else if (op_text == "reduce_scatter") op = CollectiveOp::reduce_scatter;
  else if (op_text == "all_gather") op = CollectiveOp::all_gather;
  else if (op_text == "all_to_all") op = CollectiveOp::all_to_all;
  else if (!sendrecv)
    cli.fail("--op", "expected all_reduce, reduce_scatter, all_gather, all_to_all or sendrecv, got '" + op_text + "'");
  ClusterSpec cluster = load_cluster_file(cli.required("--cluster"));
  if (cluster.total_gpus() < 2) cli.fail("--cluster", "a collective needs a cluster of at least 2 GPUs");
  const int64_t gpus = cli.integer("--gpus", 2, cluster.total_gpus());  // at most the cluster's GPUs
  if (gpus > cluster.gpus_per_node && gpus % cluster.gpus_per_node != 0)
    cli.fail("--gpus", "expected whole nodes (a multiple of " + std::to_string(cluster.gpus_per_node) + ") beyond one node");
  double min_b = parse_size(cli.get("--min").value_or("1K"), "--min");
  double max_b = parse_size(cli.get("--max").value_or("1G"), "--max");
  const double factor = cli.number_or("--factor", 2.0, 1.001, 1024);
  if (max_b < min_b) cli.fail("--max", "expected at least --min");
  // One simulated operation per size: keep the table (and the simulation) to nccl-tests' scale.
  if (std::log(max_b / min_b) / std::log(factor) > kMaxCollectiveSizes)
    cli.fail("--factor", "from --min to --max by this factor is more than " + std::to_string(kMaxCollectiveSizes) +
                             " sizes");
  EngineOptions options;
  if (auto a = cli.get("--algo")) options.collective.algo = parse_nccl_algo(*a, cmd + " --algo");
  if (auto p = cli.get("--proto")) options.collective.proto = parse_nccl_proto(*p, cmd + " --proto");

  std::vector<int> group = first_gpus(cluster, static_cast<int>(gpus));
  Topology topology(cluster);
  // Validate the override against NCCL's rules up front, as a flag error.
  if (!sendrecv) {
    try {
      plan_collective(topology, op, group, min_b, options.collective);
    } catch (const std::invalid_argument& e) {
      cli.fail(options.collective.algo ? "--algo" : "--proto", e.what());
    }
  }

  // One graph: each size after the previous one (sendrecv: every GPU sends to the next, as
  // nccl-tests' sendrecv does, joined by a zero-time marker).
  TaskGraph g;
  std::vector<Row> rows;
  std::vector<std::vector<TaskId>> step_tasks;
  TaskId prev = static_cast<TaskId>(-1);
  for (double b = min_b; b <= max_b * (1 + 1e-12); b *= factor) {
    double bytes = std::floor(b / 4) * 4;  // whole floats
    if (bytes <= 0) continue;
    TaskNode marker;
    marker.name = "size " + std::to_string(static_cast<long long>(bytes));
    marker.gpu = group[0];
    TaskId m = boost::add_vertex(marker, g);
    if (prev != static_cast<TaskId>(-1)) boost::add_edge(prev, m, g);
    TaskNode end_marker = marker;
    end_marker.name += " end";
    TaskId e = boost::add_vertex(end_marker, g);
    if (sendrecv) {
      for (size_t i = 0; i < group.size(); ++i) {
        TaskNode t;
        t.name = marker.name + " send " + std::to_string(i);
        t.kind = NodeKind::transfer;
        t.stream = Stream::comm;
        t.src_gpu = group[i];
        t.dst_gpu = group[(i + 1) % group.size()];
        t.bytes = bytes;
        t.category = "sendrecv";
        TaskId v = boost::add_vertex(t, g);
        boost::add_edge(m, v, g);
        boost::add_edge(v, e, g);
      }
    } else {
      TaskNode t;
      t.name = marker.name + " " + op_text;
      t.kind = NodeKind::collective;
      t.stream = Stream::comm;
      t.op = op;
      t.group = group;
      t.bytes = bytes;
      t.category = op_text;
      TaskId v = boost::add_vertex(t, g);
      boost::add_edge(m, v, g);
      boost::add_edge(v, e, g);
    }
    rows.push_back({bytes, m});
    prev = e;
  }
  EngineResult r = simulate(cluster, g, options);

  CommGroupShape shape = group_shape(cluster, group);
  char line[256];
  out << "# mhcsim collective: " << op_text << " on " << gpus << " GPUs of " << cluster.name << " ("
      << shape.nodes << " node" << (shape.nodes > 1 ? "s" : "") << ")\n"
      << "# simulated with SimGrid flows; NCCL cost-model constants of NCCL 2.23 (src/graph/tuning.cc)\n";
  std::snprintf(line, sizeof line, "#%12s %12s %6s %6s %10s %8s %8s  %-6s %-6s %10s\n", "size", "count", "type",
                "redop", "time", "algbw", "busbw", "algo", "proto", "nccl-model");
  out << line;
  std::snprintf(line, sizeof line, "#%12s %12s %6s %6s %10s %8s %8s  %-6s %-6s %10s\n", "(B)", "(elements)", "", "",
                "(us)", "(GB/s)", "(GB/s)", "", "", "(us)");
  out << line;
  double sum_bus = 0;
  for (const Row& row : rows) {
    TaskId e = row.task + 1;
    double t = r.timings[e].end - r.timings[row.task].end;
    NcclEstimate est;
    if (sendrecv) {
      // Simulated flows plus NCCL's p2p latency beyond the wire latency.
      CollectivePlan p = plan_sendrecv(topology, group[0], group[1 % group.size()], row.bytes, options.collective);
      double wire = 0;
      for (size_t i = 0; i < group.size(); ++i)
        wire = std::max(wire, topology.route_latency(group[i], group[(i + 1) % group.size()]));
      est = p.choice;
      t += std::max(0.0, est.latency_s - wire);
      CollectivePlan worst =
          plan_sendrecv(topology, group.back(), group.front(), row.bytes, options.collective);  // crosses nodes if any
      if (worst.choice.time_s > est.time_s) est = worst.choice;
    } else {
      est = nccl_select(op, shape, row.bytes, options.collective.algo ? &*options.collective.algo : nullptr,
                        options.collective.proto ? &*options.collective.proto : nullptr);
    }
    double algbw = row.bytes / t / 1e9;
    double busbw = algbw * (sendrecv ? 1.0 : bus_bw_factor(op, static_cast<int>(gpus)));
    sum_bus += busbw;
    const char* redop = (op == CollectiveOp::all_reduce || op == CollectiveOp::reduce_scatter) && !sendrecv ? "sum" : "none";
    std::snprintf(line, sizeof line, " %12.0f %12.0f %6s %6s %10.2f %8.2f %8.2f  %-6s %-6s %10.2f\n", row.bytes,
                  row.bytes / 4, "float", redop, t * 1e6, algbw, busbw, to_string(est.algo), to_string(est.proto),
                  est.time_s * 1e6);
    out << line;
  }
  std::snprintf(line, sizeof line, "# Avg bus bandwidth    : %g\n", rows.empty() ? 0.0 : sum_bus / rows.size());
  out << line;
  std::snprintf(line, sizeof line, "# engine: %d GPUs simulated, %ld activities, %.2f s wall\n", r.simulated_gpus,
                r.activities, r.wall_seconds);
  out << line;
  return 0;
}

}  // namespace mhc
