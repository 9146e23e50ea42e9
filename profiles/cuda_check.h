// Error checks for the profiler's CUDA, CUPTI, cuBLASLt and cuDNN calls: a failed call throws
// std::runtime_error naming the call, the file and line, and the library's error string.
#pragma once

#include <stdexcept>
#include <string>

#include <cuda_runtime.h>
#include <cupti.h>

namespace mhc::profiler {

[[noreturn]] inline void throw_failure(const char* what, const std::string& detail, const char* file, int line) {
  throw std::runtime_error(std::string(what) + " failed at " + file + ":" + std::to_string(line) + ": " + detail);
}

}  // namespace mhc::profiler

#define MHC_CUDA_CHECK(call)                                                                     \
  do {                                                                                           \
    cudaError_t err_ = (call);                                                                   \
    if (err_ != cudaSuccess)                                                                     \
      ::mhc::profiler::throw_failure(#call, cudaGetErrorString(err_), __FILE__, __LINE__);       \
  } while (0)

#define MHC_CUPTI_CHECK(call)                                                                    \
  do {                                                                                           \
    CUptiResult res_ = (call);                                                                   \
    if (res_ != CUPTI_SUCCESS) {                                                                 \
      const char* msg_ = nullptr;                                                                \
      cuptiGetResultString(res_, &msg_);                                                         \
      ::mhc::profiler::throw_failure(#call, msg_ ? msg_ : "unknown CUPTI error", __FILE__, __LINE__); \
    }                                                                                            \
  } while (0)
