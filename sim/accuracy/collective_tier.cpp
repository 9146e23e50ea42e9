// Collectives and all-to-all: `mhcsim collective`'s bench against nccl-tests and DeepEP figures.
// Held out: the clusters' nccl_measured put NCCL's bandwidth on the very nccl-tests figures this tier
// checks, so each case is run with the efficiency the *other* measurements give (leave-one-out over
// every measurement of the shipped cluster files); a case whose link kind and algorithm no other
// measurement covers runs at NCCL's tuner bandwidth, and says so. A DeepEP case whose id names an
// entry of its cluster's deepep_measured is replayed the way runs price MoE layers: the rail
// all-to-all with moe_traffic's bytes per link class, at the efficiencies the cluster's *other* DeepEP
// figures give (cost/deepep_calibration.h).
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <utility>

#include "accuracy/accuracy_tiers.h"
#include "accuracy/collective_bench.h"
#include "core/json_input.h"
#include "cost/deepep_calibration.h"
#include "engine/nccl_calibration.h"
#include "engine/nccl_model.h"
#include "scenario/cluster.h"

namespace mhc {

namespace {

std::string size_text(double bytes) {
  std::ostringstream s;
  s.precision(4);
  if (bytes >= 1 << 30) s << bytes / double(1 << 30) << " GiB";
  else if (bytes >= 1 << 20) s << bytes / double(1 << 20) << " MiB";
  else s << bytes << " B";
  return s.str();
}

// Every measurement of the cluster files beside those the cases name (scenarios/clusters/), as
// calibration points on their own cluster: the same pool whichever cases run (--only).
std::vector<NcclCalibration::Point> all_points(const std::vector<CollectiveCase>& cases) {
  std::set<std::string> dirs;
  for (const CollectiveCase& c : cases) dirs.insert(std::filesystem::path(c.cluster).parent_path().string());
  std::set<std::string> files;  // sorted: a fixed order
  for (const std::string& d : dirs)
    for (const auto& e : std::filesystem::directory_iterator(d.empty() ? "." : d))
      if (e.path().extension() == ".json") files.insert(e.path().string());
  std::vector<NcclCalibration::Point> out;
  for (const std::string& f : files) {
    const ClusterSpec cluster = load_cluster_file(f);
    for (const NcclMeasurement& m : cluster.nccl_measured) {
      NcclCalibration::Point p = calibration_point(cluster, m);
      bool seen = false;  // one figure listed by several cluster files counts once
      for (const auto& q : out) seen = seen || q.id == p.id;
      if (!seen) out.push_back(p);
    }
  }
  return out;
}

// A case's result in microseconds: what it is, as published, measured and predicted seconds.
CaseResult timed_case(const CollectiveCase& c, std::string what, std::string measured_text, double measured_s,
                      double predicted_s) {
  CaseResult r = case_result(Tier::collectives, c.id, c.source, c.notes, Unit::microseconds);
  r.what = std::move(what);
  r.measured_text = std::move(measured_text);
  r.measured = measured_s * 1e6;
  r.predicted = predicted_s * 1e6;
  r.signed_error = (r.predicted - r.measured) / r.measured;
  r.abs_error = std::fabs(r.signed_error);
  return r;
}

// The DeepEP figure `m` of `cluster` replayed held out; the case must state the same figure.
CaseResult one_deepep(const CollectiveCase& c, const ClusterSpec& cluster, const DeepEpMeasurement& m) {
  const DeepEpReplay replay = replay_deepep(cluster, m);
  auto differs = [](double a, double b) { return std::fabs(a - b) > 1e-3 * std::fabs(b); };
  if (c.op != "all_to_all" || c.gpus != m.ep)
    throw InputError(c.file, c.pointer, "expected an all_to_all on " + std::to_string(m.ep) + " GPUs, as " +
                                            cluster.file + " " + m.pointer + " states the same figure");
  if (differs(c.bytes, replay.counted_bytes))
    throw InputError(c.file, c.pointer + "/bytes",
                     "expected the bytes DeepEP's test counts for " + cluster.file + " " + m.pointer + " (" +
                         std::to_string(static_cast<long long>(std::llround(replay.counted_bytes))) + ")");
  if (c.measure != CollectiveCase::Measure::algbw || differs(c.measured_GBps * 1e9, m.bandwidth_Bps))
    throw InputError(c.file, c.pointer + "/measured",
                     "expected algbw_GBps equal to " + cluster.file + " " + m.pointer + "/bandwidth_GBps");
  const DeepEpCalibration held_out = calibrate_deepep(cluster, c.id);
  const double nvl = held_out.efficiency(m.kernel, RailLink::nvlink);
  const double net = held_out.efficiency(m.kernel, RailLink::network);
  CollectiveBenchRequest req;
  req.op = CollectiveOp::all_to_all;
  req.gpus = m.ep;
  const double total = replay.data.total();
  req.sizes = {total};
  req.options.all_to_all_algo = NcclAlgo::rail;
  req.rail_per_byte = {replay.data.network / total, replay.data.nvlink / total, net, nvl};
  const CollectiveBenchResult b = bench_collective(cluster, req);
  std::ostringstream what;
  what << "DeepEP " << to_string(m.kernel) << " EP" << m.ep << " (" << b.nodes << " node" << (b.nodes > 1 ? "s" : "")
       << "), " << m.tokens << " tokens, replayed as the rail all-to-all";
  std::ostringstream meas;
  meas << m.bandwidth_Bps / 1e9 << " GB/s (" << to_string(m.counted) << " bytes counted)";
  CaseResult r = timed_case(c, what.str(), meas.str(), replay.measured_s, b.rows.front().seconds);
  std::ostringstream rel;
  rel.precision(4);
  auto from = [&](RailLink l) {
    const std::string ids = held_out.ids(m.kernel, l);
    return ids.empty() ? std::string("no other figure: the link's rate") : "from " + ids;
  };
  rel << cluster.file << " " << m.pointer << " replayed by cost/moe_traffic.h (rail): per GPU "
      << replay.data.nvlink / 1e6 << " MB over NVLink (" << cluster.nvlink.bandwidth_Bps / 1e9 << " GB/s), "
      << replay.data.network / 1e6 << " MB over the network (" << cluster.nic.bandwidth_Bps / 1e9
      << " GB/s NIC); DeepEP efficiency held out (leave-one-out, this figure unused): nvlink x" << nvl << " "
      << from(RailLink::nvlink) << "; network x" << net << " " << from(RailLink::network);
  r.relied_on = rel.str();
  return r;
}

CaseResult one_collective(const CollectiveCase& c, const std::vector<NcclCalibration::Point>& points) {
  const ClusterSpec cluster = load_cluster_file(c.cluster);
  for (const DeepEpMeasurement& m : cluster.deepep_measured)
    if (m.id == c.id) return one_deepep(c, cluster, m);
  if (c.gpus > cluster.total_gpus() || (c.gpus > cluster.gpus_per_node && c.gpus % cluster.gpus_per_node != 0))
    throw InputError(c.file, c.pointer + "/gpus",
                     "expected at most the cluster's " + std::to_string(cluster.total_gpus()) +
                         " GPUs, in whole nodes beyond one node, got " + std::to_string(c.gpus));
  CollectiveBenchRequest req;
  parse_bench_op(c.op, req);
  req.gpus = c.gpus;
  req.sizes = {c.bytes};
  if (!c.algo.empty()) req.options.algo = parse_nccl_algo(c.algo, c.file + " " + c.pointer + "/algo");
  NcclCalibration held_out;
  for (const auto& p : points)
    if (p.id != c.id) held_out.points.push_back(p);
  req.options.calibration = held_out;
  CollectiveBenchResult b;
  try {
    b = bench_collective(cluster, req);
  } catch (const std::invalid_argument& e) {
    throw InputError(c.file, c.pointer + "/algo", e.what());
  }
  const CollectiveBenchRow& row = b.rows.front();
  std::ostringstream what;
  what << c.op << " " << size_text(c.bytes) << " on " << c.gpus << " GPUs (" << b.nodes << " node"
       << (b.nodes > 1 ? "s" : "") << "), " << to_string(row.nccl.algo) << "/" << to_string(row.nccl.proto);
  std::ostringstream m;
  m << c.measured_GBps << " GB/s " << (c.measure == CollectiveCase::Measure::busbw ? "busbw" : "algbw");
  CaseResult r = timed_case(c, what.str(), m.str(), c.measured_seconds(), row.seconds);
  std::ostringstream rel;
  rel << cluster.file << " (NVLink " << cluster.nvlink.bandwidth_Bps / 1e9 << " GB/s, NIC "
      << cluster.nic.bandwidth_Bps / 1e9 << " GB/s one way); NCCL 2.23 tuner constants (src/graph/tuning.cc)";
  if (row.nccl.algo != NcclAlgo::rail) {
    const LinkKind link = b.nodes == 1 ? LinkKind::nvlink : LinkKind::network;
    bool covered = false;
    for (const auto& p : held_out.points) covered = covered || (p.link == link && p.algo == row.nccl.algo);
    rel << "; NCCL efficiency held out (leave-one-out, this case's own figure unused): ";
    if (covered) rel << to_string(link) << "/" << to_string(row.nccl.algo) << " x"
                     << held_out.efficiency(link, row.nccl.algo) << " from " << held_out.describe();
    else rel << "no other measurement of " << to_string(link) << "/" << to_string(row.nccl.algo)
             << ", so NCCL's tuner bandwidth";
  }
  r.relied_on = rel.str();
  return r;
}

}  // namespace

std::vector<CaseResult> run_collective_cases(const std::vector<CollectiveCase>& cases) {
  std::vector<CaseResult> out;
  const std::vector<NcclCalibration::Point> points = all_points(cases);
  for (const CollectiveCase& c : cases) {
    const auto t0 = std::chrono::steady_clock::now();
    out.push_back(one_collective(c, points));
    out.back().wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return out;
}

}  // namespace mhc
