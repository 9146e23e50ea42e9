// DeepEP's achieved bandwidth per link class, put on its published benchmark (a cluster's
// "deepep_measured", scenario/deepep_measurement.h). Each figure is replayed through the byte formula
// that prices the simulated MoE layers (cost/moe_traffic.h, mode "rail"), so the calibration and the
// runs count the same bytes:
//   counted  = tokens x (nodes hit, own node included: rdma | GPUs hit, own GPU included: nvlink)
//              x hidden x (FP8: 1 + 4/128, its scales | BF16: 2)      (what DeepEP's test counts)
//   measured time T = counted / bandwidth
//   per-GPU data D_link = tokens x moe_traffic's copies on that link x DeepEP's token message
//   at the cluster's rates: t_nvlink = D_nvlink / NVLink, t_network = D_network / (NICs x NIC / GPUs)
//   the bound link is the slower one; efficiency(kernel, link) = t_bound / T.
// DeepEP's test counts its own node's (GPU's) share too, which never crosses the link, so an "RDMA"
// figure can be bound by NVLink once the replay says so (DeepEP EP16: 1 network copy per token but 5.7
// NVLink copies). Several figures of one (kernel, link) take their mean; a (kernel, link) without one
// takes the other kernel's on that link, and a link without any stays at its rate (efficiency 1).
// The runs divide the rail all-to-all's bytes on each link class by these efficiencies (deepep_wire).
#pragma once

#include <string>
#include <vector>

#include "cost/moe_traffic.h"
#include "scenario/cluster.h"

namespace mhc {

enum class RailLink { nvlink, network };
const char* to_string(RailLink l);

struct DeepEpReplay {
  std::string id;
  DeepEpMeasurement::Kernel kernel = DeepEpMeasurement::Kernel::dispatch;
  DeepEpMeasurement::Counted counted_as = DeepEpMeasurement::Counted::rdma;
  double counted_bytes = 0;  // per rank, as DeepEP's test counts them
  double measured_s = 0;     // counted / the published bandwidth
  LinkBytes data;            // per GPU, moe_traffic's copies x DeepEP's message
  double nvlink_s = 0, network_s = 0;  // data at the cluster's link rates
  RailLink bound = RailLink::network;
  double efficiency = 1;     // bound link's time at its rate / measured time
};

struct DeepEpCalibration {
  std::vector<DeepEpReplay> points;
  // Mean of the points of (kernel, link); else of the other kernel on that link; else 1.
  double efficiency(DeepEpMeasurement::Kernel kernel, RailLink link) const;
  // The ids efficiency() averages ("" when it falls back to 1).
  std::string ids(DeepEpMeasurement::Kernel kernel, RailLink link) const;
  bool empty() const { return points.empty(); }
};

// One figure replayed on `cluster`. Throws InputError (the cluster file, the entry's path) when the
// replay moves no bytes on any link (nothing to calibrate).
DeepEpReplay replay_deepep(const ClusterSpec& cluster, const DeepEpMeasurement& m);
// The cluster's figures, leaving out the one whose id is `held_out` (the accuracy suite's check).
DeepEpCalibration calibrate_deepep(const ClusterSpec& cluster, const std::string& held_out = "");

// Wire-equivalent bytes of a rail all-to-all: each link class's data over its efficiency.
LinkBytes deepep_wire(const DeepEpCalibration& c, DeepEpMeasurement::Kernel kernel, const LinkBytes& data);

}  // namespace mhc
