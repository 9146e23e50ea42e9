// Argument checks and device queries shared by the launchers.
#include <mutex>
#include <string>
#include <vector>

#include "launch_util.h"
#include "mhc_api.h"

namespace mhc::kernels {

void check_size(const MhcSize& s) {
  if (s.n < 1 || s.n > kMaxStreams)
    throw std::invalid_argument("mhc kernels: n must be in 1.." + std::to_string(kMaxStreams) + ", got " +
                                std::to_string(s.n));
  if (s.C <= 0 || s.C % 8 != 0)
    throw std::invalid_argument("mhc kernels: C must be a positive multiple of 8 (16-byte bf16 vectors), got " +
                                std::to_string(s.C));
  if (s.T < 0) throw std::invalid_argument("mhc kernels: T must be >= 0");
  if (s.nC() > 0x7fffffff) throw std::invalid_argument("mhc kernels: n*C too large");
}

namespace {
__global__ void empty_kernel_impl() {}
}  // namespace

void empty_kernel(cudaStream_t st) {
  empty_kernel_impl<<<1, 32, 0, st>>>();
  MHC_CUDA_CHECK_LAUNCH("empty_kernel");
}

namespace detail {

int sm_count() {
  static std::mutex mu;
  static std::vector<int> counts;
  int dev = 0;
  MHC_CUDA_CHECK(cudaGetDevice(&dev));
  std::lock_guard<std::mutex> lock(mu);
  if (dev >= int(counts.size())) counts.resize(dev + 1, 0);
  if (counts[dev] == 0) MHC_CUDA_CHECK(cudaDeviceGetAttribute(&counts[dev], cudaDevAttrMultiProcessorCount, dev));
  return counts[dev];
}

}  // namespace detail
}  // namespace mhc::kernels
