// Device helpers shared by the mHC kernels: 16-byte bf16 vectors, tf32 mma, cp.async.
#pragma once

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace mhc::kernels::dev {

using bf16 = __nv_bfloat16;

// Eight bf16 (16 bytes) <-> eight floats: bf16 is the top half of an fp32.
__device__ __forceinline__ void unpack8(const uint4 raw, float (&v)[8]) {
  const uint32_t w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    v[2 * k] = __uint_as_float(w[k] << 16);
    v[2 * k + 1] = __uint_as_float(w[k] & 0xffff0000u);
  }
}

// The loads differ only in the cache path they take.
__device__ __forceinline__ void load8(const bf16* p, float (&v)[8]) {
  unpack8(__ldg(reinterpret_cast<const uint4*>(p)), v);
}

// Eight bf16 from shared memory.
__device__ __forceinline__ void load8_shared(const bf16* p, float (&v)[8]) {
  unpack8(*reinterpret_cast<const uint4*>(p), v);
}

// Coherent load, for a buffer the same kernel may also write (an aliased accumulator).
__device__ __forceinline__ void load8_coherent(const bf16* p, float (&v)[8]) {
  unpack8(*reinterpret_cast<const uint4*>(p), v);
}

// Streaming load for data read exactly once (keeps L2 for what is re-read).
__device__ __forceinline__ void load8_stream(const bf16* p, float (&v)[8]) {
  unpack8(__ldcs(reinterpret_cast<const uint4*>(p)), v);
}

__device__ __forceinline__ uint32_t pack2(float lo, float hi) {
  const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);  // round to nearest even
  return *reinterpret_cast<const uint32_t*>(&h);
}

__device__ __forceinline__ void store8(bf16* p, const float (&v)[8]) {
  uint4 raw;
  raw.x = pack2(v[0], v[1]);
  raw.y = pack2(v[2], v[3]);
  raw.z = pack2(v[4], v[5]);
  raw.w = pack2(v[6], v[7]);
  *reinterpret_cast<uint4*>(p) = raw;
}

__device__ __forceinline__ float bf16_bits_to_float(uint16_t b) { return __uint_as_float(uint32_t(b) << 16); }

__device__ __forceinline__ uint32_t to_tf32(float f) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(f));
  return r;
}

// D += A(16x8, row) * B(8x8, col), tf32 inputs, fp32 accumulate.
__device__ __forceinline__ void mma_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Asynchronous global -> shared copies; `valid == false` fills the destination with zeros.
__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const uint32_t s = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  const int bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(s), "l"(gmem), "r"(bytes));
}
__device__ __forceinline__ void cp_async4(void* smem, const void* gmem, bool valid) {
  const uint32_t s = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  const int bytes = valid ? 4 : 0;
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" ::"r"(s), "l"(gmem), "r"(bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N));
}

__device__ __forceinline__ float sigmoidf_(float z) { return 1.0f / (1.0f + __expf(-z)); }

// The mix step for one mapping value j of a token (paper: H~ = a/r * h + b; H_pre = sigmoid,
// H_post = 2 sigmoid, H_res logits left for Sinkhorn).
__device__ __forceinline__ float mix_value(int j, int n, float p, float inv_r, const float* a, const float* b) {
  const int group = j < n ? 0 : (j < 2 * n ? 1 : 2);
  const float z = a[group] * p * inv_r + b[j];
  return group == 0 ? sigmoidf_(z) : (group == 1 ? 2.0f * sigmoidf_(z) : z);
}

}  // namespace mhc::kernels::dev
