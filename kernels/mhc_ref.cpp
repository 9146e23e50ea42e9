// CPU reference of the mHC kernels in double precision; see mhc_ref.h for layouts and math.
#include "mhc_ref.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mhc::kernels::ref {
namespace {

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

double inv_rms(const Dims& d, double sumsq) { return 1.0 / std::sqrt(sumsq / double(d.nC()) + kRmsEps); }

void expect_size(const Vec& v, int64_t size, const char* what) {
  if (int64_t(v.size()) != size) throw std::invalid_argument(std::string("ref: wrong size of ") + what);
}

// One token's Sinkhorn forward keeping every intermediate (2 * iters + 1 matrices) for the backward.
std::vector<Vec> sinkhorn_history(int n, const double* logits, int iters) {
  std::vector<Vec> hist;
  Vec m(n * n);
  for (int k = 0; k < n * n; ++k) m[k] = std::exp(logits[k]);
  hist.push_back(m);
  for (int it = 0; it < iters; ++it) {
    for (int j = 0; j < n; ++j) {  // column normalisation
      double s = 0;
      for (int i = 0; i < n; ++i) s += m[i * n + j];
      for (int i = 0; i < n; ++i) m[i * n + j] /= s;
    }
    hist.push_back(m);
    for (int i = 0; i < n; ++i) {  // row normalisation
      double s = 0;
      for (int j = 0; j < n; ++j) s += m[i * n + j];
      for (int j = 0; j < n; ++j) m[i * n + j] /= s;
    }
    hist.push_back(m);
  }
  return hist;
}

}  // namespace

Vec columns(const Vec& rows, int64_t T, int ld, int offset, int width) {
  Vec out(T * width);
  for (int64_t t = 0; t < T; ++t)
    for (int k = 0; k < width; ++k) out[t * width + k] = rows[t * ld + offset + k];
  return out;
}

Vec norm_proj_fwd(const Dims& d, const Vec& x, const Vec& phi) {
  const int m = d.m();
  const int64_t K = d.nC();
  expect_size(x, d.T * K, "x");
  expect_size(phi, K * m, "phi");
  Vec proj(d.T * (m + 1), 0.0);
  for (int64_t t = 0; t < d.T; ++t) {
    double* p = &proj[t * (m + 1)];
    for (int64_t k = 0; k < K; ++k) {
      const double xv = x[t * K + k];
      for (int j = 0; j < m; ++j) p[j] += xv * phi[k * m + j];
      p[m] += xv * xv;
    }
  }
  return proj;
}

Vec mix_fwd(const Dims& d, const Vec& proj, const Vec& a, const Vec& b) {
  const int m = d.m(), n = d.n;
  expect_size(proj, d.T * (m + 1), "proj");
  expect_size(a, 3, "a");
  expect_size(b, m, "b");
  Vec coef(d.T * m);
  for (int64_t t = 0; t < d.T; ++t) {
    const double* p = &proj[t * (m + 1)];
    const double ir = inv_rms(d, p[m]);
    for (int j = 0; j < m; ++j) {
      const int group = j < n ? 0 : (j < 2 * n ? 1 : 2);
      const double z = a[group] * p[j] * ir + b[j];
      coef[t * m + j] = group == 0 ? sigmoid(z) : (group == 1 ? 2.0 * sigmoid(z) : z);
    }
  }
  return coef;
}

Vec sinkhorn_fwd(int n, int64_t T, const Vec& logits, int iters) {
  expect_size(logits, T * n * n, "logits");
  Vec out(T * n * n);
  for (int64_t t = 0; t < T; ++t) {
    const Vec last = sinkhorn_history(n, &logits[t * n * n], iters).back();
    std::copy(last.begin(), last.end(), out.begin() + t * n * n);
  }
  return out;
}

Vec pre_apply_fwd(const Dims& d, const Vec& x, const Vec& hpre) {
  expect_size(x, d.T * d.nC(), "x");
  expect_size(hpre, d.T * d.n, "hpre");
  Vec u(d.T * d.C, 0.0);
  for (int64_t t = 0; t < d.T; ++t)
    for (int i = 0; i < d.n; ++i)
      for (int64_t c = 0; c < d.C; ++c) u[t * d.C + c] += hpre[t * d.n + i] * x[(t * d.n + i) * d.C + c];
  return u;
}

