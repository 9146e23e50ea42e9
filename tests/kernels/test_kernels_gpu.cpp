// The CUDA mHC kernels against the double-precision CPU reference. Fresh random inputs per case (never
// zeros), outputs poisoned with NaN bytes before each launch, and two bounds per output: the relative
// error ||out - ref|| / ||ref|| within the tolerance of the output's precision (unit roundoff: fp32
// 6e-8, tf32 4.9e-4 (10-bit mantissa), bf16 3.9e-3 (8-bit), NVIDIA's TF32 and bfloat16 format
// definitions), and every single element within kElementFactor times that tolerance of its reference,
// measured against |ref_i| + rms(ref) (so one wrong element among 3e5 fails even when the L2 norm
// hides it). Shapes are not multiples of the tiles; n in {1,2,3,4,6,8}, the widths the profiler sweeps.
// Skips with a message when no CUDA device is present. Runs under compute-sanitizer as it is:
//   compute-sanitizer --tool memcheck build/tests/test_kernels_gpu
//   compute-sanitizer --tool racecheck build/tests/test_kernels_gpu
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernel_catalog.h"
#include "mhc_api.h"
#include "mhc_ref.h"

namespace k = mhc::kernels;
namespace ref = mhc::kernels::ref;
using ref::Vec;

namespace {

constexpr double kTolF32 = 1e-4;   // fp32 arithmetic end to end
constexpr double kTolTf32 = 2e-3;  // products on tf32 tensor cores
constexpr double kTolBf16 = 6e-3;  // bf16 outputs (one rounding ~1e-3 RMS) and bf16 after tf32

bool have_gpu(std::string& why) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    why = std::string("no usable CUDA device: ") + cudaGetErrorString(err);
    return false;
  }
  if (count == 0) {
    why = "no CUDA device";
    return false;
  }
  return true;
}

#define REQUIRE_GPU()                                     \
  do {                                                    \
    std::string why;                                      \
    if (!have_gpu(why)) GTEST_SKIP() << why << ": skipped"; \
  } while (0)

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

