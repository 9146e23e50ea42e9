// CPU reference of the mHC kernels: forward values against hand-computed tokens (the RMS normaliser,
// the gates, Sinkhorn's column-then-row order, F_post,res), Sinkhorn convergence, every backward
// against central finite differences, n = 1 as a plain residual, products of H_res staying doubly
// stochastic, and the unfused HC-style sequence (normalise, then project; apply_res + apply_post +
// merge) computing the same function as the fused set, which is written independently of it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>

#include "mhc_ref.h"

namespace ref = mhc::kernels::ref;
using ref::Dims;
using ref::Vec;

namespace {

Vec random_vec(std::mt19937_64& rng, size_t size, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  Vec v(size);
  for (auto& e : v) e = u(rng);
  return v;
}

double dot(const Vec& p, const Vec& q) {
  double s = 0;
  for (size_t k = 0; k < p.size(); ++k) s += p[k] * q[k];
  return s;
}

// Checks d/dv (w . out(v)) against the analytic gradient at every coordinate of v (central
// differences, step h), as max |analytic - numeric| / max(1, max |numeric|).
double fd_error(Vec v, const std::function<Vec(const Vec&)>& out, const Vec& w, const Vec& analytic,
                double h = 1e-5) {
  EXPECT_EQ(v.size(), analytic.size());
  double worst = 0, scale = 1;
  for (size_t k = 0; k < v.size(); ++k) {
    const double keep = v[k];
    v[k] = keep + h;
    const double up = dot(w, out(v));
    v[k] = keep - h;
    const double down = dot(w, out(v));
    v[k] = keep;
    const double numeric = (up - down) / (2 * h);
    scale = std::max(scale, std::abs(numeric));
    worst = std::max(worst, std::abs(numeric - analytic[k]));
  }
  return worst / scale;
}

struct Case {
  Dims d;
  Vec x, f, phi, a, b;
};

Case make_case(int n, int64_t C, int64_t T, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Case c{{n, C, T}, {}, {}, {}, {}, {}};
  c.x = random_vec(rng, T * n * C, -1, 1);
  c.f = random_vec(rng, T * C, -1, 1);
  c.phi = random_vec(rng, n * C * c.d.m(), -0.5, 0.5);
  c.a = random_vec(rng, 3, 0.5, 1.5);  // larger than the 0.01 init so every term matters
  c.b = random_vec(rng, c.d.m(), -1, 1);
  return c;
}

constexpr double kFdTol = 1e-6;

}  // namespace

// Residual after 1..30 iterations, worst and median over many random matrices. Logits uniform in
// [-5, 5] spread the entries over e^10 and converge slowly in the worst case (at 20 iterations, n = 4:
// median ~1e-4, worst ~4e-2), so the 1e-6 bound is asserted where it holds: logits in [-1, 1] (the
// paper's regime: gates initialised at a = 0.01 keep H~_res near the bias).
TEST(KernelsRef, SinkhornResidualTable) {
  const int64_t T = 512;
  for (int n : {2, 4, 8}) {
    std::mt19937_64 rng(11 + n);
    const Vec wide = random_vec(rng, T * n * n, -5, 5);
    const Vec narrow = random_vec(rng, T * n * n, -1, 1);
    std::printf("Sinkhorn residual max|row or column sum - 1|, n = %d, %lld matrices\n", n, static_cast<long long>(T));
    std::printf("%6s %16s %16s %16s\n", "iters", "[-5,5] worst", "[-5,5] median", "[-1,1] worst");
    double prev = 1e300;
    for (int it = 1; it <= 30; ++it) {
      const Vec hw = ref::sinkhorn_fwd(n, T, wide, it);
      std::vector<double> per(T);
      for (int64_t t = 0; t < T; ++t)
        per[t] = ref::doubly_stochastic_residual(n, 1, Vec(hw.begin() + t * n * n, hw.begin() + (t + 1) * n * n));
      std::sort(per.begin(), per.end());
      const double worst = per.back();
      const double narrow_worst = ref::doubly_stochastic_residual(n, T, ref::sinkhorn_fwd(n, T, narrow, it));
      std::printf("%6d %16.3e %16.3e %16.3e\n", it, worst, per[T / 2], narrow_worst);
      if (it == 20) {
        EXPECT_LE(narrow_worst, 1e-6) << "n=" << n;
        EXPECT_LE(per[T / 2], 1e-3) << "n=" << n;
      }
      EXPECT_LE(worst, prev * (1 + 1e-9)) << "worst residual grew at iteration " << it;
      prev = worst;
    }
    const Vec h = ref::sinkhorn_fwd(n, T, wide, 20);
    EXPECT_GT(*std::min_element(h.begin(), h.end()), 0.0);
  }
}

