// DRAM bytes read and written by one op, from the CUPTI Range Profiler (cupti_range_profiler.h with
// cupti_profiler_host.h, CUDA 13): metrics dram__bytes_read.sum and dram__bytes_write.sum over a
// user range around the op, user replay (the op is run once per pass the metrics need).
//
// Cache state: before each pass the L2 is filled with clean lines (a read of a buffer twice the L2
// size), so the op finds none of its inputs there; inside the range the op is followed by a second
// such read, which evicts the op's dirty lines so that its writes reach DRAM inside the range. That
// second read's own traffic is measured alone (same protocol, no op) and subtracted.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <cuda_runtime.h>

#include "profile_builder.h"

namespace mhc::profiler {

class DramCounter {
 public:
  // `device` is the CUDA device; the counter works on its primary context.
  explicit DramCounter(int device);
  ~DramCounter();
  DramCounter(const DramCounter&) = delete;
  DramCounter& operator=(const DramCounter&) = delete;

  // DRAM bytes of one call of `launch`, the flush traffic subtracted (clamped at 0).
  DramBytes measure(const std::function<void(cudaStream_t)>& launch, cudaStream_t stream);

 private:
  DramBytes measure_raw(const std::function<void(cudaStream_t)>& launch, cudaStream_t stream);
  struct State;
  std::unique_ptr<State> state_;
  DramBytes flush_baseline_;
};

}  // namespace mhc::profiler
