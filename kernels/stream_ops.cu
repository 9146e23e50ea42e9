// Forward kernels over the n-stream residual: pre-apply (u = H_pre x), post-res (y = H_res x +
// H_post^T f, paper 4.3.1 kernel 5), the unfused HC ops apply_post and apply_res, and the merge
// (p + q; also the plain-residual merge).
//
// One warp per token: its coefficients go to shared memory once, then every lane streams 16-byte
// bf16 vectors of all n streams at the same column (one token's n streams per thread), so each
// input byte is read once and each output byte written once. fp32 arithmetic, bf16 rounding once.
#include <type_traits>

#include "launch_util.h"
#include "mhc_api.h"
#include "mhc_device.cuh"

namespace mhc::kernels {
namespace {

using namespace dev;

constexpr int kWarps = 4;  // tokens per block
constexpr int kCoefPerWarp = kMaxStreams * kMaxStreams + kMaxStreams;

// Copies `count` coefficients of this warp's token into shared memory (rows of `width` at src + t*ld).
__device__ __forceinline__ void stage_coefs(float* dst, const float* __restrict__ src, int64_t t, int ld, int width,
                                            int lane) {
  for (int k = lane; k < width; k += 32) dst[k] = src[t * ld + k];
}

template <int N>
__global__ void __launch_bounds__(kWarps * 32) pre_apply_kernel(int64_t T, int C, const bf16* __restrict__ x,
                                                                const float* __restrict__ hpre, int ld,
                                                                bf16* __restrict__ u) {
  __shared__ float coef[kWarps][N];
  const int w = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t t = int64_t(blockIdx.x) * kWarps + w;
  if (t >= T) return;
  stage_coefs(coef[w], hpre, t, ld, N, lane);
  __syncwarp();
  const bf16* xt = x + t * N * C;
  for (int c = lane * 8; c < C; c += 32 * 8) {
    float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
#pragma unroll
    for (int i = 0; i < N; ++i) {
      float v[8];
      load8_stream(xt + i * C + c, v);
      const float h = coef[w][i];
#pragma unroll
      for (int e = 0; e < 8; ++e) acc[e] = fmaf(h, v[e], acc[e]);
    }
    store8(u + t * C + c, acc);
  }
}

// y[i] = (RES ? sum_j H_res[i][j] x[j] : 0) + (POST ? H_post[i] f : 0)
template <int N, bool RES, bool POST>
__global__ void __launch_bounds__(kWarps * 32) post_res_kernel(int64_t T, int C, const bf16* __restrict__ x,
                                                               const bf16* __restrict__ f,
                                                               const float* __restrict__ hres,
                                                               const float* __restrict__ hpost, int ld_post,
                                                               bf16* __restrict__ y) {
  __shared__ float coef[kWarps][kCoefPerWarp];
  const int w = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t t = int64_t(blockIdx.x) * kWarps + w;
  if (t >= T) return;
  if constexpr (RES) stage_coefs(coef[w], hres, t, N * N, N * N, lane);
  if constexpr (POST) stage_coefs(coef[w] + N * N, hpost, t, ld_post, N, lane);
  __syncwarp();
  const float* H = coef[w];
  for (int c = lane * 8; c < C; c += 32 * 8) {
    float xv[RES ? N : 1][8], fv[8];
    if constexpr (RES) {
#pragma unroll
      for (int j = 0; j < N; ++j) load8_stream(x + (t * N + j) * C + c, xv[j]);
    }
    if constexpr (POST) load8_stream(f + t * C + c, fv);
#pragma unroll
    for (int i = 0; i < N; ++i) {
      float out[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) out[e] = POST ? H[N * N + i] * fv[e] : 0.f;
      if constexpr (RES) {
#pragma unroll
        for (int j = 0; j < N; ++j) {
          const float h = H[i * N + j];
#pragma unroll
          for (int e = 0; e < 8; ++e) out[e] = fmaf(h, xv[j][e], out[e]);
        }
      }
      store8(y + (t * N + i) * C + c, out);
    }
  }
}

__global__ void merge_kernel(int64_t chunks, const bf16* __restrict__ p, const bf16* __restrict__ q,
                             bf16* __restrict__ out) {
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < chunks; k += int64_t(gridDim.x) * blockDim.x) {
    float a[8], b[8];
    load8_stream(p + k * 8, a);
    load8_stream(q + k * 8, b);
#pragma unroll
    for (int e = 0; e < 8; ++e) a[e] += b[e];
    store8(out + k * 8, a);
  }
}

template <bool RES, bool POST>
void launch_post_res(const MhcSize& s, const bf16* x, const bf16* f, const float* hres, const float* hpost, int ld_post,
                     bf16* y, cudaStream_t st) {
  check_size(s);
  if (POST && ld_post < s.n) throw std::invalid_argument("post_res: ld_post < n");
  if (s.T == 0) return;
  detail::dispatch_n(s.n, [&](auto nc) {
    constexpr int N = decltype(nc)::value;
    post_res_kernel<N, RES, POST><<<detail::grid_for(s.T, kWarps), kWarps * 32, 0, st>>>(s.T, int(s.C), x, f, hres,
                                                                                        hpost, ld_post, y);
    MHC_CUDA_CHECK_LAUNCH("post_res_kernel");
  });
}

}  // namespace

void pre_apply_fwd(const MhcSize& s, const bf16* x, const float* hpre, int ld_pre, bf16* u, cudaStream_t st) {
  check_size(s);
  if (ld_pre < s.n) throw std::invalid_argument("pre_apply_fwd: ld_pre < n");
  if (s.T == 0) return;
  detail::dispatch_n(s.n, [&](auto nc) {
    constexpr int N = decltype(nc)::value;
    pre_apply_kernel<N><<<detail::grid_for(s.T, kWarps), kWarps * 32, 0, st>>>(s.T, int(s.C), x, hpre, ld_pre, u);
    MHC_CUDA_CHECK_LAUNCH("pre_apply_kernel");
  });
}

void post_res_fwd(const MhcSize& s, const bf16* x, const bf16* f, const float* hres, const float* hpost, int ld_post,
                  bf16* y, cudaStream_t st) {
  launch_post_res<true, true>(s, x, f, hres, hpost, ld_post, y, st);
}

void apply_post_fwd(const MhcSize& s, const bf16* f, const float* hpost, int ld_post, bf16* y, cudaStream_t st) {
  launch_post_res<false, true>(s, nullptr, f, nullptr, hpost, ld_post, y, st);
}

void apply_res_fwd(const MhcSize& s, const bf16* x, const float* hres, bf16* y, cudaStream_t st) {
  launch_post_res<true, false>(s, x, nullptr, hres, nullptr, 0, y, st);
}

void merge_fwd(int64_t count, const bf16* p, const bf16* q, bf16* out, cudaStream_t st) {
  if (count < 0 || count % 8 != 0) throw std::invalid_argument("merge_fwd: count must be a multiple of 8");
  if (count == 0) return;
  const int64_t chunks = count / 8;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((chunks + 255) / 256, int64_t(detail::sm_count()) * 16));
  merge_kernel<<<blocks, 256, 0, st>>>(chunks, p, q, out);
  MHC_CUDA_CHECK_LAUNCH("merge_kernel");
}

}  // namespace mhc::kernels
