// Fused norm-projection backward (paper 4.3.1: "backward likewise one kernel"): one pass over x that
// writes dx = dx_in + H_pre^T du + dproj phi^T + 2 dss x and accumulates dphi = x^T dproj, both
// products on tf32 tensor cores.
//
// A block owns a 64-wide k slice of phi (kept in shared memory as tf32) and walks a strided subset of
// 64-token tiles: per tile, (A) dx_acc[64 t x 64 k] = dproj[t, :] phi[k, :]^T, (B) dphi[64 k x m] +=
// x[t, k]^T dproj[t, :], (C) a vectorised epilogue adds dx_in, H_pre du and 2 dss x and writes bf16.
// dphi partial sums stay in registers across tiles and are added atomically at the end.
#include <algorithm>
#include <type_traits>

#include "launch_util.h"
#include "mhc_api.h"
#include "mhc_device.cuh"

namespace mhc::kernels {
namespace {

using namespace dev;

constexpr int kThreads = 128;  // 4 warps
constexpr int kBT = 64;        // tokens per tile
constexpr int kBKc = 64;       // k per block
constexpr int kXLd = kBKc + 16;  // 40 words = 8 mod 32: conflict-free transposed x fragments in (B)
constexpr int kOLd = kBKc + 4;

// Row length of the dproj and phi tiles: = 8 or 24 mod 32 words, conflict-free for the 64-bit
// fragment loads of (A) and the column reads of (B).
__host__ __device__ constexpr int dp_ld(int nt) {
  return (nt * 8) % 32 == 0 || (nt * 8) % 32 == 16 ? nt * 8 + 8 : nt * 8;
}

// The epilogue's dx_in and du chunks are staged in shared memory by cp.async where that still leaves
// room for 3 blocks per SM (n <= 4, measured 43% -> 56% of copy bandwidth at n = 4, C = 2560); for
// larger n (wider dproj and phi tiles) they are loaded into registers at the epilogue (staging cost
// n = 8 its second block per SM: 25% -> 16%; loading them early, 20%, for register pressure).
__host__ __device__ constexpr bool stage_epilogue(int nt) { return nt <= 3; }

template <int NT>
constexpr size_t bwd_smem_bytes() {
  return 2 * kBT * kXLd * sizeof(bf16) + size_t(kBKc + 2 * kBT) * dp_ld(NT) * sizeof(float) +
         size_t(kBT) * kOLd * sizeof(float) + 2 * kBT * sizeof(float) +
         (stage_epilogue(NT) ? 2 * kBT * kBKc * sizeof(bf16) : 0);
}

// Templated on n so that m and every index division by m + 1 are compile-time constants (the
// run-time divisions cost more than the tensor-core work at n = 4).
template <int N>
__global__ void __launch_bounds__(kThreads) norm_proj_bwd_kernel(
    int64_t T, int K, int C, int token_tiles, const bf16* __restrict__ x, const float* __restrict__ phi,
    const float* __restrict__ dproj, const bf16* dx_in, const bf16* __restrict__ du, const float* __restrict__ hpre,
    int ld_pre, bf16* dx, float* __restrict__ dphi) {
  constexpr int NT = detail::mapping_tiles(N);
  constexpr int m = N * N + 2 * N;
  constexpr int PLD = dp_ld(NT);
  constexpr int kChunks = kBT * (kBKc / 8) / kThreads;  // 16-byte epilogue vectors per thread
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* xs = reinterpret_cast<bf16*>(smem);                     // [2][kBT][kXLd]
  float* phis = reinterpret_cast<float*>(xs + 2 * kBT * kXLd);  // [kBKc][PLD] tf32
  float* dps = phis + kBKc * PLD;                               // [2][kBT][PLD] tf32 once landed
  float* outs = dps + 2 * kBT * PLD;                            // [kBT][kOLd]
  float* dss = outs + kBT * kOLd;                               // [2][kBT]
  bf16* cst = reinterpret_cast<bf16*>(dss + 2 * kBT);           // [2][kBT * kBKc]: dx_in, du chunks
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, tq = lane % 4;
  const int k0 = blockIdx.x * kBKc;

  for (int c = threadIdx.x; c < kBKc * PLD; c += kThreads) {
    const int r = c / PLD, j = c % PLD;
    phis[c] = (j < m && k0 + r < K) ? __uint_as_float(to_tf32(phi[int64_t(k0 + r) * m + j])) : 0.f;
  }
  for (int c = threadIdx.x; c < 2 * kBT * PLD; c += kThreads) dps[c] = 0.f;  // columns >= m stay zero
  __syncthreads();

  // x tile and the tile's dproj rows (one contiguous run of kBT * (m + 1) floats) by cp.async.
  auto load_tile = [&](int buf, int tt) {
    const int64_t t0 = int64_t(tt) * kBT;
    for (int c = threadIdx.x; c < kBT * (kBKc / 8); c += kThreads) {
      const int r = c / (kBKc / 8), kc = (c % (kBKc / 8)) * 8;
      const bool ok = t0 + r < T && k0 + kc < K;
      cp_async16(xs + (buf * kBT + r) * kXLd + kc, ok ? x + (t0 + r) * K + k0 + kc : x, ok);
    }
    for (int c = threadIdx.x; c < kBT * (m + 1); c += kThreads) {
      const int r = c / (m + 1), j = c - r * (m + 1);
      const bool ok = t0 + r < T;
      float* dst = j < m ? dps + (buf * kBT + r) * PLD + j : dss + buf * kBT + r;
      cp_async4(dst, ok ? dproj + (t0 + r) * (m + 1) + j : dproj, ok);
    }
  };

  float accB[NT][4];
#pragma unroll
  for (int nt = 0; nt < NT; ++nt) accB[nt][0] = accB[nt][1] = accB[nt][2] = accB[nt][3] = 0.f;

  int buf = 0;
  if (int(blockIdx.y) < token_tiles) load_tile(0, blockIdx.y);
  cp_async_commit();
  for (int tt = blockIdx.y; tt < token_tiles; tt += gridDim.y, buf ^= 1) {
    const int64_t t0 = int64_t(tt) * kBT;
    cp_async_wait<0>();
    // Round this thread's own landed dproj copies to tf32 once (the same indices it issued).
    for (int c = threadIdx.x; c < kBT * (m + 1); c += kThreads) {
      const int r = c / (m + 1), j = c - r * (m + 1);
      if (j < m) {
        float* v = dps + (buf * kBT + r) * PLD + j;
        *v = __uint_as_float(to_tf32(*v));
      }
    }
    // Tile tt landed and converted; every warp is past the previous tile's epilogue, so the other
    // buffers and outs are free.
    __syncthreads();
    // The epilogue's dx_in and du chunks of this tile (each thread copies the chunks it will use),
    // in flight during phases A and B; then the next tile's x and dproj, in flight until the next
    // iteration. Both commit a group every iteration so the waits below count right.
    constexpr bool kStage = stage_epilogue(NT);
    float h[kChunks];
    float din_r[kStage ? 1 : kChunks][8], dud_r[kStage ? 1 : kChunks][8];
#pragma unroll
    for (int q = 0; q < kChunks; ++q) {
      const int c = threadIdx.x + q * kThreads;
      const int r = c / (kBKc / 8), kc = (c % (kBKc / 8)) * 8;
      const int64_t tok = t0 + r;
      const int k = k0 + kc;
      const bool ok = tok < T && k < K;
      h[q] = 0.f;
      if constexpr (kStage) {
        if (dx_in != nullptr) cp_async16(cst + c * 8, ok ? dx_in + tok * K + k : dx_in, ok);
      }
      if (du != nullptr) {
        const int stream = ok ? k / C : 0, col = k - stream * C;
        if (ok) h[q] = hpre[tok * ld_pre + stream];
        if constexpr (kStage) cp_async16(cst + kBT * kBKc + c * 8, ok ? du + tok * C + col : du, ok);
      }
    }
    cp_async_commit();
    if (tt + int(gridDim.y) < token_tiles) load_tile(buf ^ 1, tt + gridDim.y);
    cp_async_commit();
    const bf16* xb = xs + buf * kBT * kXLd;
    const float* db = dps + buf * kBT * PLD;

    {  // (A) dx_acc = dproj phi^T: rows = this warp's 16 tokens, columns = the 64 k of the slice
      float accA[kBKc / 8][4];
#pragma unroll
      for (int nt = 0; nt < kBKc / 8; ++nt) accA[nt][0] = accA[nt][1] = accA[nt][2] = accA[nt][3] = 0.f;
      const float* arow = db + warp * 16 * PLD;
      // k order permuted inside each 8-wide step (fragment columns tq, tq + 4 <- j = 2tq, 2tq + 1 for
      // both operands): one 64-bit shared load per fragment pair.
#pragma unroll
      for (int kj = 0; kj < NT; ++kj) {
        const float2 r0 = *reinterpret_cast<const float2*>(arow + g * PLD + kj * 8 + 2 * tq);
        const float2 r1 = *reinterpret_cast<const float2*>(arow + (g + 8) * PLD + kj * 8 + 2 * tq);
        const uint32_t a[4] = {__float_as_uint(r0.x), __float_as_uint(r1.x), __float_as_uint(r0.y),
                               __float_as_uint(r1.y)};
#pragma unroll
        for (int nt = 0; nt < kBKc / 8; ++nt) {
          const float2 p = *reinterpret_cast<const float2*>(phis + (nt * 8 + g) * PLD + kj * 8 + 2 * tq);
          const uint32_t b[2] = {__float_as_uint(p.x), __float_as_uint(p.y)};
          mma_tf32(accA[nt], a, b);
        }
      }
#pragma unroll
      for (int nt = 0; nt < kBKc / 8; ++nt) {
        float* o = outs + (warp * 16 + g) * kOLd + nt * 8 + 2 * tq;
        o[0] = accA[nt][0];
        o[1] = accA[nt][1];
        o[8 * kOLd] = accA[nt][2];
        o[8 * kOLd + 1] = accA[nt][3];
      }
    }
    // (B) dphi += x^T dproj: rows = this warp's 16 k, columns = m, reduction over the 64 tokens.
    // Row order permuted: fragment rows g, g + 8 <- k = 2g, 2g + 1 of the warp's 16, so one 32-bit
    // shared load gives both (the atomics below undo the permutation).
#pragma unroll
    for (int ts = 0; ts < kBT / 8; ++ts) {
      const uint32_t w0 = *reinterpret_cast<const uint32_t*>(xb + (ts * 8 + tq) * kXLd + warp * 16 + 2 * g);
      const uint32_t w1 = *reinterpret_cast<const uint32_t*>(xb + (ts * 8 + tq + 4) * kXLd + warp * 16 + 2 * g);
      const uint32_t a[4] = {w0 << 16, w0 & 0xffff0000u, w1 << 16, w1 & 0xffff0000u};
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) {
        const uint32_t b[2] = {__float_as_uint(db[(ts * 8 + tq) * PLD + nt * 8 + g]),
                               __float_as_uint(db[(ts * 8 + tq + 4) * PLD + nt * 8 + g])};
        mma_tf32(accB[nt], a, b);
      }
    }
    cp_async_wait<1>();  // this thread's epilogue chunks landed (the next tile may still be in flight)
    __syncthreads();     // outs complete
    if constexpr (!kStage) {  // all epilogue loads issued before any is used
#pragma unroll
      for (int q = 0; q < kChunks; ++q) {
        const int c = threadIdx.x + q * kThreads;
        const int r = c / (kBKc / 8), kc = (c % (kBKc / 8)) * 8;
        const int64_t tok = t0 + r;
        const int k = k0 + kc;
        const bool ok = tok < T && k < K;
#pragma unroll
        for (int e = 0; e < 8; ++e) din_r[q][e] = dud_r[q][e] = 0.f;
        if (ok && dx_in != nullptr) load8_coherent(dx_in + tok * K + k, din_r[q]);
        if (ok && du != nullptr) {
          const int stream = k / C, col = k - stream * C;
          load8(du + tok * C + col, dud_r[q]);
        }
      }
    }
    // (C) dx = dx_in + H_pre^T du + dx_acc + 2 dss x, 16-byte vectors
#pragma unroll
    for (int q = 0; q < kChunks; ++q) {
      const int c = threadIdx.x + q * kThreads;
      const int r = c / (kBKc / 8), kc = (c % (kBKc / 8)) * 8;
      const int64_t tok = t0 + r;
      const int k = k0 + kc;
      if (tok >= T || k >= K) continue;
      const float two_dss = 2.f * dss[buf * kBT + r];
      const float4 o0 = *reinterpret_cast<const float4*>(outs + r * kOLd + kc);
      const float4 o1 = *reinterpret_cast<const float4*>(outs + r * kOLd + kc + 4);
      const uint4 xw = *reinterpret_cast<const uint4*>(xb + r * kXLd + kc);
      const float acc[8] = {o0.x, o0.y, o0.z, o0.w, o1.x, o1.y, o1.z, o1.w};
      const uint32_t xu[4] = {xw.x, xw.y, xw.z, xw.w};
      float din[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f}, dud[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
      if constexpr (kStage) {
        if (dx_in != nullptr) load8_shared(cst + c * 8, din);
        if (du != nullptr) load8_shared(cst + kBT * kBKc + c * 8, dud);
      } else {
#pragma unroll
        for (int e = 0; e < 8; ++e) {
          din[e] = din_r[q][e];
          dud[e] = dud_r[q][e];
        }
      }
      float v[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        const float xv = __uint_as_float(e % 2 == 0 ? xu[e / 2] << 16 : xu[e / 2] & 0xffff0000u);
        v[e] = fmaf(h[q], dud[e], acc[e] + din[e] + two_dss * xv);
      }
      store8(dx + tok * K + k, v);
    }
  }
  cp_async_wait<0>();

#pragma unroll
  for (int nt = 0; nt < NT; ++nt)
#pragma unroll
    for (int hh = 0; hh < 2; ++hh) {
      const int k = k0 + warp * 16 + 2 * g + hh;
      if (k >= K) continue;
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int j = nt * 8 + 2 * tq + e;
        if (j < m) atomicAdd(dphi + int64_t(k) * m + j, accB[nt][2 * hh + e]);
      }
    }
}

}  // namespace

