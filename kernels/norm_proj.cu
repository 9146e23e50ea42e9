// Fused norm-projection forward (paper 4.3.1 kernel 1): x phi on tf32 tensor cores and the sum of
// squares of x, in one pass over x. With FUSE_MIX the mix step runs in the epilogue, which makes it
// the unfused sequence's "compute H's" op (Table 2: reads nC, writes n^2 + 2n per token).
//
// Tiling: a block of 8 warps owns 128 tokens; each warp one 16-token mma row tile over all
// ceil(m/8) column tiles. x (bf16, exact in tf32) and phi stream through a 4-stage cp.async ring of
// 32-wide k slices. When 128-token tiles alone do not fill the GPU, the k range is split across
// blocks (split-K) and partial sums are added atomically into a zeroed output.
#include <type_traits>

#include "launch_util.h"
#include "mhc_api.h"
#include "mhc_device.cuh"

namespace mhc::kernels {
namespace {

using namespace dev;

constexpr int kThreads = 256;
constexpr int kBM = 128;  // tokens per block: 8 warps x 16
// k per pipeline stage and ring depth: 128-byte row segments per stage where phi's slice is small
// (n <= 4; 64-byte segments measured 53% of copy bandwidth at n = 4), 64-byte ones for n > 4 so
// that phi's wider slice still fits two blocks per SM.
__host__ __device__ constexpr int stage_k(int nt) { return nt <= 3 ? 64 : 32; }
__host__ __device__ constexpr int stages(int nt) { return nt <= 3 ? 3 : 4; }
__host__ __device__ constexpr int x_ld(int nt) { return stage_k(nt) + 8; }  // conflict-free A fragments

// Shared row length of a phi slice: column-tile width padded so B fragment reads hit distinct banks.
__host__ __device__ constexpr int phi_ld(int nt) {
  return (nt * 8) % 32 == 0 || (nt * 8) % 32 == 16 ? nt * 8 + 8 : nt * 8;
}

template <int NT>
constexpr size_t smem_bytes() {
  return size_t(stages(NT)) * (kBM * x_ld(NT) * sizeof(bf16) + stage_k(NT) * phi_ld(NT) * sizeof(float));
}

template <int NT, bool FUSE_MIX>
__global__ void __launch_bounds__(kThreads) norm_proj_kernel(const bf16* __restrict__ x, const float* __restrict__ phi,
                                                             int64_t T, int K, int n, int ktiles_total,
                                                             int ktiles_per_split, bool accumulate,
                                                             float* __restrict__ out, const float* __restrict__ a,
                                                             const float* __restrict__ b, float eps) {
  constexpr int PLD = phi_ld(NT);
  constexpr int kBK = stage_k(NT), kStages = stages(NT), kXLd = x_ld(NT);
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* xs = reinterpret_cast<bf16*>(smem);
  float* ps = reinterpret_cast<float*>(smem + size_t(kStages) * kBM * kXLd * sizeof(bf16));
  const int m = n * n + 2 * n;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, tq = lane % 4;
  const int64_t t0 = int64_t(blockIdx.x) * kBM;
  const int kt_begin = blockIdx.y * ktiles_per_split;
  const int ntiles = max(min(kt_begin + ktiles_per_split, ktiles_total) - kt_begin, 0);

  auto load_stage = [&](int stage, int kt) {
    const int k0 = kt * kBK;
    bf16* xd = xs + stage * kBM * kXLd;
    for (int c = threadIdx.x; c < kBM * (kBK / 8); c += kThreads) {
      const int r = c / (kBK / 8), kc = (c % (kBK / 8)) * 8;
      const bool ok = t0 + r < T && k0 + kc < K;
      cp_async16(xd + r * kXLd + kc, ok ? x + (t0 + r) * K + k0 + kc : x, ok);
    }
    float* pd = ps + stage * kBK * PLD;
    for (int c = threadIdx.x; c < kBK * NT * 8; c += kThreads) {
      const int r = c / (NT * 8), j = c % (NT * 8);
      const bool ok = j < m && k0 + r < K;
      cp_async4(pd + r * PLD + j, ok ? phi + int64_t(k0 + r) * m + j : phi, ok);
    }
  };

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < ntiles) load_stage(s, kt_begin + s);
    cp_async_commit();
  }

  float acc[NT][4];
#pragma unroll
  for (int nt = 0; nt < NT; ++nt) acc[nt][0] = acc[nt][1] = acc[nt][2] = acc[nt][3] = 0.f;
  float ss0 = 0.f, ss1 = 0.f;  // sums of squares of rows g and g + 8 (this lane's columns)

