// The small per-token kernels of the fused set: mix (paper 4.3.1 kernel 2) and Sinkhorn-Knopp
// (kernel 3), forward and backward, all fp32. Sinkhorn runs one token per thread with the n x n
// matrix in registers; its backward recomputes the forward on chip, keeping only the 2 * iters
// normalising sums per token in shared memory, and walks the normalisations back
// (Y = X / s  =>  dX = (dY - sum_line dY * Y) / s, X = Y * s).
#include <algorithm>
#include <type_traits>

#include "launch_util.h"
#include "mhc_api.h"
#include "mhc_device.cuh"

namespace mhc::kernels {
namespace {

using namespace dev;

__global__ void mix_fwd_kernel(int64_t T, int n, int K, const float* __restrict__ proj, const float* __restrict__ a,
                               const float* __restrict__ b, float* __restrict__ coef, float eps) {
  const int m = n * n + 2 * n;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= T * m) return;
  const int64_t t = idx / m;
  const int j = static_cast<int>(idx - t * m);
  const float* p = proj + t * (m + 1);
  const float inv_r = rsqrtf(p[m] / float(K) + eps);
  coef[idx] = mix_value(j, n, p[j], inv_r, a, b);
}

constexpr int kMixBwdThreads = 128;

// One token per thread; da and db are summed per block in shared memory, then atomically.
__global__ void mix_bwd_kernel(int64_t T, int n, int K, const float* __restrict__ proj, const float* __restrict__ a,
                               const float* __restrict__ b, const float* __restrict__ dcoef,
                               float* __restrict__ dproj, float* __restrict__ da, float* __restrict__ db, float eps) {
  __shared__ float s_da[3];
  __shared__ float s_db[kMaxStreams * kMaxStreams + 2 * kMaxStreams];
  const int m = n * n + 2 * n;
  for (int j = threadIdx.x; j < m; j += blockDim.x) s_db[j] = 0.f;
  if (threadIdx.x < 3) s_da[threadIdx.x] = 0.f;
  __syncthreads();
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t < T) {
    const float* p = proj + t * (m + 1);
    const float* dc = dcoef + t * m;
    const float inv_r = rsqrtf(p[m] / float(K) + eps);
    float d_ir = 0.f, da_l[3] = {0.f, 0.f, 0.f};
    for (int j = 0; j < m; ++j) {
      const int group = j < n ? 0 : (j < 2 * n ? 1 : 2);
      const float ag = a[group];
      const float z = ag * p[j] * inv_r + b[j];
      float dz = dc[j];
      if (group < 2) {
        const float sg = sigmoidf_(z);
        dz *= (group == 0 ? 1.f : 2.f) * sg * (1.f - sg);
      }
      atomicAdd(&s_db[j], dz);
      da_l[group] += dz * p[j] * inv_r;
      dproj[t * (m + 1) + j] = dz * ag * inv_r;
      d_ir += dz * ag * p[j];
    }
    // inv_r = (ss / K + eps)^(-1/2): d inv_r / d ss = -inv_r^3 / (2K)
    dproj[t * (m + 1) + m] = d_ir * (-0.5f * inv_r * inv_r * inv_r / float(K));
    for (int g = 0; g < 3; ++g) atomicAdd(&s_da[g], da_l[g]);
  }
  __syncthreads();
  for (int j = threadIdx.x; j < m; j += blockDim.x) atomicAdd(&db[j], s_db[j]);
  if (threadIdx.x < 3) atomicAdd(&da[threadIdx.x], s_da[threadIdx.x]);
}

// M0 = exp(L - column max): the shift cancels in the first column normalisation, so the result is
// the paper's exp(L) projection while exp cannot overflow.
template <int N>
__device__ __forceinline__ void sinkhorn_init(const float* __restrict__ l, float (&M)[N][N]) {
#pragma unroll
  for (int j = 0; j < N; ++j) {
    float mx = l[j];
#pragma unroll
    for (int i = 1; i < N; ++i) mx = fmaxf(mx, l[i * N + j]);
#pragma unroll
    for (int i = 0; i < N; ++i) M[i][j] = __expf(l[i * N + j] - mx);
  }
}

