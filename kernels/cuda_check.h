// Error checking for every CUDA runtime call and every launch: failures throw std::runtime_error
// naming the call and the place, so callers (tests, bench, profiler) see them and never read garbage.
#pragma once

#include <stdexcept>
#include <string>

#include <cuda_runtime.h>

namespace mhc::kernels {

inline void cuda_check(cudaError_t err, const char* what, const char* file, int line) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + what + ": " +
                             cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
}

}  // namespace mhc::kernels

#define MHC_CUDA_CHECK(call) ::mhc::kernels::cuda_check((call), #call, __FILE__, __LINE__)
// After a <<<...>>> launch: launch-configuration errors show up here (execution errors at the next sync).
#define MHC_CUDA_CHECK_LAUNCH(name) ::mhc::kernels::cuda_check(cudaGetLastError(), name, __FILE__, __LINE__)
