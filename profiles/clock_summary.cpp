#include "clock_summary.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace mhc::profiler {

namespace {

SampledRange range_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return SampledRange{v.front(), n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v.back()};
}

}  // namespace

std::vector<std::string> clock_event_reason_names(uint64_t bits) {
  static const std::pair<uint64_t, const char*> names[] = {
      {0x1, "gpu_idle"},         {0x2, "applications_clocks_setting"}, {0x4, "sw_power_cap"},
      {0x8, "hw_slowdown"},      {0x10, "sync_boost"},                 {0x20, "sw_thermal_slowdown"},
      {0x40, "hw_thermal_slowdown"}, {0x80, "hw_power_brake_slowdown"}, {0x100, "display_clock_setting"}};
  std::vector<std::string> out;
  uint64_t known = 0;
  for (const auto& [bit, name] : names) {
    known |= bit;
    if (bits & bit) out.push_back(name);
  }
  if (bits & ~known) {
    std::ostringstream s;
    s << "0x" << std::hex << (bits & ~known);
    out.push_back(s.str());
  }
  return out;
}

ClockPart summarize_clocks(const std::string& part, const std::vector<ClockSample>& samples) {
  if (samples.empty()) throw std::invalid_argument("no clock samples for part " + part);
  ClockPart out;
  out.part = part;
  out.samples = static_cast<int>(samples.size());
  std::vector<double> sm, mem, power;
  uint64_t reasons = 0;
  for (const ClockSample& s : samples) {
    sm.push_back(s.sm_mhz);
    mem.push_back(s.memory_mhz);
    if (s.power_w >= 0) power.push_back(s.power_w);
    reasons |= s.event_reasons;
  }
  out.sm_clock_mhz = range_of(sm);
  out.memory_clock_mhz = range_of(mem);
  if (!power.empty()) out.power_w = range_of(power);
  out.throttle_reasons = clock_event_reason_names(reasons);
  return out;
}

}  // namespace mhc::profiler
