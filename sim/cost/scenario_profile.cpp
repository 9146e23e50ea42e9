#include "cost/scenario_profile.h"

#include <cstdio>

namespace mhc {

void scale_memory_bound(Profile& p, double factor, const std::string& why) {
  if (factor == 1.0) return;
  char x[32];
  std::snprintf(x, sizeof x, "%.3f", factor);
  const std::string note = "; scaled x" + std::string(x) + " for this GPU's HBM (" + why + ")";
  for (ProfileEntry& e : p.entries) {
    const bool memory_bound = e.family == KernelFamily::mhc || e.family == KernelFamily::residual ||
                              e.family == KernelFamily::norm || e.family == KernelFamily::elementwise;
    if (!memory_bound || e.published()) continue;
    e.seconds /= factor;
    e.seconds_min /= factor;
    e.seconds_max /= factor;
    e.implementation += note;
  }
  p.ceilings.copy_bandwidth_Bps.value *= factor;
  p.ceilings.copy_bandwidth_Bps.source += note;
  if (p.corun) {
    for (CorunCopyPoint& c : p.corun->copy_by_sms) c.bandwidth_Bps *= factor;
    p.corun->copy_beside_gemm_Bps *= factor;
  }
}

Profile scenario_profile(const Scenario& s) {
  Profile p = load_profile_parts(s.profile, s.published_parts);
  scale_memory_bound(p, s.cluster.profile_hbm_scale, s.cluster.profile_hbm_source);
  return p;
}

}  // namespace mhc