uint16_t to_bf16_bits(float f) {  // round to nearest even, as __float2bfloat16
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
double from_bf16_bits(uint16_t b) {
  const uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// A device buffer holding bf16 or fp32 values; host data round-trips through the device precision.
class Dev {
 public:
  Dev(size_t elems, bool bf16) : elems_(elems), bf16_(bf16) {
    check(cudaMalloc(&p_, std::max<size_t>(bytes(), 16)), "cudaMalloc");
    poison();
  }
  ~Dev() { cudaFree(p_); }
  Dev(const Dev&) = delete;
  size_t bytes() const { return elems_ * (bf16_ ? 2 : 4); }
  void poison() { check(cudaMemset(p_, 0xff, std::max<size_t>(bytes(), 16)), "cudaMemset"); }  // NaN in both types
  // Uploads v rounded to the buffer's precision and returns the rounded values the kernel sees.
  Vec upload(const Vec& v) {
    EXPECT_EQ(v.size(), elems_);
    Vec seen(v.size());
    if (bf16_) {
      std::vector<uint16_t> h(v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        h[i] = to_bf16_bits(float(v[i]));
        seen[i] = from_bf16_bits(h[i]);
      }
      check(cudaMemcpy(p_, h.data(), bytes(), cudaMemcpyHostToDevice), "upload");
    } else {
      std::vector<float> h(v.begin(), v.end());
      for (size_t i = 0; i < v.size(); ++i) seen[i] = h[i];
      check(cudaMemcpy(p_, h.data(), bytes(), cudaMemcpyHostToDevice), "upload");
    }
    return seen;
  }
  Vec download() const {
    check(cudaDeviceSynchronize(), "kernel");
    Vec out(elems_);
    if (bf16_) {
      std::vector<uint16_t> h(elems_);
      check(cudaMemcpy(h.data(), p_, bytes(), cudaMemcpyDeviceToHost), "download");
      for (size_t i = 0; i < elems_; ++i) out[i] = from_bf16_bits(h[i]);
    } else {
      std::vector<float> h(elems_);
      check(cudaMemcpy(h.data(), p_, bytes(), cudaMemcpyDeviceToHost), "download");
      for (size_t i = 0; i < elems_; ++i) out[i] = h[i];
    }
    return out;
  }
  k::bf16* b() const { return static_cast<k::bf16*>(p_); }
  float* f() const { return static_cast<float*>(p_); }

 private:
  void* p_ = nullptr;
  size_t elems_;
  bool bf16_;
};

double rel_error(const Vec& out, const Vec& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) return INFINITY;  // unwritten (poisoned) or broken
    num += (out[i] - want[i]) * (out[i] - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

// max_i |out_i - ref_i| / (|ref_i| + rms(ref)): a per-element bound that cancellation near zero
// cannot trip (the rms term) and that one stray element cannot hide from (the max).
double max_element_error(const Vec& out, const Vec& want) {
  double ss = 0;
  for (double w : want) ss += w * w;
  const double rms = std::sqrt(ss / std::max<size_t>(want.size(), 1));
  double worst = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) return INFINITY;
    worst = std::max(worst, std::abs(out[i] - want[i]) / (std::abs(want[i]) + rms + 1e-300));
  }
  return worst;
}

// The L2 tolerances hold the typical error; the largest of ~3e5 roughly normal element errors sits
// near 4.5 standard deviations, hence the margin.
constexpr double kElementFactor = 8.0;

void expect_close(const Vec& out, const Vec& want, double tol, const std::string& what) {
  EXPECT_LE(rel_error(out, want), tol) << what;
  EXPECT_LE(max_element_error(out, want), kElementFactor * tol) << what << " (worst element)";
}

#define EXPECT_CLOSE(dev, want, tol, what) expect_close((dev).download(), (want), (tol), std::string(what) + " " + label)

struct Shape {
  int n;
  int64_t C, T;
};
// Not multiples of the tiles: T vs 128/64/4-token tiles, n*C vs the 32/64-wide k slices; one larger
// case per n exercises split-K.
std::vector<Shape> shapes() {
  std::vector<Shape> s;
  for (int n : {1, 2, 3, 4, 6, 8}) {
    s.push_back({n, 200, 300});
    s.push_back({n, 1280, 257});
  }
  return s;
}

Vec rnd(std::mt19937_64& g, size_t size, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  Vec v(size);
  for (auto& e : v) e = u(g);
  return v;
}

std::string name(const Shape& s) {
  return "n=" + std::to_string(s.n) + " C=" + std::to_string(s.C) + " T=" + std::to_string(s.T);
}

}  // namespace

TEST(KernelsGpu, HostChecksRejectBadSizes) {
  EXPECT_THROW(k::check_size({4, 100, 10}), std::invalid_argument);  // C not a multiple of 8
  EXPECT_THROW(k::check_size({9, 256, 10}), std::invalid_argument);
  EXPECT_THROW(k::check_size({0, 256, 10}), std::invalid_argument);
  EXPECT_NO_THROW(k::check_size({8, 7168, 16384}));
}

