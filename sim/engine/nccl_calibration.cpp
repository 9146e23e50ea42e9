#include "engine/nccl_calibration.h"

#include <map>
#include <sstream>

#include "core/json_input.h"
#include "scenario/cluster.h"

namespace mhc {

const char* to_string(LinkKind k) { return k == LinkKind::nvlink ? "nvlink" : "network"; }

double NcclCalibration::efficiency(LinkKind link, NcclAlgo algo) const {
  double sum = 0;
  int n = 0;
  for (const Point& p : points)
    if (p.link == link && p.algo == algo) {
      sum += p.efficiency;
      ++n;
    }
  return n ? sum / n : 1.0;
}

std::string NcclCalibration::describe() const {
  std::map<std::pair<int, int>, std::vector<std::string>> ids;
  for (const Point& p : points) ids[{int(p.link), int(p.algo)}].push_back(p.id);
  std::ostringstream s;
  s.precision(3);
  for (const auto& [key, names] : ids) {
    const LinkKind link = LinkKind(key.first);
    const NcclAlgo algo = NcclAlgo(key.second);
    if (s.tellp() > 0) s << "; ";
    s << to_string(link) << "/" << to_string(algo) << " x" << efficiency(link, algo) << " (";
    for (size_t i = 0; i < names.size(); ++i) s << (i ? ", " : "") << names[i];
    s << ")";
  }
  return s.str();
}

NcclCalibration::Point calibration_point(const ClusterSpec& cluster, const NcclMeasurement& m) {
  const CommGroupShape shape = group_shape(cluster, first_gpus(cluster, m.gpus));
  const NcclEstimate e = nccl_select(m.op, shape, m.bytes);
  const double measured_s = m.bytes * bus_bw_factor(m.op, m.gpus) / m.busbw_Bps;
  const double tuner_bw_s = m.bytes / e.alg_bw_Bps;
  if (!e.valid || measured_s <= e.latency_s || tuner_bw_s <= 0)
    throw InputError(cluster.file, m.pointer,
                     "nccl-tests' time for this entry is not above NCCL's latency for it: no bandwidth to calibrate "
                     "(expected a size large enough to be bandwidth-bound)");
  NcclCalibration::Point p;
  p.id = m.id;
  p.link = shape.nodes == 1 ? LinkKind::nvlink : LinkKind::network;
  p.algo = e.algo;
  p.efficiency = tuner_bw_s / (measured_s - e.latency_s);
  return p;
}

NcclCalibration calibrate_nccl(const ClusterSpec& cluster) {
  NcclCalibration c;
  for (const NcclMeasurement& m : cluster.nccl_measured) c.points.push_back(calibration_point(cluster, m));
  return c;
}

}  // namespace mhc