template <int N>
__device__ __forceinline__ void load_logits(const float* __restrict__ src, float (&l)[N * N]) {
#pragma unroll
  for (int k = 0; k < N * N; ++k) l[k] = src[k];
}

template <int N>
__global__ void sinkhorn_fwd_kernel(int64_t T, const float* __restrict__ logits, int ld, float* __restrict__ hres,
                                    int iters) {
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= T) return;
  float l[N * N], M[N][N];
  load_logits<N>(logits + t * ld, l);
  sinkhorn_init<N>(l, M);
  for (int it = 0; it < iters; ++it) {
#pragma unroll
    for (int j = 0; j < N; ++j) {
      float s = 0.f;
#pragma unroll
      for (int i = 0; i < N; ++i) s += M[i][j];
      const float r = 1.f / s;
#pragma unroll
      for (int i = 0; i < N; ++i) M[i][j] *= r;
    }
#pragma unroll
    for (int i = 0; i < N; ++i) {
      float s = 0.f;
#pragma unroll
      for (int j = 0; j < N; ++j) s += M[i][j];
      const float r = 1.f / s;
#pragma unroll
      for (int j = 0; j < N; ++j) M[i][j] *= r;
    }
  }
  float* out = hres + t * N * N;
#pragma unroll
  for (int i = 0; i < N; ++i)
#pragma unroll
    for (int j = 0; j < N; ++j) out[i * N + j] = M[i][j];
}

// Shared memory: the normalising sums, [2 * iters][N][blockDim] (thread index fastest: no conflicts).
template <int N>
__global__ void sinkhorn_bwd_kernel(int64_t T, const float* __restrict__ logits, int ld, const float* __restrict__ dh,
                                    float* __restrict__ dlogits, int ld_d, int iters) {
  extern __shared__ float sums[];
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= T) return;
  const int B = blockDim.x, tid = threadIdx.x;
  auto sum_at = [&](int step, int k) -> float& { return sums[(step * N + k) * B + tid]; };
  float l[N * N], M[N][N];
  load_logits<N>(logits + t * ld, l);
  sinkhorn_init<N>(l, M);
  for (int it = 0; it < iters; ++it) {  // forward again, keeping the sums
#pragma unroll
    for (int j = 0; j < N; ++j) {
      float s = 0.f;
#pragma unroll
      for (int i = 0; i < N; ++i) s += M[i][j];
      sum_at(2 * it, j) = s;
      const float r = 1.f / s;
#pragma unroll
      for (int i = 0; i < N; ++i) M[i][j] *= r;
    }
#pragma unroll
    for (int i = 0; i < N; ++i) {
      float s = 0.f;
#pragma unroll
      for (int j = 0; j < N; ++j) s += M[i][j];
      sum_at(2 * it + 1, i) = s;
      const float r = 1.f / s;
#pragma unroll
      for (int j = 0; j < N; ++j) M[i][j] *= r;
    }
  }
  float G[N][N];
#pragma unroll
  for (int i = 0; i < N; ++i)
#pragma unroll
    for (int j = 0; j < N; ++j) G[i][j] = dh[t * N * N + i * N + j];
  for (int it = iters - 1; it >= 0; --it) {
#pragma unroll
    for (int i = 0; i < N; ++i) {  // back through the row normalisation
      const float s = sum_at(2 * it + 1, i);
      float dot = 0.f;
#pragma unroll
      for (int j = 0; j < N; ++j) dot += G[i][j] * M[i][j];
      const float r = 1.f / s;
#pragma unroll
      for (int j = 0; j < N; ++j) {
        G[i][j] = (G[i][j] - dot) * r;
        M[i][j] *= s;
      }
    }
#pragma unroll
    for (int j = 0; j < N; ++j) {  // back through the column normalisation
      const float s = sum_at(2 * it, j);
      float dot = 0.f;
#pragma unroll
      for (int i = 0; i < N; ++i) dot += G[i][j] * M[i][j];
      const float r = 1.f / s;
#pragma unroll
      for (int i = 0; i < N; ++i) {
        G[i][j] = (G[i][j] - dot) * r;
        M[i][j] *= s;
      }
    }
  }
  sinkhorn_init<N>(l, M);  // exact M0 rather than the one multiplied back
  float* out = dlogits + t * ld_d;