TEST(KernelsGpu, FusedForwardMatchesReference) {
  REQUIRE_GPU();
  uint64_t seed = 1;
  for (const Shape& sh : shapes()) {
    const std::string label = name(sh);
    std::mt19937_64 g(seed++ * 7919);
    const k::MhcSize s{sh.n, sh.C, sh.T};
    const ref::Dims d{sh.n, sh.C, sh.T};
    const int n = sh.n, m = s.m();
    Dev x(d.T * d.nC(), true), phi(d.nC() * m, false), proj(d.T * (m + 1), false), a(3, false), b(m, false);
    Dev coef(d.T * m, false), hres(d.T * n * n, false), u(d.T * d.C, true), f(d.T * d.C, true), y(d.T * d.nC(), true);
    const Vec xv = x.upload(rnd(g, d.T * d.nC(), -1, 1));
    const Vec phiv = phi.upload(rnd(g, d.nC() * m, -1, 1));
    const Vec av = a.upload(rnd(g, 3, 0.2, 1.0));
    const Vec bv = b.upload(rnd(g, m, -1, 1));
    const Vec fv = f.upload(rnd(g, d.T * d.C, -1, 1));

    k::norm_proj_fwd(s, x.b(), phi.f(), proj.f(), nullptr);
    const Vec proj_ref = ref::norm_proj_fwd(d, xv, phiv);
    EXPECT_CLOSE(proj, proj_ref, kTolTf32, "norm_proj_fwd");

    // mix on the reference projection (fp32 alone), then Sinkhorn and the stream ops on its output
    const Vec projv = proj.upload(proj_ref);
    k::mix_fwd(s, proj.f(), a.f(), b.f(), coef.f(), nullptr);
    const Vec coef_ref = ref::mix_fwd(d, projv, av, bv);
    EXPECT_CLOSE(coef, coef_ref, kTolF32, "mix_fwd");

    // logits in [-2, 2] read in place from a [T, m] buffer (ld = m)
    Vec coef_in = rnd(g, d.T * m, 0, 1);
    for (int64_t t = 0; t < d.T; ++t)
      for (int q = 2 * n; q < m; ++q) coef_in[t * m + q] = 4 * coef_in[t * m + q] - 2;
    const Vec coefv = coef.upload(coef_in);
    k::sinkhorn_fwd(n, s.T, coef.f() + 2 * n, m, hres.f(), 20, nullptr);
    const Vec hres_ref = ref::sinkhorn_fwd(n, d.T, ref::columns(coefv, d.T, m, 2 * n, n * n), 20);
    EXPECT_CLOSE(hres, hres_ref, kTolF32, "sinkhorn_fwd");

    k::pre_apply_fwd(s, x.b(), coef.f(), m, u.b(), nullptr);
    EXPECT_CLOSE(u, ref::pre_apply_fwd(d, xv, ref::columns(coefv, d.T, m, 0, n)), kTolBf16, "pre_apply_fwd");

    const Vec hresv = hres.upload(hres_ref);
    k::post_res_fwd(s, x.b(), f.b(), hres.f(), coef.f() + n, m, y.b(), nullptr);
    EXPECT_CLOSE(y, ref::post_res_fwd(d, xv, fv, hresv, ref::columns(coefv, d.T, m, n, n)), kTolBf16,
                 "post_res_fwd");
  }
}

TEST(KernelsGpu, UnfusedForwardMatchesReference) {
  REQUIRE_GPU();
  uint64_t seed = 100;
  for (const Shape& sh : shapes()) {
    const std::string label = name(sh);
    std::mt19937_64 g(seed++ * 7919);
    const k::MhcSize s{sh.n, sh.C, sh.T};
    const ref::Dims d{sh.n, sh.C, sh.T};
    const int n = sh.n, m = s.m();
    Dev x(d.T * d.nC(), true), phi(d.nC() * m, false), a(3, false), b(m, false), coef(d.T * m, false);
    Dev f(d.T * d.C, true), hpost(d.T * n, false), hres(d.T * n * n, false), y(d.T * d.nC(), true);
    Dev q(d.T * d.nC(), true), out(d.T * d.nC(), true);
    const Vec xv = x.upload(rnd(g, d.T * d.nC(), -1, 1));
    const Vec phiv = phi.upload(rnd(g, d.nC() * m, -1, 1));
    const Vec av = a.upload(rnd(g, 3, 0.2, 1.0));
    const Vec bv = b.upload(rnd(g, m, -1, 1));
    const Vec fv = f.upload(rnd(g, d.T * d.C, -1, 1));
    const Vec hpostv = hpost.upload(rnd(g, d.T * n, 0, 2));
    const Vec hresv = hres.upload(rnd(g, d.T * n * n, 0, 1));
    const Vec qv = q.upload(rnd(g, d.T * d.nC(), -1, 1));

    k::compute_h_fwd(s, x.b(), phi.f(), a.f(), b.f(), coef.f(), nullptr);
    EXPECT_CLOSE(coef, ref::compute_h_fwd(d, xv, phiv, av, bv), kTolTf32, "compute_h_fwd");
    k::apply_post_fwd(s, f.b(), hpost.f(), n, y.b(), nullptr);
    EXPECT_CLOSE(y, ref::apply_post_fwd(d, fv, hpostv), kTolBf16, "apply_post_fwd");
    y.poison();
    k::apply_res_fwd(s, x.b(), hres.f(), y.b(), nullptr);
    EXPECT_CLOSE(y, ref::apply_res_fwd(d, xv, hresv), kTolBf16, "apply_res_fwd");
    k::merge_fwd(d.T * d.nC(), x.b(), q.b(), out.b(), nullptr);
    EXPECT_CLOSE(out, ref::merge_fwd(xv, qv), kTolBf16, "merge_fwd");
  }
}

