// The CUDA side of the co-run microbenchmark (mhc-profile --corun, corun.cpp): a copy kernel confined
// to a chosen number of SMs, optionally paced to a target rate, and a gate kernel that holds a stream
// for a moment so that two streams can be released together.
#pragma once

#include <cstddef>

#include <cuda_runtime.h>

namespace mhc::profiler {

// Copies `bytes` (a multiple of 16, 16-byte aligned) from `src` to `dst` with `sms` blocks of 1024
// threads, each asking for more than half an SM's shared memory so that no two share an SM: the
// copy runs on exactly `sms` SMs. `paced_Bps` > 0 caps the copy at that many bytes moved (read)
// per second over all blocks (each block waits on the global timer between 64 KiB chunks).
void launch_sm_copy(void* dst, const void* src, size_t bytes, int sms, double paced_Bps, cudaStream_t stream);

// One block that spins for `ns` nanoseconds on the global timer.
void launch_gate(unsigned long long ns, cudaStream_t stream);

}  // namespace mhc::profiler
