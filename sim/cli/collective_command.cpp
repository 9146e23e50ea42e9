// `mhcsim collective`: the flags, and the rows of accuracy/collective_bench.h (each size alone on the
// network, as nccl-tests runs them) printed like nccl-tests.
#include "cli/collective_command.h"

#include <cmath>
#include <cstdio>
#include <optional>

#include "accuracy/collective_bench.h"
#include "core/cli_args.h"
#include "core/json_input.h"
#include "engine/nccl_model.h"
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
    "  SimGrid simulation of the algorithm's flows at the bandwidth the cluster's published nccl-tests\n"
    "  results (nccl_measured) give NCCL for that link kind and algorithm; nccl-tuner is NCCL's own\n"
    "  tuner formula, uncalibrated. Where the cluster lists an nccl-tests figure of the same operation\n"
    "  on the same GPUs, the table is followed by that size simulated against its published busbw.";

namespace {
constexpr double kMaxCollectiveBytes = 1024.0 * 1024 * 1024 * 1024;
constexpr int kMaxCollectiveSizes = 1000;
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

// The cluster's nccl-tests figures for this operation on these GPUs, each simulated at its own size
// against the busbw it published (the figure the calibration was put on; no held-out here): the
// check that the simulated collective lands on the measurement. Skipped under --algo / --proto,
// which ask for something else than what nccl-tests ran.
void print_published_checks(std::ostream& out, const ClusterSpec& cluster, const CollectiveBenchRequest& req) {
  if (req.sendrecv || req.options.algo || req.options.proto) return;
  for (const NcclMeasurement& m : cluster.nccl_measured) {
    if (m.op != req.op || m.gpus != req.gpus) continue;
    CollectiveBenchRequest one = req;
    one.sizes = {m.bytes};
    const CollectiveBenchRow row = bench_collective(cluster, one).rows.front();
    const double err = (row.busbw_Bps - m.busbw_Bps) / m.busbw_Bps;
    char line[320];
    std::snprintf(line, sizeof line,
                  "# published (nccl_measured %s): busbw %.1f GB/s at %.0f B; simulated %.1f GB/s (%+.1f%%), %s 10%%\n",
                  m.id.c_str(), m.busbw_Bps / 1e9, m.bytes, row.busbw_Bps / 1e9, err * 100,
                  std::fabs(err) <= 0.10 ? "within" : "NOT within");
    out << line;
  }
}

}  // namespace

int run_collective_command(const std::vector<std::string>& args, std::ostream& out) {
  const std::string cmd = "mhcsim collective";
  CliArgs cli(cmd, args, {"--op", "--cluster", "--gpus", "--min", "--max", "--factor", "--algo", "--proto"}, {});
  const std::string op_text = cli.required("--op");
  CollectiveBenchRequest req;
  if (!parse_bench_op(op_text, req))
    cli.fail("--op", "expected all_reduce, reduce_scatter, all_gather, all_to_all or sendrecv, got '" + bounded(op_text) + "'");
  ClusterSpec cluster = load_cluster_file(cli.required("--cluster"));
  if (cluster.total_gpus() < 2) cli.fail("--cluster", "a collective needs a cluster of at least 2 GPUs");
  const int64_t gpus = cli.integer("--gpus", 2, cluster.total_gpus());  // at most the cluster's GPUs
  if (gpus > cluster.gpus_per_node && gpus % cluster.gpus_per_node != 0)
    cli.fail("--gpus", "expected whole nodes (a multiple of " + std::to_string(cluster.gpus_per_node) + ") beyond one node");
  req.gpus = static_cast<int>(gpus);
  double min_b = parse_size(cli.get("--min").value_or("1K"), "--min");
  double max_b = parse_size(cli.get("--max").value_or("1G"), "--max");
  const double factor = cli.number_or("--factor", 2.0, 1.001, 1024);
  if (max_b < min_b) cli.fail("--max", "expected at least --min");
  // One simulated operation per size: keep the table (and the simulation) to nccl-tests' scale.
  if (std::log(max_b / min_b) / std::log(factor) > kMaxCollectiveSizes)
    cli.fail("--factor", "from --min to --max by this factor is more than " + std::to_string(kMaxCollectiveSizes) +
                             " sizes");
  if (auto a = cli.get("--algo")) req.options.algo = parse_nccl_algo(*a, cmd + " --algo");
  if (auto p = cli.get("--proto")) req.options.proto = parse_nccl_proto(*p, cmd + " --proto");
  for (double b = min_b; b <= max_b * (1 + 1e-12); b *= factor) {
    const double bytes = std::floor(b / 4) * 4;  // whole floats
    if (bytes > 0) req.sizes.push_back(bytes);
  }
  CollectiveBenchResult r;
  try {
    r = bench_collective(cluster, req);
  } catch (const std::invalid_argument& e) {  // NCCL's rules reject the override here
    cli.fail(req.options.algo ? "--algo" : "--proto", e.what());
  }

  char line[256];
  out << "# mhcsim collective: " << op_text << " on " << gpus << " GPUs of " << cluster.name << " (" << r.nodes
      << " node" << (r.nodes > 1 ? "s" : "") << ")\n"
      << "# time: simulated with SimGrid flows, NCCL's algorithm/protocol choice, and its bandwidth put on\n"
      << "# published nccl-tests results where the cluster has them (nccl_measured): "
      << (r.calibration.points.empty() ? std::string("none, so NCCL's tuner bandwidth") : r.calibration.describe())
      << "\n# nccl-tuner: NCCL's own estimate (NCCL 2.23 src/graph/tuning.cc constants), uncalibrated\n";
  std::snprintf(line, sizeof line, "#%12s %12s %6s %6s %10s %8s %8s  %-6s %-6s %10s\n", "size", "count", "type",
                "redop", "time", "algbw", "busbw", "algo", "proto", "nccl-tuner");
  out << line;
  std::snprintf(line, sizeof line, "#%12s %12s %6s %6s %10s %8s %8s  %-6s %-6s %10s\n", "(B)", "(elements)", "", "",
                "(us)", "(GB/s)", "(GB/s)", "", "", "(us)");
  out << line;
  double sum_bus = 0;
  const bool reduces = !req.sendrecv && (req.op == CollectiveOp::all_reduce || req.op == CollectiveOp::reduce_scatter);
  for (const CollectiveBenchRow& row : r.rows) {
    sum_bus += row.busbw_Bps / 1e9;
    std::snprintf(line, sizeof line, " %12.0f %12.0f %6s %6s %10.2f %8.2f %8.2f  %-6s %-6s %10.2f\n", row.bytes,
                  row.bytes / 4, "float", reduces ? "sum" : "none", row.seconds * 1e6, row.algbw_Bps / 1e9,
                  row.busbw_Bps / 1e9, to_string(row.nccl.algo), to_string(row.nccl.proto), row.nccl.time_s * 1e6);
    out << line;
  }
  std::snprintf(line, sizeof line, "# Avg bus bandwidth    : %g\n", r.rows.empty() ? 0.0 : sum_bus / r.rows.size());
  out << line;
  std::snprintf(line, sizeof line, "# engine: %d GPUs simulated, %ld activities, %.2f s wall\n", r.simulated_gpus,
                r.activities, r.wall_seconds);
  out << line;
  print_published_checks(out, cluster, req);
  return 0;
}

}  // namespace mhc