// Written from the paper's Eq. for F_post,res directly (one pass per token, as the fused kernel does),
// not as apply_res + apply_post + merge, so the unfused sequence is checked against an independent sum.
Vec post_res_fwd(const Dims& d, const Vec& x, const Vec& f, const Vec& hres, const Vec& hpost) {
  const int n = d.n;
  expect_size(x, d.T * d.nC(), "x");
  expect_size(f, d.T * d.C, "f");
  expect_size(hres, d.T * n * n, "hres");
  expect_size(hpost, d.T * n, "hpost");
  Vec y(d.T * d.nC());
  for (int64_t t = 0; t < d.T; ++t)
    for (int64_t c = 0; c < d.C; ++c)
      for (int i = 0; i < n; ++i) {
        double acc = hpost[t * n + i] * f[t * d.C + c];
        for (int j = 0; j < n; ++j) acc += hres[(t * n + i) * n + j] * x[(t * n + j) * d.C + c];
        y[(t * n + i) * d.C + c] = acc;
      }
  return y;
}

// d/dx_j = sum_i H_res[i][j] dy_i; d/df = sum_i H_post[i] dy_i; dH_res[i][j] = dy_i . x_j;
// dH_post[i] = dy_i . f, accumulated per token in one pass (not through the unfused halves).
PostResGrads post_res_bwd(const Dims& d, const Vec& dy, const Vec& x, const Vec& f, const Vec& hres,
                          const Vec& hpost) {
  const int n = d.n;
  expect_size(dy, d.T * d.nC(), "dy");
  expect_size(x, d.T * d.nC(), "x");
  expect_size(f, d.T * d.C, "f");
  expect_size(hres, d.T * n * n, "hres");
  expect_size(hpost, d.T * n, "hpost");
  PostResGrads g{Vec(d.T * d.nC(), 0.0), Vec(d.T * d.C, 0.0), Vec(d.T * n * n, 0.0), Vec(d.T * n, 0.0)};
  for (int64_t t = 0; t < d.T; ++t)
    for (int64_t c = 0; c < d.C; ++c) {
      double df = 0;
      for (int i = 0; i < n; ++i) {
        const double gy = dy[(t * n + i) * d.C + c];
        df += hpost[t * n + i] * gy;
        g.dhpost[t * n + i] += gy * f[t * d.C + c];
        for (int j = 0; j < n; ++j) {
          g.dx[(t * n + j) * d.C + c] += hres[(t * n + i) * n + j] * gy;
          g.dhres[(t * n + i) * n + j] += gy * x[(t * n + j) * d.C + c];
        }
      }
      g.df[t * d.C + c] = df;
    }
  return g;
}

Vec pre_apply_bwd(const Dims& d, const Vec& du, const Vec& x) {
  expect_size(du, d.T * d.C, "du");
  expect_size(x, d.T * d.nC(), "x");
  Vec dh(d.T * d.n, 0.0);
  for (int64_t t = 0; t < d.T; ++t)
    for (int i = 0; i < d.n; ++i)
      for (int64_t c = 0; c < d.C; ++c) dh[t * d.n + i] += du[t * d.C + c] * x[(t * d.n + i) * d.C + c];
  return dh;
}

