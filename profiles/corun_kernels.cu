#include "corun_kernels.h"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace mhc::profiler {

namespace {

constexpr int kThreads = 1024;
constexpr size_t kChunk = 64 << 10;  // bytes a paced block copies between checks of the timer

__device__ unsigned long long global_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %globaltimer;" : "=l"(t));
  return t;
}

// Grid-stride over 16-byte words, four loads in flight per thread. With pacing, block b copies its
// chunks in turn and does not start chunk c before start + c * chunk_ns.
__global__ void __launch_bounds__(kThreads, 1)
    sm_copy_kernel(const uint4* __restrict__ src, uint4* __restrict__ dst, size_t words, unsigned long long chunk_ns) {
  // Its dynamic shared memory (see launch_sm_copy) is never touched: it only keeps other blocks off the SM.
  const size_t per_chunk = kChunk / sizeof(uint4);
  if (chunk_ns == 0) {
    const size_t stride = size_t(gridDim.x) * blockDim.x;
    size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
    for (; i + 3 * stride < words; i += 4 * stride) {
      uint4 a = src[i], b = src[i + stride], c = src[i + 2 * stride], d = src[i + 3 * stride];
      dst[i] = a, dst[i + stride] = b, dst[i + 2 * stride] = c, dst[i + 3 * stride] = d;
    }
    for (; i < words; i += stride) dst[i] = src[i];
    return;
  }
  __shared__ unsigned long long start;
  if (threadIdx.x == 0) start = global_ns();
  __syncthreads();
  const size_t chunks = (words + per_chunk - 1) / per_chunk;
  unsigned long long k = 0;
  for (size_t c = blockIdx.x; c < chunks; c += gridDim.x, ++k) {
    if (threadIdx.x == 0)
      while (global_ns() < start + k * chunk_ns) __nanosleep(500);
    __syncthreads();
    const size_t end = min(words, (c + 1) * per_chunk);
    for (size_t i = c * per_chunk + threadIdx.x; i < end; i += blockDim.x) dst[i] = src[i];
  }
}

__global__ void gate_kernel(unsigned long long ns) {
  const unsigned long long until = global_ns() + ns;
  while (global_ns() < until) __nanosleep(1000);
}

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

}  // namespace

void launch_sm_copy(void* dst, const void* src, size_t bytes, int sms, double paced_Bps, cudaStream_t stream) {
  if (bytes % sizeof(uint4) != 0 || sms < 1) throw std::invalid_argument("launch_sm_copy: bad size or SM count");
  int device = 0, smem_per_sm = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&smem_per_sm, cudaDevAttrMaxSharedMemoryPerMultiprocessor, device), "smem per SM");
  // More than half of an SM's shared memory: the block scheduler can place only one per SM.
  const int reserve = smem_per_sm / 2 + 1024;
  check(cudaFuncSetAttribute(sm_copy_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, reserve), "smem attribute");
  unsigned long long chunk_ns = 0;
  if (paced_Bps > 0) chunk_ns = static_cast<unsigned long long>(double(kChunk) * sms / paced_Bps * 1e9);
  sm_copy_kernel<<<sms, kThreads, reserve, stream>>>(static_cast<const uint4*>(src), static_cast<uint4*>(dst),
                                                      bytes / sizeof(uint4), chunk_ns);
  check(cudaGetLastError(), "sm_copy_kernel launch");
}

void launch_gate(unsigned long long ns, cudaStream_t stream) {
  gate_kernel<<<1, 32, 0, stream>>>(ns);
  check(cudaGetLastError(), "gate_kernel launch");
}

}  // namespace mhc::profiler