TEST(KernelsGpu, FusedBackwardMatchesReference) {
  REQUIRE_GPU();
  uint64_t seed = 200;
  for (const Shape& sh : shapes()) {
    const std::string label = name(sh);
    std::mt19937_64 g(seed++ * 7919);
    const k::MhcSize s{sh.n, sh.C, sh.T};
    const ref::Dims d{sh.n, sh.C, sh.T};
    const int n = sh.n, m = s.m();
    Dev x(d.T * d.nC(), true), f(d.T * d.C, true), dy(d.T * d.nC(), true), du(d.T * d.C, true);
    Dev hres(d.T * n * n, false), coef(d.T * m, false), dcoef(d.T * m, false);
    Dev dx(d.T * d.nC(), true), df(d.T * d.C, true), dhres(d.T * n * n, false), dlog(d.T * n * n, false);
    Dev phi(d.nC() * m, false), proj(d.T * (m + 1), false), dproj(d.T * (m + 1), false), a(3, false), b(m, false);
    Dev da(3, false), db(m, false), dphi(d.nC() * m, false), dx2(d.T * d.nC(), true);
    const Vec xv = x.upload(rnd(g, d.T * d.nC(), -1, 1));
    const Vec fv = f.upload(rnd(g, d.T * d.C, -1, 1));
    const Vec dyv = dy.upload(rnd(g, d.T * d.nC(), -1, 1));
    const Vec duv = du.upload(rnd(g, d.T * d.C, -1, 1));
    const Vec hresv = hres.upload(rnd(g, d.T * n * n, 0, 1));
    const Vec coefv = coef.upload(rnd(g, d.T * m, 0.1, 1.9));  // H_pre, H_post in range; logits
    const Vec phiv = phi.upload(rnd(g, d.nC() * m, -1, 1));
    const Vec av = a.upload(rnd(g, 3, 0.2, 1.0));
    const Vec bv = b.upload(rnd(g, m, -1, 1));
    const Vec projv = proj.upload(ref::norm_proj_fwd(d, xv, phiv));
    const Vec hpre = ref::columns(coefv, d.T, m, 0, n), hpost = ref::columns(coefv, d.T, m, n, n);

    // post_res: dH_post lands in dcoef[:, n:2n] (ld = m), as the fused backward chains it
    k::post_res_bwd(s, dy.b(), x.b(), f.b(), hres.f(), coef.f() + n, m, dx.b(), df.b(), dhres.f(), dcoef.f() + n, m,
                    nullptr);
    const ref::PostResGrads pr = ref::post_res_bwd(d, dyv, xv, fv, hresv, hpost);
    EXPECT_CLOSE(dx, pr.dx, kTolBf16, "post_res_bwd dx");
    EXPECT_CLOSE(df, pr.df, kTolBf16, "post_res_bwd df");
    EXPECT_CLOSE(dhres, pr.dhres, kTolF32, "post_res_bwd dhres");
    expect_close(ref::columns(dcoef.download(), d.T, m, n, n), pr.dhpost, kTolF32, "dhpost " + label);

    k::pre_apply_bwd(s, du.b(), x.b(), dcoef.f(), m, nullptr);
    expect_close(ref::columns(dcoef.download(), d.T, m, 0, n), ref::pre_apply_bwd(d, duv, xv), kTolF32,
                 "pre_apply_bwd " + label);

    // Sinkhorn backward on logits in [-2, 2], 20 iterations, writing into dcoef[:, 2n:]
    Vec logits = rnd(g, d.T * n * n, -2, 2);
    Dev lg(d.T * n * n, false);
    const Vec lgv = lg.upload(logits);
    const Vec dhv = dhres.upload(rnd(g, d.T * n * n, -1, 1));
    k::sinkhorn_bwd(n, s.T, lg.f(), n * n, dhres.f(), dcoef.f() + 2 * n, m, 20, nullptr);
    expect_close(ref::columns(dcoef.download(), d.T, m, 2 * n, n * n), ref::sinkhorn_bwd(n, d.T, lgv, dhv, 20), 1e-3,
                 "sinkhorn_bwd " + label);

    // mix backward on fresh upstream gradients
    const Vec dcv = dcoef.upload(rnd(g, d.T * m, -1, 1));
    k::mix_bwd(s, proj.f(), a.f(), b.f(), dcoef.f(), dproj.f(), da.f(), db.f(), nullptr);
    const ref::MixGrads mg = ref::mix_bwd(d, projv, av, bv, dcv);
    EXPECT_CLOSE(dproj, mg.dproj, kTolF32, "mix_bwd dproj");
    EXPECT_CLOSE(da, mg.da, kTolF32, "mix_bwd da");
    EXPECT_CLOSE(db, mg.db, kTolF32, "mix_bwd db");

    // norm-proj backward, with dx_in (aliased to dx) and the pre-apply term
    Vec dproj_in = rnd(g, d.T * (m + 1), -1, 1);
    const Vec dpv = dproj.upload(dproj_in);
    const Vec dxin = dx.upload(rnd(g, d.T * d.nC(), -1, 1));
    k::norm_proj_bwd(s, x.b(), phi.f(), dproj.f(), dx.b(), du.b(), coef.f(), m, dx.b(), dphi.f(), nullptr);
    const ref::NormProjGrads ng = ref::norm_proj_bwd(d, xv, phiv, dpv, dxin, duv, hpre);
    EXPECT_CLOSE(dx, ng.dx, kTolBf16, "norm_proj_bwd dx");
    EXPECT_CLOSE(dphi, ng.dphi, kTolTf32, "norm_proj_bwd dphi");
    // and without the optional terms
    dphi.poison();
    k::norm_proj_bwd(s, x.b(), phi.f(), dproj.f(), nullptr, nullptr, nullptr, 0, dx2.b(), dphi.f(), nullptr);
    const ref::NormProjGrads ng2 = ref::norm_proj_bwd(d, xv, phiv, dpv, {}, {}, {});
    EXPECT_CLOSE(dx2, ng2.dx, kTolBf16, "norm_proj_bwd plain dx");
    EXPECT_CLOSE(dphi, ng2.dphi, kTolTf32, "norm_proj_bwd plain dphi");
  }
}