  for (int i = 0; i < ntiles; ++i) {
    cp_async_wait<kStages - 2>();
    __syncthreads();  // stage i landed for everyone; stage i-1 is free for the next prefetch
    if (i + kStages - 1 < ntiles) load_stage((i + kStages - 1) % kStages, kt_begin + i + kStages - 1);
    cp_async_commit();
    const bf16* xa = xs + (i % kStages) * kBM * kXLd + warp * 16 * kXLd;
    const float* pb = ps + (i % kStages) * kBK * PLD;
#pragma unroll
    for (int kk = 0; kk < kBK; kk += 8) {
      const float f0 = __bfloat162float(xa[g * kXLd + kk + tq]);
      const float f1 = __bfloat162float(xa[(g + 8) * kXLd + kk + tq]);
      const float f2 = __bfloat162float(xa[g * kXLd + kk + tq + 4]);
      const float f3 = __bfloat162float(xa[(g + 8) * kXLd + kk + tq + 4]);
      ss0 = fmaf(f0, f0, fmaf(f2, f2, ss0));
      ss1 = fmaf(f1, f1, fmaf(f3, f3, ss1));
      // bf16 values are exact in tf32: their fp32 bits are valid tf32 operands as they are.
      const uint32_t af[4] = {__float_as_uint(f0), __float_as_uint(f1), __float_as_uint(f2), __float_as_uint(f3)};
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) {
        const uint32_t bfr[2] = {to_tf32(pb[(kk + tq) * PLD + nt * 8 + g]), to_tf32(pb[(kk + tq + 4) * PLD + nt * 8 + g])};
        mma_tf32(acc[nt], af, bfr);
      }
    }
  }
  cp_async_wait<0>();

  ss0 += __shfl_xor_sync(0xffffffffu, ss0, 1);
  ss0 += __shfl_xor_sync(0xffffffffu, ss0, 2);
  ss1 += __shfl_xor_sync(0xffffffffu, ss1, 1);
  ss1 += __shfl_xor_sync(0xffffffffu, ss1, 2);

  const int64_t tok[2] = {t0 + warp * 16 + g, t0 + warp * 16 + g + 8};
  const float ss[2] = {ss0, ss1};
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    if (tok[h] >= T) continue;
    if constexpr (FUSE_MIX) {
      const float inv_r = rsqrtf(ss[h] / float(K) + eps);
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int col = nt * 8 + 2 * tq + e;
          if (col < m) out[tok[h] * m + col] = mix_value(col, n, acc[nt][2 * h + e], inv_r, a, b);
        }
    } else {
      float* row = out + tok[h] * (m + 1);
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int col = nt * 8 + 2 * tq + e;
          if (col < m) {
            if (accumulate) atomicAdd(row + col, acc[nt][2 * h + e]);
            else row[col] = acc[nt][2 * h + e];
          }
        }
      if (tq == 0) {
        if (accumulate) atomicAdd(row + m, ss[h]);
        else row[m] = ss[h];
      }
    }
  }
}

template <int NT, bool FUSE_MIX>
void launch_norm_proj(const MhcSize& s, const bf16* x, const float* phi, float* out, const float* a, const float* b,
                      bool allow_split, cudaStream_t st) {
  const int K = static_cast<int>(s.nC());
  constexpr int kBK = stage_k(NT);
  const int ktiles = (K + kBK - 1) / kBK;
  const int64_t rows = (s.T + kBM - 1) / kBM;
  int splits = 1;
  if (allow_split) {  // split-K only where the token tiles alone leave SMs idle
    const int64_t want = (2 * detail::sm_count() + rows - 1) / rows;
    splits = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(want, ktiles / 4)));
  }
  const int per_split = (ktiles + splits - 1) / splits;
  splits = (ktiles + per_split - 1) / per_split;
  if (rows > 0x7fffffff) throw std::invalid_argument("norm_proj: too many tokens");
  auto kernel = norm_proj_kernel<NT, FUSE_MIX>;
  constexpr size_t smem = smem_bytes<NT>();
  detail::allow_smem(kernel, smem);
  if (splits > 1)
    MHC_CUDA_CHECK(cudaMemsetAsync(out, 0, size_t(s.T) * (s.m() + 1) * sizeof(float), st));
  kernel<<<dim3(unsigned(rows), unsigned(splits)), kThreads, smem, st>>>(x, phi, s.T, K, s.n, ktiles, per_split,
                                                                        splits > 1, out, a, b, kRmsEpsF);
  MHC_CUDA_CHECK_LAUNCH("norm_proj_kernel");
}

template <bool FUSE_MIX>
void dispatch_norm_proj(const MhcSize& s, const bf16* x, const float* phi, float* out, const float* a,
                        const float* b, bool allow_split, cudaStream_t st) {
  detail::dispatch_n(s.n, [&](auto nc) {
    constexpr int NT = detail::mapping_tiles(decltype(nc)::value);
    launch_norm_proj<NT, FUSE_MIX>(s, x, phi, out, a, b, allow_split, st);
  });
}

}  // namespace

void norm_proj_fwd(const MhcSize& s, const bf16* x, const float* phi, float* proj, cudaStream_t st) {
  check_size(s);
  if (s.T == 0) return;
  dispatch_norm_proj<false>(s, x, phi, proj, nullptr, nullptr, true, st);
}

void compute_h_fwd(const MhcSize& s, const bf16* x, const float* phi, const float* a, const float* b, float* coef,
                   cudaStream_t st) {
  check_size(s);
  if (s.T == 0) return;
  dispatch_norm_proj<true>(s, x, phi, coef, a, b, false, st);
}

}  // namespace mhc::kernels
