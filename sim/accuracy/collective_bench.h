// One collective (or nccl-tests' sendrecv ring) timed on a simulated cluster the way nccl-tests times
// it: each size alone on the network, one after the other, in one simulation. `mhcsim collective`
// prints these rows; the accuracy suite holds them against published nccl-tests and DeepEP figures,
// so both read the same machinery.
#pragma once

#include <string>
#include <vector>

#include "core/collective_op.h"
#include "engine/collectives.h"
#include "scenario/cluster.h"

namespace mhc {

struct CollectiveBenchRequest {
  CollectiveOp op = CollectiveOp::all_reduce;
  bool sendrecv = false;           // instead of `op`: every GPU sends to the next, as nccl-tests' sendrecv
  int gpus = 0;                    // the first `gpus` GPUs of the cluster (whole nodes first)
  std::vector<double> sizes;       // bytes, as nccl-tests counts them (whole floats)
  CollectiveOptions options;       // algorithm / protocol overrides
  // A rail all-to-all's split of each size by link class, per byte of the buffer (network + nvlink =
  // 1), with DeepEP's efficiencies (cost/deepep_calibration.h); unset: the even spread at link rate.
  RailBytes rail_per_byte;
};

struct CollectiveBenchRow {
  double bytes = 0;
  // Simulated with NCCL's measured efficiency (nccl_calibration.h) where the cluster has one for this
  // link kind and algorithm; for sendrecv plus NCCL's p2p latency beyond the wire latency.
  double seconds = 0;
  double algbw_Bps = 0;
  double busbw_Bps = 0;  // nccl-tests' bus bandwidth (sendrecv: = algbw)
  NcclEstimate nccl;     // NCCL's tuner estimate for the same size (algorithm and protocol chosen)
};

struct CollectiveBenchResult {
  std::vector<CollectiveBenchRow> rows;
  int nodes = 0;  // nodes the group spans
  NcclCalibration calibration;  // what put the simulated times on measurement (empty: NCCL's tuner)
  int simulated_gpus = 0;
  long activities = 0;
  double wall_seconds = 0;
};

// Throws std::invalid_argument when the algorithm/protocol cannot run this operation here (the
// caller names the flag), InputError for a bad cluster.
CollectiveBenchResult bench_collective(const ClusterSpec& cluster, const CollectiveBenchRequest& request);

// "all_reduce", "reduce_scatter", "all_gather", "all_to_all" or "sendrecv" into the request's op;
// false for anything else.
bool parse_bench_op(const std::string& text, CollectiveBenchRequest& request);

}  // namespace mhc