TEST(KernelsRef, SinkhornBackwardMatchesFiniteDifferences) {
  for (int n : {1, 2, 3, 4, 6, 8}) {
    std::mt19937_64 rng(100 + n);
    const int64_t T = 2;
    const Vec logits = random_vec(rng, T * n * n, -3, 3);
    const Vec w = random_vec(rng, T * n * n, -1, 1);
    for (int iters : {1, 3, 20}) {
      const Vec g = ref::sinkhorn_bwd(n, T, logits, w, iters);
      const double err = fd_error(logits, [&](const Vec& v) { return ref::sinkhorn_fwd(n, T, v, iters); }, w, g);
      EXPECT_LT(err, kFdTol) << "n=" << n << " iters=" << iters;
    }
  }
}

TEST(KernelsRef, NormProjAndMixBackwardMatchFiniteDifferences) {
  for (int n : {1, 2, 3, 4, 6}) {
    Case c = make_case(n, 5, 3, 7 + n);
    const Dims& d = c.d;
    std::mt19937_64 rng(9);
    const Vec proj = ref::norm_proj_fwd(d, c.x, c.phi);
    // mix: gradients for proj (incl. the sum of squares), a and b
    const Vec wc = random_vec(rng, d.T * d.m(), -1, 1);
    const ref::MixGrads mg = ref::mix_bwd(d, proj, c.a, c.b, wc);
    EXPECT_LT(fd_error(proj, [&](const Vec& v) { return ref::mix_fwd(d, v, c.a, c.b); }, wc, mg.dproj), kFdTol);
    EXPECT_LT(fd_error(c.a, [&](const Vec& v) { return ref::mix_fwd(d, proj, v, c.b); }, wc, mg.da), kFdTol);
    EXPECT_LT(fd_error(c.b, [&](const Vec& v) { return ref::mix_fwd(d, proj, c.a, v); }, wc, mg.db), kFdTol);
    // norm-proj with the fused extras: dx_in and the pre-apply term H_pre^T du
    const Vec wp = random_vec(rng, d.T * (d.m() + 1), -1, 1);
    const Vec dx_in = random_vec(rng, d.T * d.nC(), -1, 1);
    const Vec du = random_vec(rng, d.T * d.C, -1, 1);
    const Vec hpre = random_vec(rng, d.T * n, 0, 1);
    const ref::NormProjGrads ng = ref::norm_proj_bwd(d, c.x, c.phi, wp, dx_in, du, hpre);
    const ref::ApplyPreGrads pre = ref::apply_pre_bwd(d, du, c.x, hpre);
    Vec dx_np(ng.dx.size());
    for (size_t k = 0; k < dx_np.size(); ++k) dx_np[k] = ng.dx[k] - dx_in[k] - pre.dx[k];
    EXPECT_LT(fd_error(c.x, [&](const Vec& v) { return ref::norm_proj_fwd(d, v, c.phi); }, wp, dx_np), kFdTol);
    EXPECT_LT(fd_error(c.phi, [&](const Vec& v) { return ref::norm_proj_fwd(d, c.x, v); }, wp, ng.dphi), kFdTol);
    // compute_h (unfused) = mix(norm_proj): x, phi, a, b
    const ref::ComputeHGrads hg = ref::compute_h_bwd(d, c.x, c.phi, c.a, c.b, wc);
    auto ch = [&](const Vec& x, const Vec& phi, const Vec& a, const Vec& b) { return ref::compute_h_fwd(d, x, phi, a, b); };
    EXPECT_LT(fd_error(c.x, [&](const Vec& v) { return ch(v, c.phi, c.a, c.b); }, wc, hg.dx), kFdTol);
    EXPECT_LT(fd_error(c.phi, [&](const Vec& v) { return ch(c.x, v, c.a, c.b); }, wc, hg.dphi), kFdTol);
    EXPECT_LT(fd_error(c.a, [&](const Vec& v) { return ch(c.x, c.phi, v, c.b); }, wc, hg.da), kFdTol);
    EXPECT_LT(fd_error(c.b, [&](const Vec& v) { return ch(c.x, c.phi, c.a, v); }, wc, hg.db), kFdTol);
  }
}