TEST(KernelsGpu, UnfusedBackwardMatchesReference) {
  REQUIRE_GPU();
  uint64_t seed = 300;
  for (const Shape& sh : shapes()) {
    const std::string label = name(sh);
    std::mt19937_64 g(seed++ * 7919);
    const k::MhcSize s{sh.n, sh.C, sh.T};
    const ref::Dims d{sh.n, sh.C, sh.T};
    const int n = sh.n, m = s.m();
    Dev x(d.T * d.nC(), true), f(d.T * d.C, true), dy(d.T * d.nC(), true), du(d.T * d.C, true);
    Dev hpre(d.T * n, false), hpost(d.T * n, false), hres(d.T * n * n, false);
    Dev dx(d.T * d.nC(), true), df(d.T * d.C, true), dh(d.T * n, false), dhres(d.T * n * n, false);
    Dev phi(d.nC() * m, false), proj(d.T * (m + 1), false), a(3, false), b(m, false), dcoef(d.T * m, false);
    Dev work(d.T * (m + 1), false), dphi(d.nC() * m, false), da(3, false), db(m, false);
    const Vec xv = x.upload(rnd(g, d.T * d.nC(), -1, 1));
    const Vec fv = f.upload(rnd(g, d.T * d.C, -1, 1));
    const Vec dyv = dy.upload(rnd(g, d.T * d.nC(), -1, 1));
    const Vec duv = du.upload(rnd(g, d.T * d.C, -1, 1));
    const Vec hprev = hpre.upload(rnd(g, d.T * n, 0, 1));
    const Vec hpostv = hpost.upload(rnd(g, d.T * n, 0, 2));
    const Vec hresv = hres.upload(rnd(g, d.T * n * n, 0, 1));
    const Vec phiv = phi.upload(rnd(g, d.nC() * m, -1, 1));
    const Vec av = a.upload(rnd(g, 3, 0.2, 1.0));
    const Vec bv = b.upload(rnd(g, m, -1, 1));
    const Vec dcv = dcoef.upload(rnd(g, d.T * m, -1, 1));
    proj.upload(ref::norm_proj_fwd(d, xv, phiv));

    k::apply_pre_bwd(s, du.b(), x.b(), hpre.f(), n, dx.b(), dh.f(), n, nullptr);
    const ref::ApplyPreGrads ap = ref::apply_pre_bwd(d, duv, xv, hprev);
    EXPECT_CLOSE(dx, ap.dx, kTolBf16, "apply_pre_bwd dx");
    EXPECT_CLOSE(dh, ap.dhpre, kTolF32, "apply_pre_bwd dhpre");
    dh.poison();
    k::apply_post_bwd(s, dy.b(), f.b(), hpost.f(), n, df.b(), dh.f(), n, nullptr);
    const ref::ApplyPostGrads pp = ref::apply_post_bwd(d, dyv, fv, hpostv);
    EXPECT_CLOSE(df, pp.df, kTolBf16, "apply_post_bwd df");
    EXPECT_CLOSE(dh, pp.dhpost, kTolF32, "apply_post_bwd dhpost");
    dx.poison();
    k::apply_res_bwd(s, dy.b(), x.b(), hres.f(), dx.b(), dhres.f(), nullptr);
    const ref::ApplyResGrads rr = ref::apply_res_bwd(d, dyv, xv, hresv);
    EXPECT_CLOSE(dx, rr.dx, kTolBf16, "apply_res_bwd dx");
    EXPECT_CLOSE(dhres, rr.dhres, kTolF32, "apply_res_bwd dhres");
    dx.poison();
    k::compute_h_bwd(s, x.b(), phi.f(), proj.f(), a.f(), b.f(), dcoef.f(), work.f(), dx.b(), dphi.f(), da.f(), db.f(),
                     nullptr);
    const ref::ComputeHGrads ch = ref::compute_h_bwd(d, xv, phiv, av, bv, dcv);
    EXPECT_CLOSE(dx, ch.dx, kTolBf16, "compute_h_bwd dx");
    EXPECT_CLOSE(dphi, ch.dphi, kTolTf32, "compute_h_bwd dphi");
    EXPECT_CLOSE(da, ch.da, kTolTf32, "compute_h_bwd da");
    EXPECT_CLOSE(db, ch.db, kTolTf32, "compute_h_bwd db");
  }
}

