// Collectives and all-to-all: `mhcsim collective`'s bench against nccl-tests and DeepEP figures.
// Held out: the clusters' nccl_measured put NCCL's bandwidth on the very nccl-tests figures this tier
// checks, so each case is run with the efficiency the *other* measurements give (leave-one-out over
// every measurement of the shipped cluster files); a case whose link kind and algorithm no other
// measurement covers runs at NCCL's tuner bandwidth, and says so.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "accuracy/accuracy_tiers.h"
#include "accuracy/collective_bench.h"
#include "core/json_input.h"
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

CaseResult one_collective(const CollectiveCase& c, const std::vector<NcclCalibration::Point>& points) {
  const ClusterSpec cluster = load_cluster_file(c.cluster);
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
  CaseResult r;
  r.tier = Tier::collectives;
  r.id = c.id;
  r.source = c.source;
  r.notes = c.notes;
  r.unit = Unit::microseconds;
  std::ostringstream what;
  what << c.op << " " << size_text(c.bytes) << " on " << c.gpus << " GPUs (" << b.nodes << " node"
       << (b.nodes > 1 ? "s" : "") << "), " << to_string(row.nccl.algo) << "/" << to_string(row.nccl.proto);
  r.what = what.str();
  std::ostringstream m;
  m << c.measured_GBps << " GB/s " << (c.measure == CollectiveCase::Measure::busbw ? "busbw" : "algbw");
  r.measured_text = m.str();
  r.measured = c.measured_seconds() * 1e6;
  r.predicted = row.seconds * 1e6;
  r.signed_error = (r.predicted - r.measured) / r.measured;
  r.abs_error = std::fabs(r.signed_error);
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
