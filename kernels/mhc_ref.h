// CPU reference of every mHC kernel, forward and backward, in double precision (issue 3, item 5).
// Tests compare the CUDA kernels against these functions; they need no GPU.
//
// Layouts (row-major, T tokens, n streams, width C, m = n^2 + 2n mapping values per token):
//   x, dx, y, dy : [T, n, C]       f, df, u, du : [T, C]
//   phi, dphi    : [n*C, m]        proj, dproj  : [T, m + 1] (x phi, then the sum of squares of x)
//   coef, dcoef  : [T, m]          = H_pre (n), H_post (n), H~_res logits (n*n, row-major n x n)
//   hres, dhres  : [T, n, n]       a : [3] = a_pre, a_post, a_res      b : [m]
// Math (mHC paper, arXiv 2512.24880, Sec. 4): r = sqrt(||x||^2 / (nC) + eps); H~ = (1/r)[a_pre h_pre,
// a_post h_post, a_res h_res] + b; H_pre = sigmoid, H_post = 2 sigmoid; H_res = Sinkhorn-Knopp:
// M0 = exp(H~_res), then `iters` times column normalisation followed by row normalisation.
// u = H_pre x (u[c] = sum_i H_pre[i] x[i][c]); y = H_res x + H_post^T f.
#pragma once

#include <cstdint>
#include <vector>

namespace mhc::kernels::ref {

using Vec = std::vector<double>;

// RMSNorm epsilon inside r; the paper's r = ||x|| / sqrt(nC) with the usual small epsilon added so
// that an all-zero token gives finite coefficients.
inline constexpr double kRmsEps = 1e-6;

struct Dims {
  int n = 4;
  int64_t C = 0;
  int64_t T = 0;
  int m() const { return n * n + 2 * n; }
  int64_t nC() const { return n * C; }
};

// ---- fused kernel set, forward ----
Vec norm_proj_fwd(const Dims& d, const Vec& x, const Vec& phi);                    // -> proj
Vec mix_fwd(const Dims& d, const Vec& proj, const Vec& a, const Vec& b);           // -> coef
Vec sinkhorn_fwd(int n, int64_t T, const Vec& logits, int iters);                  // [T,n,n] -> hres
Vec pre_apply_fwd(const Dims& d, const Vec& x, const Vec& hpre);                   // hpre [T,n] -> u
Vec post_res_fwd(const Dims& d, const Vec& x, const Vec& f, const Vec& hres, const Vec& hpost);

// Column `offset` .. offset+width of a [T, ld] matrix as a dense [T, width] matrix.
Vec columns(const Vec& rows, int64_t T, int ld, int offset, int width);

// ---- fused kernel set, backward ----
struct PostResGrads {
  Vec dx, df, dhres, dhpost;
};
PostResGrads post_res_bwd(const Dims& d, const Vec& dy, const Vec& x, const Vec& f, const Vec& hres,
                          const Vec& hpost);
// dH_pre only: the fused set adds the x-gradient term H_pre^T du inside norm_proj_bwd's pass over x.
Vec pre_apply_bwd(const Dims& d, const Vec& du, const Vec& x);
Vec sinkhorn_bwd(int n, int64_t T, const Vec& logits, const Vec& dhres, int iters);  // -> dlogits
struct MixGrads {
  Vec dproj, da, db;
};
MixGrads mix_bwd(const Dims& d, const Vec& proj, const Vec& a, const Vec& b, const Vec& dcoef);
struct NormProjGrads {
  Vec dx, dphi;
};
// dx = dx_in + H_pre^T du + dproj[:, :m] phi^T + 2 dproj[:, m] x; empty dx_in / du skip their terms.
NormProjGrads norm_proj_bwd(const Dims& d, const Vec& x, const Vec& phi, const Vec& dproj,
                            const Vec& dx_in, const Vec& du, const Vec& hpre);

// ---- unfused HC-style sequence (paper Table 2) ----
Vec compute_h_fwd(const Dims& d, const Vec& x, const Vec& phi, const Vec& a, const Vec& b);
Vec apply_post_fwd(const Dims& d, const Vec& f, const Vec& hpost);  // [T,n,C]
Vec apply_res_fwd(const Dims& d, const Vec& x, const Vec& hres);    // [T,n,C]
Vec merge_fwd(const Vec& p, const Vec& q);                          // p + q (also residual merge)
struct ComputeHGrads {
  Vec dx, dphi, da, db;
};
ComputeHGrads compute_h_bwd(const Dims& d, const Vec& x, const Vec& phi, const Vec& a, const Vec& b,
                            const Vec& dcoef);
struct ApplyPreGrads {
  Vec dx, dhpre;
};
ApplyPreGrads apply_pre_bwd(const Dims& d, const Vec& du, const Vec& x, const Vec& hpre);
struct ApplyPostGrads {
  Vec df, dhpost;
};
ApplyPostGrads apply_post_bwd(const Dims& d, const Vec& dy, const Vec& f, const Vec& hpost);
struct ApplyResGrads {
  Vec dx, dhres;
};
ApplyResGrads apply_res_bwd(const Dims& d, const Vec& dy, const Vec& x, const Vec& hres);
// Backward of a merge is the accumulation of two gradient contributions: merge_fwd again.

// ---- checks ----
// Largest |row sum - 1| or |column sum - 1| over all T matrices of a [T, n, n] array.
double doubly_stochastic_residual(int n, int64_t T, const Vec& h);

}  // namespace mhc::kernels::ref
