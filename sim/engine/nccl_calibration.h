// NCCL's achieved bandwidth put on measurement. NCCL's tuner (nccl_model.h) picks the algorithm and
// protocol and estimates latency + bytes / algBw; published nccl-tests results (the cluster's
// "nccl_measured") say how much of that bandwidth NCCL really reaches. For one measurement of
// `op` on a group that NCCL runs with algorithm A over link kind K (one node: NVLink; several: the
// network), nccl-tests' time is T = bytes x busFactor / busbw, and
//   efficiency(K, A) = (bytes / algBw_tuner) / (T - latency_tuner),
// the factor by which the bandwidth term must grow for the tuner's formula to give T. The engine then
// divides the bandwidth of every collective that NCCL runs with A over K by it (latency untouched),
// so `mhcsim collective` and every run use it; several measurements of one (K, A) take their mean.
// Where no measurement covers (K, A), the efficiency is 1: NCCL's tuner estimate, as before.
// Send/recv and the DeepEP-style rail all-to-all are not NCCL collectives and are never calibrated.
#pragma once

#include <string>
#include <vector>

#include "engine/nccl_model.h"

namespace mhc {

struct ClusterSpec;
struct NcclMeasurement;

enum class LinkKind { nvlink, network };
const char* to_string(LinkKind k);

struct NcclCalibration {
  struct Point {
    std::string id;  // the measurement's id
    LinkKind link = LinkKind::nvlink;
    NcclAlgo algo = NcclAlgo::ring;
    double efficiency = 1.0;
  };
  std::vector<Point> points;
  // Mean efficiency of the points for (link, algo); 1 when there are none.
  double efficiency(LinkKind link, NcclAlgo algo) const;
  // "nvlink/nvls x0.72 (id, ...)": one entry per (link, algo) calibrated; "" when none.
  std::string describe() const;
};

// The point one measurement gives on `cluster`. Throws InputError (cluster file, the entry's JSON
// path) when nccl-tests' time is not above the tuner's latency (no bandwidth term to calibrate).
NcclCalibration::Point calibration_point(const ClusterSpec& cluster, const NcclMeasurement& m);
// All of the cluster's measurements.
NcclCalibration calibrate_nccl(const ClusterSpec& cluster);

}  // namespace mhc
