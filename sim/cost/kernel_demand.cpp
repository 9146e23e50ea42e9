#include "cost/kernel_demand.h"

#include <algorithm>

namespace mhc {

namespace {

// CUPTI's DRAM bytes of the entry measured at exactly this shape, if any.
std::optional<double> measured_dram_bytes(const Profile& profile, const PriceQuery& q) {
  for (const ProfileEntry& e : profile.entries)
    if (e.kernel == q.kernel && e.shape == q.shape && e.dram_read_bytes && e.dram_write_bytes)
      return *e.dram_read_bytes + *e.dram_write_bytes;
  return std::nullopt;
}

// The SMs the profile's GPU has: the run's own count, else the datasheet's.
double gpu_sms(const Profile& p) {
  if (p.provenance.sm_count > 0) return p.provenance.sm_count;
  return p.datasheet.sm_count ? p.datasheet.sm_count->value : 0.0;
}

// The published curve (kernel_demand.h), in shares of the GPU and of the copy ceiling.
double published_sm_share(double bandwidth_share) {
  const double f = std::clamp(bandwidth_share, 0.0, 1.0);
  if (f <= kPublishedKneeBandwidthShare) return kPublishedKneeSmShare * f / kPublishedKneeBandwidthShare;
  return kPublishedKneeSmShare +
         (1.0 - kPublishedKneeSmShare) * (f - kPublishedKneeBandwidthShare) / (1.0 - kPublishedKneeBandwidthShare);
}

}  // namespace

KernelDemand kernel_demand(const CostModel& cost, const PriceQuery& q, double seconds) {
  KernelDemand d;
  const Profile& profile = cost.profile();
  d.dram_bytes = measured_dram_bytes(profile, q).value_or(q.bytes);
  const double peak = cost.peak_flops(q.compute_dtype);
  const double bw = cost.copy_bandwidth_Bps();
  const double t_flops = peak > 0 ? q.flops / peak : 0.0;
  d.memory_bound = q.bytes / bw >= t_flops;
  if (!d.memory_bound || seconds <= 0) return d;
  const double achieved = d.dram_bytes / seconds;
  const double sms = gpu_sms(profile);
  if (cost.policy().sm_demand_proportional)
    d.sm_share = achieved / bw;
  else if (profile.corun && sms > 0)
    d.sm_share = profile.corun->sms_for_bandwidth(achieved) / sms;
  else
    d.sm_share = published_sm_share(achieved / bw);
  d.sm_share = std::clamp(d.sm_share, 0.0, 1.0);
  return d;
}

std::string sm_demand_source(const CostModel& cost) {
  const Profile& p = cost.profile();
  const std::string file = p.file.empty() ? std::string("profile") : p.file;
  if (cost.policy().sm_demand_proportional)
    return "what-if --sm-demand-proportional: a memory-bound kernel takes SMs in proportion to its bandwidth over "
           "the copy ceiling (the ceiling only on the whole GPU)";
  if (p.corun)
    return "measured: " + file + " /corun/copy_by_sms (a memory-bound kernel takes the fewest SMs on which the "
           "SM-limited copy reaches its bandwidth)";
  return "published default (no corun section in " + file + "): bandwidth in proportion to SMs up to 90% of the "
         "copy ceiling at 40/114 of the SMs, then linear to the ceiling on all of them (zejia-lin/BulletServe issue "
         "#1, H100 PCIe, memory-bound decode under SM masking)";
}

}  // namespace mhc
