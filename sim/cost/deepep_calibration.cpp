#include "cost/deepep_calibration.h"

#include <algorithm>
#include <stdexcept>

#include "core/json_input.h"

namespace mhc {

const char* to_string(RailLink l) { return l == RailLink::nvlink ? "nvlink" : "network"; }

namespace {

// Mean efficiency and ids of the points matching `pred`.
template <class Pred>
std::pair<double, std::string> mean_of(const std::vector<DeepEpReplay>& points, Pred pred) {
  double sum = 0;
  int n = 0;
  std::string ids;
  for (const DeepEpReplay& p : points)
    if (pred(p)) {
      sum += p.efficiency;
      ids += (n++ ? ", " : "") + p.id;
    }
  return {n ? sum / n : 1.0, ids};
}

std::pair<double, std::string> lookup(const std::vector<DeepEpReplay>& points, DeepEpMeasurement::Kernel k, RailLink l) {
  auto same = mean_of(points, [&](const DeepEpReplay& p) { return p.kernel == k && p.bound == l; });
  if (!same.second.empty()) return same;
  return mean_of(points, [&](const DeepEpReplay& p) { return p.bound == l; });
}

}  // namespace

double DeepEpCalibration::efficiency(DeepEpMeasurement::Kernel kernel, RailLink link) const {
  return lookup(points, kernel, link).first;
}

std::string DeepEpCalibration::ids(DeepEpMeasurement::Kernel kernel, RailLink link) const {
  return lookup(points, kernel, link).second;
}

DeepEpReplay replay_deepep(const ClusterSpec& cluster, const DeepEpMeasurement& m) {
  const int g = cluster.gpus_per_node;
  MoeTrafficInput in;
  in.mode = "rail";
  in.hidden = m.hidden;
  in.experts = m.experts;
  in.top_k = m.top_k;
  in.nodes = m.ep > g ? m.ep / g : 1;
  in.gpus_per_node = m.ep > g ? g : m.ep;
  in.max_nodes = m.max_nodes;
  in.dispatch = in.dispatch_backward = m.payload;
  MoeTraffic t;
  try {
    t = moe_traffic(in);
  } catch (const std::invalid_argument& e) {
    throw InputError(cluster.file, m.pointer, e.what());
  }
  DeepEpReplay r;
  r.id = m.id;
  r.kernel = m.kernel;
  r.counted_as = m.counted;
  const bool dispatch = m.kernel == DeepEpMeasurement::Kernel::dispatch;
  // DeepEP's test counts the hidden state with its FP8 scales, without its message's tags.
  const double per_token = double(m.hidden) * (m.payload == DType::fp8 ? 1.0 + 4.0 / 128.0 : 2.0);
  const double reached = m.counted == DeepEpMeasurement::Counted::rdma ? t.nodes_hit : t.gpus_hit;
  r.counted_bytes = double(m.tokens) * reached * per_token;
  r.measured_s = r.counted_bytes / m.bandwidth_Bps;
  r.data = (dispatch ? t.forward_dispatch : t.forward_combine) * double(m.tokens);
  const double nic_per_gpu = cluster.nic.bandwidth_Bps * cluster.nics_per_node / cluster.gpus_per_node;
  r.nvlink_s = r.data.nvlink / cluster.nvlink.bandwidth_Bps;
  r.network_s = r.data.network / nic_per_gpu;
  r.bound = r.network_s >= r.nvlink_s ? RailLink::network : RailLink::nvlink;
  const double bound_s = std::max(r.nvlink_s, r.network_s);
  if (!(bound_s > 0))
    throw InputError(cluster.file, m.pointer, "the replay moves no bytes over any link: nothing to calibrate");
  r.efficiency = bound_s / r.measured_s;
  return r;
}

DeepEpCalibration calibrate_deepep(const ClusterSpec& cluster, const std::string& held_out) {
  DeepEpCalibration c;
  for (const DeepEpMeasurement& m : cluster.deepep_measured)
    if (m.id != held_out) c.points.push_back(replay_deepep(cluster, m));
  return c;
}

LinkBytes deepep_wire(const DeepEpCalibration& c, DeepEpMeasurement::Kernel kernel, const LinkBytes& data) {
  return {data.nvlink / c.efficiency(kernel, RailLink::nvlink), data.network / c.efficiency(kernel, RailLink::network)};
}

}  // namespace mhc