Vec sinkhorn_bwd(int n, int64_t T, const Vec& logits, const Vec& dhres, int iters) {
  expect_size(logits, T * n * n, "logits");
  expect_size(dhres, T * n * n, "dhres");
  Vec dl(T * n * n);
  for (int64_t t = 0; t < T; ++t) {
    const std::vector<Vec> hist = sinkhorn_history(n, &logits[t * n * n], iters);
    Vec g(dhres.begin() + t * n * n, dhres.begin() + (t + 1) * n * n);
    // Walk the normalisations back: Y = X / s (s = sum along the normalised line) gives
    // dX = (dY - sum_line dY * Y) / s.
    for (int step = 2 * iters; step >= 1; --step) {
      const Vec& X = hist[step - 1];
      const Vec& Y = hist[step];
      const bool column = (step % 2) == 1;
      Vec gx(n * n);
      for (int line = 0; line < n; ++line) {
        double s = 0, dot = 0;
        for (int k = 0; k < n; ++k) {
          const int idx = column ? k * n + line : line * n + k;
          s += X[idx];
          dot += g[idx] * Y[idx];
        }
        for (int k = 0; k < n; ++k) {
          const int idx = column ? k * n + line : line * n + k;
          gx[idx] = (g[idx] - dot) / s;
        }
      }
      g = gx;
    }
    for (int k = 0; k < n * n; ++k) dl[t * n * n + k] = g[k] * hist[0][k];  // d exp(z) = exp(z) dz
  }
  return dl;
}

MixGrads mix_bwd(const Dims& d, const Vec& proj, const Vec& a, const Vec& b, const Vec& dcoef) {
  const int m = d.m(), n = d.n;
  expect_size(proj, d.T * (m + 1), "proj");
  expect_size(dcoef, d.T * m, "dcoef");
  MixGrads g{Vec(d.T * (m + 1), 0.0), Vec(3, 0.0), Vec(m, 0.0)};
  for (int64_t t = 0; t < d.T; ++t) {
    const double* p = &proj[t * (m + 1)];
    const double ir = inv_rms(d, p[m]);
    double d_ir = 0;
    for (int j = 0; j < m; ++j) {
      const int group = j < n ? 0 : (j < 2 * n ? 1 : 2);
      const double z = a[group] * p[j] * ir + b[j];
      const double s = sigmoid(z);
      const double dz = dcoef[t * m + j] * (group == 0 ? s * (1 - s) : (group == 1 ? 2 * s * (1 - s) : 1.0));
      g.db[j] += dz;
      g.da[group] += dz * p[j] * ir;
      g.dproj[t * (m + 1) + j] = dz * a[group] * ir;
      d_ir += dz * a[group] * p[j];
    }
    // ir = (ss / nC + eps)^(-1/2): d ir / d ss = -ir^3 / (2 nC)
    g.dproj[t * (m + 1) + m] = d_ir * (-0.5 * ir * ir * ir / double(d.nC()));
  }
  return g;
}

NormProjGrads norm_proj_bwd(const Dims& d, const Vec& x, const Vec& phi, const Vec& dproj,
                            const Vec& dx_in, const Vec& du, const Vec& hpre) {
  const int m = d.m();
  const int64_t K = d.nC();
  expect_size(x, d.T * K, "x");
  expect_size(phi, K * m, "phi");
  expect_size(dproj, d.T * (m + 1), "dproj");
  NormProjGrads g{dx_in.empty() ? Vec(d.T * K, 0.0) : dx_in, Vec(K * m, 0.0)};
  expect_size(g.dx, d.T * K, "dx_in");
  if (!du.empty()) {  // the fused kernel adds H_pre^T du while it reads x: dx_i += H_pre[i] du
    expect_size(du, d.T * d.C, "du");
    expect_size(hpre, d.T * d.n, "hpre");
    for (int64_t t = 0; t < d.T; ++t)
      for (int i = 0; i < d.n; ++i)
        for (int64_t c = 0; c < d.C; ++c) g.dx[(t * d.n + i) * d.C + c] += hpre[t * d.n + i] * du[t * d.C + c];
  }
  for (int64_t t = 0; t < d.T; ++t) {
    const double* dp = &dproj[t * (m + 1)];
    for (int64_t k = 0; k < K; ++k) {
      const double xv = x[t * K + k];
      double acc = 2.0 * dp[m] * xv;
      for (int j = 0; j < m; ++j) {
        acc += dp[j] * phi[k * m + j];
        g.dphi[k * m + j] += xv * dp[j];
      }
      g.dx[t * K + k] += acc;
    }
  }
  return g;
}

// xn = x / r with r = sqrt(|x|^2 / K + eps), the RMSNorm of one token's nC values; returns r.
static double rms_normalise(const double* x, int64_t K, Vec& xn) {
  double sumsq = 0;
  for (int64_t k = 0; k < K; ++k) sumsq += x[k] * x[k];
  const double r = std::sqrt(sumsq / double(K) + kRmsEps);
  for (int64_t k = 0; k < K; ++k) xn[k] = x[k] / r;
  return r;
}

