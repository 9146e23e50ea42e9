// mhc-profile's sweep covers what the issue asks for: every n in {1,2,3,4,6,8}, several C and token
// counts, the GEMMs of the shipped models (fwd, input and weight gradients, bf16 and DeepSeek-V3's
// fp8, grouped expert GEMMs) and the layer's norms and elementwise ops, without duplicates.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "core/json_input.h"
#include "profile/profile.h"
#include "sweep_shapes.h"

namespace mhc {
namespace {

using namespace profiler;

TEST(ProfileSweep, MhcSweepCoversEveryExpansionRate) {
  MhcSweep s = mhc_sweep(false);
  EXPECT_EQ(s.n, (std::vector<int>{1, 2, 3, 4, 6, 8}));
  EXPECT_GE(s.C.size(), 3u);
  EXPECT_GE(s.tokens.size(), 3u) << "leave-one-out needs at least three token counts per (n, C)";
  EXPECT_EQ(s.sinkhorn_iters, 20);
}

TEST(ProfileSweep, GridFlagsReplaceOneAxisAndRejectBadValues) {
  const MhcSweep full = mhc_sweep(false);
  MhcSweep s = mhc_sweep_with(full, std::string("4,1,8"), std::nullopt, std::string("4096"));
  EXPECT_EQ(s.n, (std::vector<int>{4, 1, 8}));  // in the given order: the sweep runs n outermost
  EXPECT_EQ(s.C, full.C);
  EXPECT_EQ(s.tokens, (std::vector<int64_t>{4096}));
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--mhc-n", "0"}, {"--mhc-n", "9"}, {"--mhc-n", "2,x"}, {"--mhc-n", ""},
      {"--mhc-C", "2564,100"}, {"--mhc-C", "-8"}, {"--mhc-tokens", "1e3"}};
  for (const auto& [f, text] : bad) {
    auto opt = [&](const char* which) { return f == which ? std::optional<std::string>(text) : std::nullopt; };
    try {
      mhc_sweep_with(full, opt("--mhc-n"), opt("--mhc-C"), opt("--mhc-tokens"));
      ADD_FAILURE() << f << " " << text;
    } catch (const InputError& e) {
      EXPECT_EQ(e.path(), f) << text;
    }
  }
}

bool has_gemm(const std::vector<GemmSpec>& g, int64_t m, int64_t n, int64_t k, int64_t groups, DType dt) {
  for (const auto& x : g)
    if (x.m == m && x.n == n && x.k == k && x.groups == groups && x.dtype == dt) return true;
  return false;
}

TEST(ProfileSweep, GemmSweepHoldsTheModelsShapes) {
  auto g = gemm_sweep(false);
  std::set<std::tuple<int64_t, int64_t, int64_t, int64_t, DType>> unique;
  for (const auto& x : g) unique.insert({x.m, x.n, x.k, x.groups, x.dtype});
  EXPECT_EQ(unique.size(), g.size()) << "duplicates would be duplicate profile entries";
  // DeepSeek-V3 (C 7168, Q rank 1536, 128 heads x (128 + 64)): q_b forward in fp8 and bf16.
  EXPECT_TRUE(has_gemm(g, 4096, 128 * 192, 1536, 1, DType::fp8));
  EXPECT_TRUE(has_gemm(g, 4096, 128 * 192, 1536, 1, DType::bf16));
  // Dense FFN 18432 (SwiGLU gate + up) and its input gradient.
  EXPECT_TRUE(has_gemm(g, 16384, 2 * 18432, 7168, 1, DType::fp8));
  EXPECT_TRUE(has_gemm(g, 16384, 7168, 2 * 18432, 1, DType::fp8));
  // Paper 27B expert FFN 1536 as a grouped GEMM of 8 experts, and its weight gradient.
  EXPECT_TRUE(has_gemm(g, 1024, 2 * 1536, 2560, 8, DType::bf16));
  EXPECT_TRUE(has_gemm(g, 2560, 2 * 1536, 1024, 8, DType::bf16));
  // MLA KV down-projection (KV rank 512 + RoPE 64) for the 3B model; dense GPT 8192 FFN 4x.
  EXPECT_TRUE(has_gemm(g, 1024, 576, 1280, 1, DType::bf16));
  EXPECT_TRUE(has_gemm(g, 16384, 4 * 8192, 8192, 1, DType::bf16));
  // Every GEMM lies on a line of at least three shapes along m (forward, input gradient) or k
  // (weight gradient), so leave-one-out can interpolate it.
  std::map<std::tuple<int64_t, int64_t, int64_t, DType>, int> along_m, along_k;
  for (const auto& x : g) along_m[{x.n, x.k, x.groups, x.dtype}]++, along_k[{x.m, x.n, x.groups, x.dtype}]++;
  for (const auto& x : g)
    EXPECT_GE(std::max(along_m[{x.n, x.k, x.groups, x.dtype}], along_k[{x.m, x.n, x.groups, x.dtype}]), 3)
        << x.use << " m=" << x.m << " n=" << x.n << " k=" << x.k;
}

TEST(ProfileSweep, LayerSweepUsesKnownKernelIds) {
  auto l = layer_sweep(false);
  std::set<std::string> kernels;
  for (const auto& op : l) {
    EXPECT_TRUE(kernel_family(op.kernel).has_value()) << op.kernel;
    kernels.insert(op.kernel);
  }
  for (const char* k : {"rmsnorm_fwd", "rmsnorm_bwd", "swiglu_fwd", "swiglu_bwd", "rope_fwd", "rope_bwd", "add_fwd"})
    EXPECT_TRUE(kernels.count(k)) << k;
  EXPECT_LT(gemm_sweep(true).size(), gemm_sweep(false).size());
}

}  // namespace
}  // namespace mhc