TEST(KernelsRef, StreamOpsBackwardMatchFiniteDifferences) {
  for (int n : {1, 2, 3, 4, 6, 8}) {
    Case c = make_case(n, 6, 2, 30 + n);
    const Dims& d = c.d;
    std::mt19937_64 rng(31);
    const Vec hres = random_vec(rng, d.T * n * n, 0, 1);
    const Vec hpost = random_vec(rng, d.T * n, 0, 2);
    const Vec hpre = random_vec(rng, d.T * n, 0, 1);
    const Vec wy = random_vec(rng, d.T * d.nC(), -1, 1);
    const Vec wu = random_vec(rng, d.T * d.C, -1, 1);
    // post_res
    const ref::PostResGrads pg = ref::post_res_bwd(d, wy, c.x, c.f, hres, hpost);
    auto pr = [&](const Vec& x, const Vec& f, const Vec& hr, const Vec& hp) { return ref::post_res_fwd(d, x, f, hr, hp); };
    EXPECT_LT(fd_error(c.x, [&](const Vec& v) { return pr(v, c.f, hres, hpost); }, wy, pg.dx), kFdTol);
    EXPECT_LT(fd_error(c.f, [&](const Vec& v) { return pr(c.x, v, hres, hpost); }, wy, pg.df), kFdTol);
    EXPECT_LT(fd_error(hres, [&](const Vec& v) { return pr(c.x, c.f, v, hpost); }, wy, pg.dhres), kFdTol);
    EXPECT_LT(fd_error(hpost, [&](const Vec& v) { return pr(c.x, c.f, hres, v); }, wy, pg.dhpost), kFdTol);
    // pre_apply / apply_pre
    const ref::ApplyPreGrads ag = ref::apply_pre_bwd(d, wu, c.x, hpre);
    EXPECT_LT(fd_error(c.x, [&](const Vec& v) { return ref::pre_apply_fwd(d, v, hpre); }, wu, ag.dx), kFdTol);
    EXPECT_LT(fd_error(hpre, [&](const Vec& v) { return ref::pre_apply_fwd(d, c.x, v); }, wu, ag.dhpre), kFdTol);
    const Vec dh_fused = ref::pre_apply_bwd(d, wu, c.x);
    for (size_t k = 0; k < dh_fused.size(); ++k) EXPECT_NEAR(ag.dhpre[k], dh_fused[k], 1e-12);
    // unfused apply_post and apply_res are the two halves of post_res
    const ref::ApplyPostGrads apg = ref::apply_post_bwd(d, wy, c.f, hpost);
    const ref::ApplyResGrads arg = ref::apply_res_bwd(d, wy, c.x, hres);
    EXPECT_LT(fd_error(c.f, [&](const Vec& v) { return ref::apply_post_fwd(d, v, hpost); }, wy, apg.df), kFdTol);
    EXPECT_LT(fd_error(hres, [&](const Vec& v) { return ref::apply_res_fwd(d, c.x, v); }, wy, arg.dhres), kFdTol);
  }
}