// HC's "compute H" written the other way round from the fused pair: normalise x first (x / r), then
// project, as an unfused RMSNorm followed by a GEMM would (paper Eqs. 7-9); the fused kernels project
// first and scale by 1/r afterwards (paper 4.3.1). Equal in exact arithmetic, computed independently.
Vec compute_h_fwd(const Dims& d, const Vec& x, const Vec& phi, const Vec& a, const Vec& b) {
  const int n = d.n, m = d.m();
  const int64_t K = d.nC();
  expect_size(x, d.T * K, "x");
  expect_size(phi, K * m, "phi");
  expect_size(a, 3, "a");
  expect_size(b, m, "b");
  Vec coef(d.T * m);
  Vec xn(K);
  for (int64_t t = 0; t < d.T; ++t) {
    rms_normalise(&x[t * K], K, xn);
    for (int j = 0; j < m; ++j) {
      double h = 0;
      for (int64_t k = 0; k < K; ++k) h += xn[k] * phi[k * m + j];
      const double gate = j < n ? a[0] : (j < 2 * n ? a[1] : a[2]);
      const double z = gate * h + b[j];
      coef[t * m + j] = j < n ? sigmoid(z) : (j < 2 * n ? 2.0 * sigmoid(z) : z);
    }
  }
  return coef;
}

Vec apply_post_fwd(const Dims& d, const Vec& f, const Vec& hpost) {
  expect_size(f, d.T * d.C, "f");
  expect_size(hpost, d.T * d.n, "hpost");
  Vec y(d.T * d.nC());
  for (int64_t t = 0; t < d.T; ++t)
    for (int i = 0; i < d.n; ++i)
      for (int64_t c = 0; c < d.C; ++c) y[(t * d.n + i) * d.C + c] = hpost[t * d.n + i] * f[t * d.C + c];
  return y;
}

Vec apply_res_fwd(const Dims& d, const Vec& x, const Vec& hres) {
  const int n = d.n;
  expect_size(x, d.T * d.nC(), "x");
  expect_size(hres, d.T * n * n, "hres");
  Vec y(d.T * d.nC(), 0.0);
  for (int64_t t = 0; t < d.T; ++t)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        for (int64_t c = 0; c < d.C; ++c)
          y[(t * n + i) * d.C + c] += hres[(t * n + i) * n + j] * x[(t * n + j) * d.C + c];
  return y;
}

Vec merge_fwd(const Vec& p, const Vec& q) {
  expect_size(q, int64_t(p.size()), "merge operand");
  Vec y(p.size());
  for (size_t k = 0; k < p.size(); ++k) y[k] = p[k] + q[k];
  return y;
}

// Backward of the normalise-first form: with xn = x / r and h_j = xn . phi_j, z_j = a_g h_j + b_j and
// w_j = a_g dz_j: dphi_kj = sum_t xn_k w_j; dxn_k = sum_j w_j phi_kj; and through r = sqrt(|x|^2/K + eps),
// dx_k = (dxn_k - xn_k (xn . dxn) / K) / r.
ComputeHGrads compute_h_bwd(const Dims& d, const Vec& x, const Vec& phi, const Vec& a, const Vec& b,
                            const Vec& dcoef) {
  const int n = d.n, m = d.m();
  const int64_t K = d.nC();
  expect_size(x, d.T * K, "x");
  expect_size(phi, K * m, "phi");
  expect_size(dcoef, d.T * m, "dcoef");
  ComputeHGrads g{Vec(d.T * K, 0.0), Vec(K * m, 0.0), Vec(3, 0.0), Vec(m, 0.0)};
  Vec xn(K), w(m), dxn(K);
  for (int64_t t = 0; t < d.T; ++t) {
    const double r = rms_normalise(&x[t * K], K, xn);
    for (int j = 0; j < m; ++j) {
      const int group = j < n ? 0 : (j < 2 * n ? 1 : 2);
      double h = 0;
      for (int64_t k = 0; k < K; ++k) h += xn[k] * phi[k * m + j];
      const double z = a[group] * h + b[j];
      const double s = sigmoid(z);
      const double slope = group == 0 ? s * (1 - s) : (group == 1 ? 2 * s * (1 - s) : 1.0);
      const double dz = dcoef[t * m + j] * slope;
      g.db[j] += dz;
      g.da[group] += dz * h;
      w[j] = a[group] * dz;
    }
    double dot = 0;
    for (int64_t k = 0; k < K; ++k) {
      double acc = 0;
      for (int j = 0; j < m; ++j) {
        acc += w[j] * phi[k * m + j];
        g.dphi[k * m + j] += xn[k] * w[j];
      }
      dxn[k] = acc;
      dot += xn[k] * acc;
    }
    for (int64_t k = 0; k < K; ++k) g.dx[t * K + k] = (dxn[k] - xn[k] * dot / double(K)) / r;
  }
  return g;
}