void norm_proj_bwd(const MhcSize& s, const bf16* x, const float* phi, const float* dproj, const bf16* dx_in,
                   const bf16* du, const float* hpre, int ld_pre, bf16* dx, float* dphi, cudaStream_t st) {
  check_size(s);
  if (du != nullptr && ld_pre < s.n) throw std::invalid_argument("norm_proj_bwd: ld_pre < n");
  const int K = static_cast<int>(s.nC());
  MHC_CUDA_CHECK(cudaMemsetAsync(dphi, 0, size_t(K) * s.m() * sizeof(float), st));
  if (s.T == 0) return;
  const int ktiles = (K + kBKc - 1) / kBKc;
  const int64_t token_tiles64 = (s.T + kBT - 1) / kBT;
  if (token_tiles64 > 0x7fffffff) throw std::invalid_argument("norm_proj_bwd: too many tokens");
  const int token_tiles = static_cast<int>(token_tiles64);
  detail::dispatch_n(s.n, [&](auto nc) {
    constexpr int N = decltype(nc)::value;
    constexpr int NT = detail::mapping_tiles(N);
    auto kernel = norm_proj_bwd_kernel<N>;
    constexpr size_t smem = bwd_smem_bytes<NT>();
    detail::allow_smem(kernel, smem);
    // About 4 waves of resident blocks, so the last partial wave costs little; each extra token
    // group costs one more set of dphi atomics (K * m per group).
    int per_sm = 0;
    MHC_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, smem));
    const int64_t slots = int64_t(std::max(per_sm, 1)) * detail::sm_count();
    const int groups = static_cast<int>(
        std::max<int64_t>(1, std::min<int64_t>({token_tiles, (4 * slots + ktiles - 1) / ktiles, 65535})));
    kernel<<<dim3(unsigned(ktiles), unsigned(groups)), kThreads, smem, st>>>(
        s.T, K, int(s.C), token_tiles, x, phi, dproj, dx_in, du, hpre, ld_pre, dx, dphi);
    MHC_CUDA_CHECK_LAUNCH("norm_proj_bwd_kernel");
  });
}

void compute_h_bwd(const MhcSize& s, const bf16* x, const float* phi, const float* proj, const float* a,
                   const float* b, const float* dcoef, float* dproj_workspace, bf16* dx, float* dphi, float* da,
                   float* db, cudaStream_t st) {
  mix_bwd(s, proj, a, b, dcoef, dproj_workspace, da, db, st);
  norm_proj_bwd(s, x, phi, dproj_workspace, nullptr, nullptr, nullptr, 0, dx, dphi, st);
}

}  // namespace mhc::kernels
