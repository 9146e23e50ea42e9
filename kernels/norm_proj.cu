// Fused norm-projection forward (paper 4.3.1 kernel 1): x phi on tf32 tensor cores and the sum of
// squares of x, in one pass over x. With FUSE_MIX the mix step runs in the epilogue, which makes it
// the unfused sequence's "compute H's" op (Table 2: reads nC, writes n^2 + 2n per token).
//
// Tiling: a block of 4 warps owns 128 tokens; each warp two 16-token mma row tiles over all
// ceil(m/8) column tiles, so every phi fragment read from shared memory serves 32 tokens. x (bf16,
// exact in tf32) and phi stream through a cp.async ring of k slices. Inside each 8-wide k step the
// k order is permuted (thread tq takes k = 2tq, 2tq+1 as its fragment columns tq, tq+4, and phi's
// rows follow), so one 32-bit shared load yields two A values. When the token tiles alone leave SMs
// idle, the k range is split across blocks (split-K) and partial sums are added atomically into a
// zeroed output.
#include <type_traits>

#include "launch_util.h"
#include "mhc_api.h"
#include "mhc_device.cuh"

namespace mhc::kernels {
namespace {

using namespace dev;

constexpr int kThreads = 128;
constexpr int kBM = 128;  // tokens per block: 4 warps x 32
// k per pipeline stage and ring depth, measured on an H100 at n = 4 (fraction of copy bandwidth at
// C = 1280 / 2560 / 7168): 32 x 4 stages 50/54/56%, 64 x 3 61/68/76%, 64 x 2 63/71/77%, 128 x 2
// 61/69/75%; for the fused-mix variant (no split-K, half the blocks) 128 x 2 45/47/49% against
// 35/36/38% for 64 x 2. For n > 4 phi's slice is wide: 32 x 4 keeps two blocks per SM.
__host__ __device__ constexpr int stage_k(int nt, bool fuse_mix) { return nt <= 3 ? (fuse_mix ? 128 : 64) : 32; }
__host__ __device__ constexpr int stages(int nt) { return nt <= 3 ? 2 : 4; }

// Shared row length of a phi slice: = 4 mod 16 words, so the permuted B fragment reads (rows 2tq and
// 2tq + 1, column g) hit distinct banks.
__host__ __device__ constexpr int phi_ld(int nt) { return nt * 8 + 4; }

template <int NT, int BK, int ST>
constexpr size_t smem_bytes() {
  return size_t(ST) * (kBM * (BK + 8) * sizeof(bf16) + BK * phi_ld(NT) * sizeof(float));
}

template <int NT, bool FUSE_MIX, int BK, int ST>
__global__ void __launch_bounds__(kThreads) norm_proj_kernel(const bf16* __restrict__ x, const float* __restrict__ phi,
                                                             int64_t T, int K, int n, int ktiles_total,
                                                             int ktiles_per_split, bool accumulate,
                                                             float* __restrict__ out, const float* __restrict__ a,
                                                             const float* __restrict__ b, float eps) {
  constexpr int PLD = phi_ld(NT);
  constexpr int kBK = BK, kStages = ST, kXLd = BK + 8;
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

  float acc[2][NT][4];
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) acc[mt][nt][0] = acc[mt][nt][1] = acc[mt][nt][2] = acc[mt][nt][3] = 0.f;
  float ss[2][2] = {{0.f, 0.f}, {0.f, 0.f}};  // sums of squares of rows g, g + 8 of each row tile