TEST(KernelsRef, UnfusedSequenceEqualsFusedSet) {
  for (int n : {1, 2, 3, 4, 6, 8}) {
    Case c = make_case(n, 16, 5, 50 + n);
    const Dims& d = c.d;
    const int m = d.m();
    const Vec coef = ref::mix_fwd(d, ref::norm_proj_fwd(d, c.x, c.phi), c.a, c.b);
    const Vec coef_u = ref::compute_h_fwd(d, c.x, c.phi, c.a, c.b);
    // Different rounding order (project then scale against scale then project): equal to ~1e-15.
    for (size_t k = 0; k < coef.size(); ++k) EXPECT_NEAR(coef[k], coef_u[k], 1e-12);
    const Vec hpre = ref::columns(coef, d.T, m, 0, n);
    const Vec hpost = ref::columns(coef, d.T, m, n, n);
    const Vec hres = ref::sinkhorn_fwd(n, d.T, ref::columns(coef, d.T, m, 2 * n, n * n), 20);
    const Vec fused = ref::post_res_fwd(d, c.x, c.f, hres, hpost);
    const Vec unfused = ref::merge_fwd(ref::apply_res_fwd(d, c.x, hres), ref::apply_post_fwd(d, c.f, hpost));
    for (size_t k = 0; k < fused.size(); ++k) EXPECT_NEAR(fused[k], unfused[k], 1e-12);
    EXPECT_GT(*std::min_element(hpre.begin(), hpre.end()), 0.0);
    EXPECT_LT(*std::max_element(hpost.begin(), hpost.end()), 2.0);
  }
}

// One token by hand: n = 2, C = 2, x = (1, 2 | 2, 4), |x|^2 = 25 over nC = 4 values, so the paper's
// r = |x| / sqrt(nC) = 2.5 (not |x| = 5). phi copies x_k into mapping value k (k < 4); a = 1, b = 0 for
// the gates, b = log(1, 2, 3, 4) for the H_res logits (phi gives them nothing).
TEST(KernelsRef, CoefficientsOfAHandComputedToken) {
  const Dims d{2, 2, 1};
  const Vec x = {1, 2, 2, 4};
  Vec phi(4 * 8, 0.0);
  for (int k = 0; k < 4; ++k) phi[k * 8 + k] = 1.0;
  const Vec a = {1, 1, 1};
  const Vec b = {0, 0, 0, 0, std::log(1.0), std::log(2.0), std::log(3.0), std::log(4.0)};
  // H_pre = sigmoid(x_0 / r, x_1 / r) = sigmoid(0.4, 0.8); H_post = 2 sigmoid(0.8, 1.6).
  const Vec want_gates = {0.598687660112452, 0.6899744811276125, 1.379948962255225, 1.664036770267849};
  for (const Vec& coef : {ref::mix_fwd(d, ref::norm_proj_fwd(d, x, phi), a, b), ref::compute_h_fwd(d, x, phi, a, b)}) {
    for (int j = 0; j < 4; ++j) EXPECT_NEAR(coef[j], want_gates[j], 1e-7) << "gate " << j;
    for (int j = 4; j < 8; ++j) EXPECT_NEAR(coef[j], b[j], 1e-15) << "res logit " << j;
  }
  const Vec proj = ref::norm_proj_fwd(d, x, phi);
  EXPECT_DOUBLE_EQ(proj[8], 25.0);  // the sum of squares rides along the projection
}

// M0 = exp(logits) = [[1, 2], [3, 4]]. Columns first: [[1/4, 1/3], [3/4, 2/3]], then rows:
// [[3/7, 4/7], [9/17, 8/17]]; a second iteration gives [[31/69, 38/69], [93/169, 76/169]]. Rows first
// would give [[7/16, 7/13], [9/16, 6/13]] after one iteration.
TEST(KernelsRef, SinkhornNormalisesColumnsThenRows) {
  const Vec logits = {std::log(1.0), std::log(2.0), std::log(3.0), std::log(4.0)};
  const Vec one = ref::sinkhorn_fwd(2, 1, logits, 1);
  const Vec want1 = {3.0 / 7, 4.0 / 7, 9.0 / 17, 8.0 / 17};
  const Vec two = ref::sinkhorn_fwd(2, 1, logits, 2);
  const Vec want2 = {31.0 / 69, 38.0 / 69, 93.0 / 169, 76.0 / 169};
  for (int k = 0; k < 4; ++k) {
    EXPECT_NEAR(one[k], want1[k], 1e-15) << k;
    EXPECT_NEAR(two[k], want2[k], 1e-15) << k;
  }
}

