// Small host helpers shared by the launchers: device properties, grid sizes, dispatch on n.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cuda_check.h"

namespace mhc::kernels::detail {

// Multiprocessor count of the current device (read once per device).
int sm_count();

inline unsigned grid_for(int64_t items, int per_block) {
  const int64_t blocks = (items + per_block - 1) / per_block;
  if (blocks > 0x7fffffff) throw std::invalid_argument("mhc kernels: problem too large for one grid");
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

// Raises a kernel's dynamic shared-memory limit when it needs more than the default 48 KB.
template <typename Kernel>
void allow_smem(Kernel kernel, size_t bytes) {
  if (bytes > 48 * 1024)
    MHC_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
}

// Calls f(std::integral_constant<int, N>{}) for the run-time stream count n in 1..8.
template <typename F>
void dispatch_n(int n, F&& f) {
  switch (n) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 3: f(std::integral_constant<int, 3>{}); break;
    case 4: f(std::integral_constant<int, 4>{}); break;
    case 5: f(std::integral_constant<int, 5>{}); break;
    case 6: f(std::integral_constant<int, 6>{}); break;
    case 7: f(std::integral_constant<int, 7>{}); break;
    case 8: f(std::integral_constant<int, 8>{}); break;
    default: throw std::invalid_argument("mhc kernels: n must be in 1..8, got " + std::to_string(n));
  }
}

// Number of 8-wide mma column tiles covering the m = n^2 + 2n mapping values.
__host__ __device__ constexpr int mapping_tiles(int n) { return (n * n + 2 * n + 7) / 8; }

}  // namespace mhc::kernels::detail
