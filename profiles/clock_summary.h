// The CPU side of mhc-profile's clock sampling: NVML samples of one part of a run (SM and memory
// clocks, power, clock-event reasons) summarised into the profile's provenance (profiles/SCHEMA.md,
// `clocks`). No CUDA or NVML here, so it is unit-tested on any machine; clock_sampler.h takes them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profile/profile.h"

namespace mhc::profiler {

struct ClockSample {
  double sm_mhz = 0.0, memory_mhz = 0.0;
  double power_w = -1.0;          // < 0: not readable
  uint64_t event_reasons = 0;     // NVML clocks-event (throttle) reason bits
};

// The names of NVML's clocks-event reason bits (nvml.h, "Clocks Event Reasons": 0x1 GPU idle, 0x2
// applications clocks setting, 0x4 SW power cap, 0x8 HW slowdown, 0x10 sync boost, 0x20 SW thermal
// slowdown, 0x40 HW thermal slowdown, 0x80 HW power brake, 0x100 display clock setting); unknown bits
// as "0x...".
std::vector<std::string> clock_event_reason_names(uint64_t bits);

// min / median / max over the samples, and every reason seen. Throws std::invalid_argument when empty.
ClockPart summarize_clocks(const std::string& part, const std::vector<ClockSample>& samples);

}  // namespace mhc::profiler
