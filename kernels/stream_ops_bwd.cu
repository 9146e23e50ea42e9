// Backward kernels over the n-stream residual: post-res (and its unfused halves apply_res and
// apply_post) and pre-apply (fused: dH_pre only; unfused apply_pre also writes dx = H_pre^T du).
// One warp per token, 16-byte bf16 vectors of all n streams per lane; the per-token reductions over
// C (dH_res = dy x^T, dH_post = dy . f, dH_pre = x . du) are summed per lane in fp32, then across the
// warp with shuffles.
#include <type_traits>

#include "launch_util.h"
#include "mhc_api.h"
#include "mhc_device.cuh"

namespace mhc::kernels {
namespace {

using namespace dev;

constexpr int kWarps = 4;
constexpr int kCoefPerWarp = kMaxStreams * kMaxStreams + kMaxStreams;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float dot8(const float (&p)[8], const float (&q)[8]) {
  float s = 0.f;
#pragma unroll
  for (int e = 0; e < 8; ++e) s = fmaf(p[e], q[e], s);
  return s;
}

template <int N, bool RES, bool POST>
__global__ void __launch_bounds__(kWarps * 32) post_res_bwd_kernel(
    int64_t T, int C, const bf16* __restrict__ dy, const bf16* __restrict__ x, const bf16* __restrict__ f,
    const float* __restrict__ hres, const float* __restrict__ hpost, int ld_post, bf16* __restrict__ dx,
    bf16* __restrict__ df, float* __restrict__ dhres, float* __restrict__ dhpost, int ld_dpost) {
  __shared__ float coef[kWarps][kCoefPerWarp];
  const int w = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t t = int64_t(blockIdx.x) * kWarps + w;
  if (t >= T) return;
  if constexpr (RES)
    for (int k = lane; k < N * N; k += 32) coef[w][k] = hres[t * N * N + k];
  if constexpr (POST)
    for (int k = lane; k < N; k += 32) coef[w][N * N + k] = hpost[t * ld_post + k];
  __syncwarp();
  const float* H = coef[w];
  float acc_res[RES ? N * N : 1], acc_post[POST ? N : 1];
#pragma unroll
  for (int k = 0; k < (RES ? N * N : 1); ++k) acc_res[k] = 0.f;
#pragma unroll
  for (int k = 0; k < (POST ? N : 1); ++k) acc_post[k] = 0.f;

  for (int c = lane * 8; c < C; c += 32 * 8) {
    float g[N][8];
#pragma unroll
    for (int i = 0; i < N; ++i) load8_stream(dy + (t * N + i) * C + c, g[i]);
    if constexpr (POST) {
      float fv[8], out[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
      load8_stream(f + t * C + c, fv);
#pragma unroll
      for (int i = 0; i < N; ++i) {
        acc_post[i] += dot8(g[i], fv);
#pragma unroll
        for (int e = 0; e < 8; ++e) out[e] = fmaf(H[N * N + i], g[i][e], out[e]);
      }
      store8(df + t * C + c, out);
    }
    if constexpr (RES) {
#pragma unroll
      for (int j = 0; j < N; ++j) {
        float xv[8], out[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
        load8_stream(x + (t * N + j) * C + c, xv);
#pragma unroll
        for (int i = 0; i < N; ++i) {
          acc_res[i * N + j] += dot8(g[i], xv);
#pragma unroll
          for (int e = 0; e < 8; ++e) out[e] = fmaf(H[i * N + j], g[i][e], out[e]);
        }
        store8(dx + (t * N + j) * C + c, out);
      }
    }
  }
  if constexpr (RES) {
#pragma unroll
    for (int k = 0; k < N * N; ++k) {
      const float v = warp_sum(acc_res[k]);
      if (lane == 0) dhres[t * N * N + k] = v;
    }
  }
  if constexpr (POST) {
#pragma unroll
    for (int i = 0; i < N; ++i) {
      const float v = warp_sum(acc_post[i]);
      if (lane == 0) dhpost[t * ld_dpost + i] = v;
    }
  }
}

template <int N, bool WRITE_DX>
__global__ void __launch_bounds__(kWarps * 32) pre_apply_bwd_kernel(int64_t T, int C, const bf16* __restrict__ du,
                                                                    const bf16* __restrict__ x,
                                                                    const float* __restrict__ hpre, int ld_pre,
                                                                    bf16* __restrict__ dx,
                                                                    float* __restrict__ dhpre, int ld_dpre) {
  __shared__ float coef[kWarps][kMaxStreams];
  const int w = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t t = int64_t(blockIdx.x) * kWarps + w;
  if (t >= T) return;
  if constexpr (WRITE_DX)
    for (int k = lane; k < N; k += 32) coef[w][k] = hpre[t * ld_pre + k];
  __syncwarp();
  float acc[N];
#pragma unroll
  for (int i = 0; i < N; ++i) acc[i] = 0.f;
  for (int c = lane * 8; c < C; c += 32 * 8) {
    float g[8];
    load8_stream(du + t * C + c, g);
#pragma unroll
    for (int i = 0; i < N; ++i) {
      float xv[8];
      load8_stream(x + (t * N + i) * C + c, xv);
      acc[i] += dot8(g, xv);
      if constexpr (WRITE_DX) {
        float out[8];
#pragma unroll
        for (int e = 0; e < 8; ++e) out[e] = coef[w][i] * g[e];
        store8(dx + (t * N + i) * C + c, out);
      }
    }
  }
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const float v = warp_sum(acc[i]);
    if (lane == 0) dhpre[t * ld_dpre + i] = v;
  }
}

template <bool RES, bool POST>
void launch_post_res_bwd(const MhcSize& s, const bf16* dy, const bf16* x, const bf16* f, const float* hres,
                         const float* hpost, int ld_post, bf16* dx, bf16* df, float* dhres, float* dhpost,
                         int ld_dpost, cudaStream_t st) {
  check_size(s);
  if (POST && (ld_post < s.n || ld_dpost < s.n)) throw std::invalid_argument("post_res_bwd: ld < n");
  if (s.T == 0) return;
  detail::dispatch_n(s.n, [&](auto nc) {
    constexpr int N = decltype(nc)::value;
    post_res_bwd_kernel<N, RES, POST><<<detail::grid_for(s.T, kWarps), kWarps * 32, 0, st>>>(
        s.T, int(s.C), dy, x, f, hres, hpost, ld_post, dx, df, dhres, dhpost, ld_dpost);
    MHC_CUDA_CHECK_LAUNCH("post_res_bwd_kernel");
  });
}

template <bool WRITE_DX>
void launch_pre_apply_bwd(const MhcSize& s, const bf16* du, const bf16* x, const float* hpre, int ld_pre, bf16* dx,
                          float* dhpre, int ld_dpre, cudaStream_t st) {
  check_size(s);
  if ((WRITE_DX && ld_pre < s.n) || ld_dpre < s.n) throw std::invalid_argument("pre_apply_bwd: ld < n");
  if (s.T == 0) return;
  detail::dispatch_n(s.n, [&](auto nc) {
    constexpr int N = decltype(nc)::value;
    pre_apply_bwd_kernel<N, WRITE_DX><<<detail::grid_for(s.T, kWarps), kWarps * 32, 0, st>>>(
        s.T, int(s.C), du, x, hpre, ld_pre, dx, dhpre, ld_dpre);
    MHC_CUDA_CHECK_LAUNCH("pre_apply_bwd_kernel");
  });
}

}  // namespace

void post_res_bwd(const MhcSize& s, const bf16* dy, const bf16* x, const bf16* f, const float* hres,
                  const float* hpost, int ld_post, bf16* dx, bf16* df, float* dhres, float* dhpost, int ld_dpost,
                  cudaStream_t st) {
  launch_post_res_bwd<true, true>(s, dy, x, f, hres, hpost, ld_post, dx, df, dhres, dhpost, ld_dpost, st);
}

void apply_res_bwd(const MhcSize& s, const bf16* dy, const bf16* x, const float* hres, bf16* dx, float* dhres,
                   cudaStream_t st) {
  launch_post_res_bwd<true, false>(s, dy, x, nullptr, hres, nullptr, 0, dx, nullptr, dhres, nullptr, 0, st);
}

void apply_post_bwd(const MhcSize& s, const bf16* dy, const bf16* f, const float* hpost, int ld_post, bf16* df,
                    float* dhpost, int ld_dpost, cudaStream_t st) {
  launch_post_res_bwd<false, true>(s, dy, nullptr, f, nullptr, hpost, ld_post, nullptr, df, nullptr, dhpost,
                                   ld_dpost, st);
}

void pre_apply_bwd(const MhcSize& s, const bf16* du, const bf16* x, float* dhpre, int ld_dpre, cudaStream_t st) {
  launch_pre_apply_bwd<false>(s, du, x, nullptr, 0, nullptr, dhpre, ld_dpre, st);
}

void apply_pre_bwd(const MhcSize& s, const bf16* du, const bf16* x, const float* hpre, int ld_pre, bf16* dx,
                   float* dhpre, int ld_dpre, cudaStream_t st) {
  launch_pre_apply_bwd<true>(s, du, x, hpre, ld_pre, dx, dhpre, ld_dpre, st);
}

}  // namespace mhc::kernels