#pragma unroll
  for (int i = 0; i < N; ++i)
#pragma unroll
    for (int j = 0; j < N; ++j) out[i * N + j] = G[i][j] * M[i][j];
}

void check_iters(int iters) {
  if (iters < 1 || iters > 1000) throw std::invalid_argument("sinkhorn: iters must be in 1..1000");
}

}  // namespace

void mix_fwd(const MhcSize& s, const float* proj, const float* a, const float* b, float* coef, cudaStream_t st) {
  check_size(s);
  if (s.T == 0) return;
  mix_fwd_kernel<<<detail::grid_for(s.T * s.m(), 256), 256, 0, st>>>(s.T, s.n, int(s.nC()), proj, a, b, coef,
                                                                     kRmsEpsF);
  MHC_CUDA_CHECK_LAUNCH("mix_fwd_kernel");
}

void mix_bwd(const MhcSize& s, const float* proj, const float* a, const float* b, const float* dcoef, float* dproj,
             float* da, float* db, cudaStream_t st) {
  check_size(s);
  MHC_CUDA_CHECK(cudaMemsetAsync(da, 0, 3 * sizeof(float), st));
  MHC_CUDA_CHECK(cudaMemsetAsync(db, 0, s.m() * sizeof(float), st));
  if (s.T == 0) return;
  mix_bwd_kernel<<<detail::grid_for(s.T, kMixBwdThreads), kMixBwdThreads, 0, st>>>(
      s.T, s.n, int(s.nC()), proj, a, b, dcoef, dproj, da, db, kRmsEpsF);
  MHC_CUDA_CHECK_LAUNCH("mix_bwd_kernel");
}

void sinkhorn_fwd(int n, int64_t T, const float* logits, int ld_logits, float* hres, int iters, cudaStream_t st) {
  check_iters(iters);
  if (ld_logits < n * n) throw std::invalid_argument("sinkhorn_fwd: ld_logits < n*n");
  detail::dispatch_n(n, [&](auto nc) {
    constexpr int N = decltype(nc)::value;
    if (T == 0) return;
    sinkhorn_fwd_kernel<N><<<detail::grid_for(T, 128), 128, 0, st>>>(T, logits, ld_logits, hres, iters);
    MHC_CUDA_CHECK_LAUNCH("sinkhorn_fwd_kernel");
  });
}

void sinkhorn_bwd(int n, int64_t T, const float* logits, int ld_logits, const float* dhres, float* dlogits,
                  int ld_dlogits, int iters, cudaStream_t st) {
  check_iters(iters);
  if (ld_logits < n * n || ld_dlogits < n * n) throw std::invalid_argument("sinkhorn_bwd: ld < n*n");
  detail::dispatch_n(n, [&](auto nc) {
    constexpr int N = decltype(nc)::value;
    if (T == 0) return;
    int threads = 128;
    auto bytes = [&](int th) { return size_t(2) * iters * N * th * sizeof(float); };
    while (threads > 32 && bytes(threads) > 96 * 1024) threads /= 2;
    if (bytes(threads) > 200 * 1024) throw std::invalid_argument("sinkhorn_bwd: too many iterations for shared memory");
    auto kernel = sinkhorn_bwd_kernel<N>;
    detail::allow_smem(kernel, bytes(threads));
    kernel<<<detail::grid_for(T, threads), threads, bytes(threads), st>>>(T, logits, ld_logits, dhres, dlogits,
                                                                         ld_dlogits, iters);
    MHC_CUDA_CHECK_LAUNCH("sinkhorn_bwd_kernel");
  });
}

}  // namespace mhc::kernels
