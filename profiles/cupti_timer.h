// Kernel durations from CUPTI's Activity API (CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL records: the GPU's
// own start and end timestamps), never host timers. Each timed call is tagged with an external
// correlation id, so an op that launches several kernels (cuBLASLt, cuDNN) is timed from its first
// kernel's start to its last kernel's end.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <cuda_runtime.h>

namespace mhc::profiler {

class ActivityTimer {
 public:
  ActivityTimer();  // registers the buffer callbacks and enables the activity kinds
  ~ActivityTimer();
  ActivityTimer(const ActivityTimer&) = delete;
  ActivityTimer& operator=(const ActivityTimer&) = delete;

  // Calls `rotate` then `launch` warmup + runs times on `stream` and returns the GPU duration (s) of
  // each of the last `runs` calls. Throws if a call produced no kernel record.
  std::vector<double> time_calls(const std::function<void(cudaStream_t)>& launch, const std::function<void()>& rotate,
                                 cudaStream_t stream, int warmup, int runs);

  // Device-to-device copies of `bytes` each (cudaMemcpyAsync), timed from CUPTI memcpy records.
  std::vector<double> time_device_copies(void* dst, const void* src, size_t bytes, cudaStream_t stream, int warmup,
                                         int runs);
};

}  // namespace mhc::profiler
