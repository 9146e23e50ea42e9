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

  // Two calls at once on two streams, `runs` times after `warmup`: `gate` (a short spinning kernel on
  // `stream_a`) is launched first and both streams wait for it, so `a` and `b` start together once
  // both are queued. Per run: each call's first-kernel-start to last-kernel-end, and the span from
  // the first start of either to the last end of either (seconds).
  struct PairTiming {
    double a_s = 0.0, b_s = 0.0, span_s = 0.0;
  };
  std::vector<PairTiming> time_pairs(const std::function<void(cudaStream_t)>& gate,
                                     const std::function<void(cudaStream_t)>& a, cudaStream_t stream_a,
                                     const std::function<void(cudaStream_t)>& b, cudaStream_t stream_b,
                                     const std::function<void()>& rotate, int warmup, int runs);

  // Device-to-device copies of `bytes` each (cudaMemcpyAsync), timed from CUPTI memcpy records.
  std::vector<double> time_device_copies(void* dst, const void* src, size_t bytes, cudaStream_t stream, int warmup,
                                         int runs);
};

}  // namespace mhc::profiler
