// The small per-token kernels of the fused set: mix (paper 4.3.1 kernel 2) and Sinkhorn-Knopp
// (kernel 3), forward and backward, all fp32. Sinkhorn runs a group of lanes per token with the n x n
// matrix in registers; its backward recomputes the forward on chip, keeping only the normalising
// sums in shared memory, and walks the normalisations back.
#include <algorithm>
#include <type_traits>

#include "launch_util.h"
#include "mhc_api.h"
#include "mhc_device.cuh"

namespace mhc::kernels {
namespace {

using namespace dev;

constexpr int kMixTokens = 64;  // tokens per block: their rows are staged in shared memory, coalesced

// Block = 64 tokens: proj rows in, coef rows out, both as contiguous coalesced runs.
__global__ void __launch_bounds__(256) mix_fwd_kernel(int64_t T, int n, int K, const float* __restrict__ proj,
                                                      const float* __restrict__ a, const float* __restrict__ b,
                                                      float* __restrict__ coef, float eps) {
  extern __shared__ float tile[];  // [kMixTokens][m + 1]
  __shared__ float inv_r[kMixTokens];
  const int m = n * n + 2 * n;
  const int64_t t0 = int64_t(blockIdx.x) * kMixTokens;
  const int tokens = static_cast<int>(T - t0 < kMixTokens ? T - t0 : kMixTokens);
  for (int e = threadIdx.x; e < tokens * (m + 1); e += blockDim.x) tile[e] = proj[t0 * (m + 1) + e];
  __syncthreads();
  for (int r = threadIdx.x; r < tokens; r += blockDim.x) inv_r[r] = rsqrtf(tile[r * (m + 1) + m] / float(K) + eps);
  __syncthreads();
  for (int e = threadIdx.x; e < tokens * m; e += blockDim.x) {
    const int r = e / m, j = e - r * m;
    coef[t0 * m + e] = mix_value(j, n, tile[r * (m + 1) + j], inv_r[r], a, b);
  }
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Block = 64 tokens, one thread per token for the per-token reduction (d 1/r); the token sums for
// da and db go through shared memory and one atomic per value per block.
__global__ void __launch_bounds__(kMixTokens) mix_bwd_kernel(int64_t T, int n, int K, const float* __restrict__ proj,
                                                             const float* __restrict__ a, const float* __restrict__ b,
                                                             const float* __restrict__ dcoef, float* __restrict__ dproj,
                                                             float* __restrict__ da, float* __restrict__ db, float eps) {
  extern __shared__ float smem[];
  const int m = n * n + 2 * n;
  float* p_tile = smem;                              // [64][m + 1], becomes dproj
  float* dz_tile = smem + kMixTokens * (m + 1);      // [64][m], dcoef then dz
  __shared__ float s_da[3];
  const int64_t t0 = int64_t(blockIdx.x) * kMixTokens;
  const int tokens = static_cast<int>(T - t0 < kMixTokens ? T - t0 : kMixTokens);
  for (int e = threadIdx.x; e < tokens * (m + 1); e += blockDim.x) p_tile[e] = proj[t0 * (m + 1) + e];
  for (int e = threadIdx.x; e < tokens * m; e += blockDim.x) dz_tile[e] = dcoef[t0 * m + e];
  if (threadIdx.x < 3) s_da[threadIdx.x] = 0.f;
  __syncthreads();
  const int r = threadIdx.x;
  float da_l[3] = {0.f, 0.f, 0.f};
  if (r < tokens) {
    float* p = p_tile + r * (m + 1);
    float* dz = dz_tile + r * m;
    const float inv_r = rsqrtf(p[m] / float(K) + eps);
    float d_ir = 0.f;
    for (int j = 0; j < m; ++j) {
      const int group = j < n ? 0 : (j < 2 * n ? 1 : 2);
      const float ag = a[group];
      float g = dz[j];
      if (group < 2) {
        const float sg = sigmoidf_(ag * p[j] * inv_r + b[j]);
        g *= (group == 0 ? 1.f : 2.f) * sg * (1.f - sg);
      }
      dz[j] = g;
      da_l[group] += g * p[j] * inv_r;
      d_ir += g * ag * p[j];
      p[j] = g * ag * inv_r;  // dproj
    }
    // inv_r = (ss / K + eps)^(-1/2): d inv_r / d ss = -inv_r^3 / (2K)
    p[m] = d_ir * (-0.5f * inv_r * inv_r * inv_r / float(K));
  }
#pragma unroll
  for (int g = 0; g < 3; ++g) {
    const float v = warp_sum(da_l[g]);
    if (threadIdx.x % 32 == 0) atomicAdd(&s_da[g], v);
  }
  __syncthreads();
  for (int e = threadIdx.x; e < tokens * (m + 1); e += blockDim.x) dproj[t0 * (m + 1) + e] = p_tile[e];
  for (int j = threadIdx.x; j < m; j += blockDim.x) {
    float sum = 0.f;
    for (int q = 0; q < tokens; ++q) sum += dz_tile[q * m + j];
    atomicAdd(&db[j], sum);
  }
  if (threadIdx.x < 3) atomicAdd(&da[threadIdx.x], s_da[threadIdx.x]);
}

// Sinkhorn runs P lanes per token (P = n rounded up to a power of two): lane i holds row i of the
// n x n matrix in registers; column sums are butterfly shuffles within the P-lane group, row sums
// are local. Lanes i >= n hold zeros and never divide by their (zero) row sum.
template <int N>
__host__ __device__ constexpr int group_lanes() {
  return N <= 1 ? 1 : (N <= 2 ? 2 : (N <= 4 ? 4 : 8));
}

template <int P>
__device__ __forceinline__ float group_sum(float v) {
#pragma unroll
  for (int o = 1; o < P; o <<= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// M0 = exp(L - column max): the shift cancels in the first column normalisation, so the result is
// the paper's exp(L) projection while exp cannot overflow.
template <int N, int P>
__device__ __forceinline__ void sinkhorn_init(const float (&l)[N], bool row_ok, float (&M)[N]) {
#pragma unroll
  for (int j = 0; j < N; ++j) {
    float mx = row_ok ? l[j] : -INFINITY;
#pragma unroll
    for (int o = 1; o < P; o <<= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    M[j] = row_ok ? __expf(l[j] - mx) : 0.f;
  }
}

template <int N, int P>
__device__ __forceinline__ void normalise_columns(float (&M)[N], float (&colsum)[N]) {
#pragma unroll
  for (int j = 0; j < N; ++j) {
    colsum[j] = group_sum<P>(M[j]);
    M[j] *= __frcp_rn(colsum[j]);
  }
}

template <int N>
__device__ __forceinline__ float normalise_row(float (&M)[N], bool row_ok) {
  float s = 0.f;
#pragma unroll
  for (int j = 0; j < N; ++j) s += M[j];
  s = row_ok ? s : 1.f;
  const float r = __frcp_rn(s);
#pragma unroll
  for (int j = 0; j < N; ++j) M[j] *= r;
  return s;
}

template <int N>
__global__ void __launch_bounds__(128) sinkhorn_fwd_kernel(int64_t T, const float* __restrict__ logits, int ld,
                                                           float* __restrict__ hres, int iters) {
  constexpr int P = group_lanes<N>();
  const int64_t gid = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t t = gid / P;
  const int i = static_cast<int>(gid % P);
  const bool row_ok = t < T && i < N;
  float l[N], M[N], colsum[N];
#pragma unroll
  for (int j = 0; j < N; ++j) l[j] = row_ok ? logits[t * ld + i * N + j] : 0.f;
  sinkhorn_init<N, P>(l, row_ok, M);
  for (int it = 0; it < iters; ++it) {
    normalise_columns<N, P>(M, colsum);
    normalise_row<N>(M, row_ok);
  }
  if (row_ok)
#pragma unroll
    for (int j = 0; j < N; ++j) hres[t * N * N + i * N + j] = M[j];
}

// Backward: the forward runs again on chip keeping, per lane, its column's and its row's sum of
// every iteration in shared memory ([2 * iters][blockDim], thread index fastest); then the
// normalisations are walked back: Y = X / s  =>  dX = (dY - sum_line dY * Y) / s, X = Y * s.
template <int N>
__global__ void __launch_bounds__(128) sinkhorn_bwd_kernel(int64_t T, const float* __restrict__ logits, int ld,
                                                           const float* __restrict__ dh, float* __restrict__ dlogits,
                                                           int ld_d, int iters) {
  constexpr int P = group_lanes<N>();
  extern __shared__ float sums[];
  const int B = blockDim.x, tid = threadIdx.x;
  const int64_t gid = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t t = gid / P;
  const int i = static_cast<int>(gid % P);
  const int base = (threadIdx.x % 32) & ~(P - 1);
  const bool row_ok = t < T && i < N;
  float l[N], M[N], colsum[N], G[N];
#pragma unroll
  for (int j = 0; j < N; ++j) l[j] = row_ok ? logits[t * ld + i * N + j] : 0.f;
  sinkhorn_init<N, P>(l, row_ok, M);
  for (int it = 0; it < iters; ++it) {
    normalise_columns<N, P>(M, colsum);
    float own = 1.f;  // this lane keeps column i's sum
#pragma unroll
    for (int j = 0; j < N; ++j) own = (j == i) ? colsum[j] : own;
    sums[(2 * it) * B + tid] = own;
    sums[(2 * it + 1) * B + tid] = normalise_row<N>(M, row_ok);
  }
#pragma unroll
  for (int j = 0; j < N; ++j) G[j] = row_ok ? dh[t * N * N + i * N + j] : 0.f;
  for (int it = iters - 1; it >= 0; --it) {
    {  // row normalisation of iteration it
      const float s = sums[(2 * it + 1) * B + tid];
      float dot = 0.f;
#pragma unroll
      for (int j = 0; j < N; ++j) dot += G[j] * M[j];
      const float r = __frcp_rn(s);
#pragma unroll
      for (int j = 0; j < N; ++j) {
        G[j] = (G[j] - dot) * r;
        M[j] *= s;
      }
    }
    {  // column normalisation of iteration it
      const float own = sums[(2 * it) * B + tid];
#pragma unroll
      for (int j = 0; j < N; ++j) {
        const float s = __shfl_sync(0xffffffffu, own, base + j);
        const float dot = group_sum<P>(G[j] * M[j]);
        G[j] = (G[j] - dot) * __frcp_rn(s);
        M[j] *= s;
      }
    }
  }
  sinkhorn_init<N, P>(l, row_ok, M);  // exact M0 rather than the one multiplied back
  if (row_ok)
#pragma unroll
    for (int j = 0; j < N; ++j) dlogits[t * ld_d + i * N + j] = G[j] * M[j];
}

void check_iters(int iters) {
  if (iters < 1 || iters > 1000) throw std::invalid_argument("sinkhorn: iters must be in 1..1000");
}

}  // namespace

void mix_fwd(const MhcSize& s, const float* proj, const float* a, const float* b, float* coef, cudaStream_t st) {
  check_size(s);
  if (s.T == 0) return;
  const size_t smem = size_t(kMixTokens) * (s.m() + 1) * sizeof(float);
  mix_fwd_kernel<<<detail::grid_for(s.T, kMixTokens), 256, smem, st>>>(s.T, s.n, int(s.nC()), proj, a, b, coef,
                                                                      kRmsEpsF);
  MHC_CUDA_CHECK_LAUNCH("mix_fwd_kernel");
}

void mix_bwd(const MhcSize& s, const float* proj, const float* a, const float* b, const float* dcoef, float* dproj,
             float* da, float* db, cudaStream_t st) {
  check_size(s);
  MHC_CUDA_CHECK(cudaMemsetAsync(da, 0, 3 * sizeof(float), st));
  MHC_CUDA_CHECK(cudaMemsetAsync(db, 0, s.m() * sizeof(float), st));
  if (s.T == 0) return;
  const size_t smem = size_t(kMixTokens) * (2 * s.m() + 1) * sizeof(float);
  auto kernel = mix_bwd_kernel;
  detail::allow_smem(kernel, smem);
  kernel<<<detail::grid_for(s.T, kMixTokens), kMixTokens, smem, st>>>(s.T, s.n, int(s.nC()), proj, a, b, dcoef, dproj,
                                                                      da, db, kRmsEpsF);
  MHC_CUDA_CHECK_LAUNCH("mix_bwd_kernel");
}

void sinkhorn_fwd(int n, int64_t T, const float* logits, int ld_logits, float* hres, int iters, cudaStream_t st) {
  check_iters(iters);
  if (ld_logits < n * n) throw std::invalid_argument("sinkhorn_fwd: ld_logits < n*n");
  detail::dispatch_n(n, [&](auto nc) {
    constexpr int N = decltype(nc)::value;
    if (T == 0) return;
    sinkhorn_fwd_kernel<N><<<detail::grid_for(T * group_lanes<N>(), 128), 128, 0, st>>>(T, logits, ld_logits, hres,
                                                                                       iters);
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
    auto bytes = [&](int th) { return size_t(2) * iters * th * sizeof(float); };
    while (threads > 32 && bytes(threads) > 96 * 1024) threads /= 2;
    if (bytes(threads) > 200 * 1024) throw std::invalid_argument("sinkhorn_bwd: too many iterations for shared memory");
    auto kernel = sinkhorn_bwd_kernel<N>;
    detail::allow_smem(kernel, bytes(threads));
    kernel<<<detail::grid_for(T * group_lanes<N>(), threads), threads, bytes(threads), st>>>(T, logits, ld_logits, dhres, dlogits,
                                                                         ld_dlogits, iters);
    MHC_CUDA_CHECK_LAUNCH("sinkhorn_bwd_kernel");
  });
}

}  // namespace mhc::kernels