  for (int i = 0; i < ntiles; ++i) {
    cp_async_wait<kStages - 2>();
    __syncthreads();  // stage i landed for everyone; stage i-1 is free for the next prefetch
    if (i + kStages - 1 < ntiles) load_stage((i + kStages - 1) % kStages, kt_begin + i + kStages - 1);
    cp_async_commit();
    const bf16* xa = xs + (i % kStages) * kBM * kXLd + warp * 32 * kXLd;
    const float* pb = ps + (i % kStages) * kBK * PLD;
#pragma unroll
    for (int kk = 0; kk < kBK; kk += 8) {
      uint32_t bfr[NT][2];
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) {
        bfr[nt][0] = to_tf32(pb[(kk + 2 * tq) * PLD + nt * 8 + g]);
        bfr[nt][1] = to_tf32(pb[(kk + 2 * tq + 1) * PLD + nt * 8 + g]);
      }
#pragma unroll
      for (int mt = 0; mt < 2; ++mt) {
        const uint32_t w0 = *reinterpret_cast<const uint32_t*>(xa + (mt * 16 + g) * kXLd + kk + 2 * tq);
        const uint32_t w1 = *reinterpret_cast<const uint32_t*>(xa + (mt * 16 + g + 8) * kXLd + kk + 2 * tq);
        // bf16 values are exact in tf32: their fp32 bits are valid tf32 operands as they are.
        const uint32_t af[4] = {w0 << 16, w1 << 16, w0 & 0xffff0000u, w1 & 0xffff0000u};
        const float f0 = __uint_as_float(af[0]), f1 = __uint_as_float(af[1]);
        const float f2 = __uint_as_float(af[2]), f3 = __uint_as_float(af[3]);
        ss[mt][0] = fmaf(f0, f0, fmaf(f2, f2, ss[mt][0]));
        ss[mt][1] = fmaf(f1, f1, fmaf(f3, f3, ss[mt][1]));
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) mma_tf32(acc[mt][nt], af, bfr[nt]);
      }
    }
  }
  cp_async_wait<0>();

#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      ss[mt][h] += __shfl_xor_sync(0xffffffffu, ss[mt][h], 1);
      ss[mt][h] += __shfl_xor_sync(0xffffffffu, ss[mt][h], 2);
    }

#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int64_t tok = t0 + warp * 32 + mt * 16 + g + 8 * h;
      if (tok >= T) continue;
      if constexpr (FUSE_MIX) {
        const float inv_r = rsqrtf(ss[mt][h] / float(K) + eps);
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int col = nt * 8 + 2 * tq + e;
            if (col < m) out[tok * m + col] = mix_value(col, n, acc[mt][nt][2 * h + e], inv_r, a, b);
          }
      } else {
        float* row = out + tok * (m + 1);
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int col = nt * 8 + 2 * tq + e;
            if (col < m) {
              if (accumulate) atomicAdd(row + col, acc[mt][nt][2 * h + e]);
              else row[col] = acc[mt][nt][2 * h + e];
            }
          }
        if (tq == 0) {
          if (accumulate) atomicAdd(row + m, ss[mt][h]);
          else row[m] = ss[mt][h];
        }
      }
    }
}

template <int NT, bool FUSE_MIX, int BK, int ST>
void launch_norm_proj_v(const MhcSize& s, const bf16* x, const float* phi, float* out, const float* a, const float* b,
                      bool allow_split, cudaStream_t st) {
  const int K = static_cast<int>(s.nC());
  constexpr int kBK = BK;
  const int ktiles = (K + kBK - 1) / kBK;
  const int64_t rows = (s.T + kBM - 1) / kBM;
  auto kernel = norm_proj_kernel<NT, FUSE_MIX, BK, ST>;
  constexpr size_t smem = smem_bytes<NT, BK, ST>();
  detail::allow_smem(kernel, smem);
  int splits = 1;
  if (allow_split) {  // split-K only where the token tiles alone leave resident-block slots idle,
                      // and never past one full wave of blocks
    int per_sm = 0;
    MHC_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, smem));
    const int64_t slots = int64_t(std::max(per_sm, 1)) * detail::sm_count();
    splits = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(slots / rows, ktiles / 4)));
  }
  const int per_split = (ktiles + splits - 1) / splits;
  splits = (ktiles + per_split - 1) / per_split;
  if (rows > 0x7fffffff) throw std::invalid_argument("norm_proj: too many tokens");
  if (splits > 1)
    MHC_CUDA_CHECK(cudaMemsetAsync(out, 0, size_t(s.T) * (s.m() + 1) * sizeof(float), st));
  kernel<<<dim3(unsigned(rows), unsigned(splits)), kThreads, smem, st>>>(x, phi, s.T, K, s.n, ktiles, per_split,
                                                                        splits > 1, out, a, b, kRmsEpsF);
  MHC_CUDA_CHECK_LAUNCH("norm_proj_kernel");
}

template <int NT, bool FUSE_MIX>
void launch_norm_proj(const MhcSize& s, const bf16* x, const float* phi, float* out, const float* a, const float* b,
                      bool allow_split, cudaStream_t st) {
  launch_norm_proj_v<NT, FUSE_MIX, stage_k(NT, FUSE_MIX), stages(NT)>(s, x, phi, out, a, b, allow_split, st);
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