TEST(KernelsGpu, SinkhornOutputIsDoublyStochasticOnDevice) {
  REQUIRE_GPU();
  for (int n : {1, 2, 3, 4, 6, 8}) {
    std::mt19937_64 g(900 + n);
    const int64_t T = 1000;
    Dev lg(T * n * n, false), h(T * n * n, false);
    lg.upload(rnd(g, T * n * n, -1, 1));
    k::sinkhorn_fwd(n, T, lg.f(), n * n, h.f(), 20, nullptr);
    EXPECT_LE(ref::doubly_stochastic_residual(n, T, h.download()), 1e-5) << "n=" << n;
  }
}

TEST(KernelsGpu, CatalogInstancesLaunch) {
  REQUIRE_GPU();
  const k::KernelShape shape{4, 264, 100, 20};
  ASSERT_EQ(k::kernel_catalog().size(), 22u);
  for (const k::KernelInfo& info : k::kernel_catalog()) {
    auto inst = k::make_kernel_instance(info.id, shape, 5, 2);
    inst->launch(nullptr);
    inst->rotate();
    inst->launch(nullptr);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess) << info.id;
    EXPECT_GT(inst->min_read_bytes(), 0) << info.id;
    EXPECT_GT(inst->min_write_bytes(), 0) << info.id;
  }
  // Bytes follow the buffers: post-res reads (n+1)C bf16 + n^2 + n fp32 and writes nC bf16 per token.
  auto pr = k::make_kernel_instance("mhc_fused.post_res_fwd", shape, 1, 1);
  EXPECT_DOUBLE_EQ(pr->min_read_bytes(), 100.0 * (5 * 264 * 2 + (16 + 4) * 4));
  EXPECT_DOUBLE_EQ(pr->min_write_bytes(), 100.0 * 4 * 264 * 2);
  EXPECT_THROW(k::make_kernel_instance("mhc_fused.nope", shape, 1, 1), std::invalid_argument);
}