// y_i = sum_j H_res[i][j] x_j + H_post[i] f for n = 2, C = 1: x = (1, 2), f = 3,
// H_res = [[0.25, 0.75], [0.75, 0.25]], H_post = (0.5, 1.5): y = (0.25 + 1.5 + 1.5, 0.75 + 0.5 + 4.5).
TEST(KernelsRef, PostResOfAHandComputedToken) {
  const Dims d{2, 1, 1};
  const Vec hres = {0.25, 0.75, 0.75, 0.25}, hpost = {0.5, 1.5};
  const Vec y = ref::post_res_fwd(d, {1, 2}, {3}, hres, hpost);
  EXPECT_DOUBLE_EQ(y[0], 3.25);
  EXPECT_DOUBLE_EQ(y[1], 5.75);
  const Vec unfused = ref::merge_fwd(ref::apply_res_fwd(d, {1, 2}, hres), ref::apply_post_fwd(d, {3}, hpost));
  EXPECT_DOUBLE_EQ(unfused[0], 3.25);
  EXPECT_DOUBLE_EQ(unfused[1], 5.75);
}

TEST(KernelsRef, NEqualsOneIsAPlainResidual) {
  Case c = make_case(1, 32, 7, 77);
  const Dims& d = c.d;
  std::mt19937_64 rng(78);
  // A 1x1 Sinkhorn projection is exactly 1 whatever the logit.
  const Vec hres = ref::sinkhorn_fwd(1, d.T, random_vec(rng, d.T, -5, 5), 20);
  for (double h : hres) EXPECT_DOUBLE_EQ(h, 1.0);
  // With the post gate at its midpoint (2 sigmoid(0) = 1), x_next = x + f: the residual merge.
  Vec b(d.m(), 0.0);
  const Vec phi(d.nC() * d.m(), 0.0);
  const Vec coef = ref::mix_fwd(d, ref::norm_proj_fwd(d, c.x, phi), c.a, b);
  const Vec hpost = ref::columns(coef, d.T, d.m(), 1, 1);
  for (double h : hpost) EXPECT_DOUBLE_EQ(h, 1.0);
  const Vec y = ref::post_res_fwd(d, c.x, c.f, hres, hpost);
  const Vec plain = ref::merge_fwd(c.x, c.f);
  for (size_t k = 0; k < y.size(); ++k) EXPECT_DOUBLE_EQ(y[k], plain[k]);
  // and its backward is the residual's: dx = dy, df = dy
  const Vec dy = random_vec(rng, d.T * d.C, -1, 1);
  const ref::PostResGrads g = ref::post_res_bwd(d, dy, c.x, c.f, hres, hpost);
  for (size_t k = 0; k < dy.size(); ++k) {
    EXPECT_DOUBLE_EQ(g.dx[k], dy[k]);
    EXPECT_DOUBLE_EQ(g.df[k], dy[k]);
  }
}

TEST(KernelsRef, CompositeOfSixtyProjectedHResStaysDoublyStochastic) {
  for (int n : {2, 4, 8}) {
    std::mt19937_64 rng(600 + n);
    const int layers = 60;
    const Vec logits = random_vec(rng, layers * n * n, -1, 1);
    const Vec h = ref::sinkhorn_fwd(n, layers, logits, 20);
    const double each = ref::doubly_stochastic_residual(n, layers, h);
    Vec prod(n * n, 0.0);
    for (int i = 0; i < n; ++i) prod[i * n + i] = 1.0;
    for (int l = 0; l < layers; ++l) {
      Vec next(n * n, 0.0);
      for (int i = 0; i < n; ++i)
        for (int k = 0; k < n; ++k)
          for (int j = 0; j < n; ++j) next[i * n + j] += h[l * n * n + i * n + k] * prod[k * n + j];
      prod = next;
    }
    const double composite = ref::doubly_stochastic_residual(n, 1, prod);
    // Row and column sums of a product drift at most additively per factor.
    EXPECT_LE(composite, layers * each + 1e-12) << "n=" << n;
    EXPECT_LE(composite, 1e-9) << "n=" << n;
    EXPECT_GE(*std::min_element(prod.begin(), prod.end()), 0.0);
    // Gain (max absolute row sum) stays ~1, unlike unconstrained HC (paper: ~3000 for HC at 27B).
    double gain = 0;
    for (int i = 0; i < n; ++i) {
      double rs = 0;
      for (int j = 0; j < n; ++j) rs += std::abs(prod[i * n + j]);
      gain = std::max(gain, rs);
    }
    EXPECT_NEAR(gain, 1.0, 1e-9);
  }
}