ApplyPreGrads apply_pre_bwd(const Dims& d, const Vec& du, const Vec& x, const Vec& hpre) {
  expect_size(hpre, d.T * d.n, "hpre");
  expect_size(du, d.T * d.C, "du");
  expect_size(x, d.T * d.nC(), "x");
  ApplyPreGrads g{Vec(d.T * d.nC()), Vec(d.T * d.n, 0.0)};
  for (int64_t t = 0; t < d.T; ++t)
    for (int i = 0; i < d.n; ++i)
      for (int64_t c = 0; c < d.C; ++c) {
        g.dx[(t * d.n + i) * d.C + c] = hpre[t * d.n + i] * du[t * d.C + c];
        g.dhpre[t * d.n + i] += du[t * d.C + c] * x[(t * d.n + i) * d.C + c];
      }
  return g;
}

ApplyPostGrads apply_post_bwd(const Dims& d, const Vec& dy, const Vec& f, const Vec& hpost) {
  expect_size(dy, d.T * d.nC(), "dy");
  expect_size(f, d.T * d.C, "f");
  expect_size(hpost, d.T * d.n, "hpost");
  ApplyPostGrads g{Vec(d.T * d.C, 0.0), Vec(d.T * d.n, 0.0)};
  for (int64_t t = 0; t < d.T; ++t)
    for (int i = 0; i < d.n; ++i)
      for (int64_t c = 0; c < d.C; ++c) {
        const double g_y = dy[(t * d.n + i) * d.C + c];
        g.df[t * d.C + c] += hpost[t * d.n + i] * g_y;
        g.dhpost[t * d.n + i] += g_y * f[t * d.C + c];
      }
  return g;
}

ApplyResGrads apply_res_bwd(const Dims& d, const Vec& dy, const Vec& x, const Vec& hres) {
  const int n = d.n;
  expect_size(dy, d.T * d.nC(), "dy");
  expect_size(x, d.T * d.nC(), "x");
  expect_size(hres, d.T * n * n, "hres");
  ApplyResGrads g{Vec(d.T * d.nC(), 0.0), Vec(d.T * n * n, 0.0)};
  for (int64_t t = 0; t < d.T; ++t)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        for (int64_t c = 0; c < d.C; ++c) {
          const double g_y = dy[(t * n + i) * d.C + c];
          g.dx[(t * n + j) * d.C + c] += hres[(t * n + i) * n + j] * g_y;
          g.dhres[(t * n + i) * n + j] += g_y * x[(t * n + j) * d.C + c];
        }
  return g;
}

double doubly_stochastic_residual(int n, int64_t T, const Vec& h) {
  expect_size(h, T * n * n, "h");
  double worst = 0;
  for (int64_t t = 0; t < T; ++t)
    for (int line = 0; line < n; ++line) {
      double rs = 0, cs = 0;
      for (int k = 0; k < n; ++k) {
        rs += h[t * n * n + line * n + k];
        cs += h[t * n * n + k * n + line];
      }
      worst = std::max({worst, std::abs(rs - 1), std::abs(cs - 1)});
    }
  return worst;
}

}  // namespace mhc::kernels::ref
