// The provenance mhc-profile records about the machine it runs on.
#pragma once

#include "profile/profile.h"

namespace mhc::profiler {

// GPU name, SM count, clocks (the device attributes' peak clocks; the sampled ones go to `clocks`), memory,
// driver (from /proc/driver/nvidia/version when readable, else the CUDA driver API version), CUDA
// runtime, CUPTI, cuBLASLt and cuDNN versions, host name, date. `command` is stored as given.
ProfileProvenance collect_provenance(int device, const std::string& command);

}  // namespace mhc::profiler
