// CostModel on small synthetic profiles: exact hits, interpolation exact on linear data, the choice
// between a GEMM's m and k lines, efficiency scaling, and the roofline equal to its closed form.
#include <gtest/gtest.h>

#include <algorithm>

#include "cost/cost.h"
#include "support/test_profile_support.h"

namespace mhc {
namespace {

using nlohmann::json;
using testing::gemm_entry;
using testing::mhc_entry;

// Fused post_res per token (bf16 stream, fp32 coefficients): reads (n+1)C + n^2+n, writes nC.
Op post_res_op(int n, int64_t C) {
  Op op;
  op.name = "mhc.post_res";
  op.kernel = "mhc_fused.post_res_fwd";
  op.kind = OpKind::mhc;
  op.n = n;
  op.C = C;
  op.read_bytes = 2.0 * (n + 1) * C + 4.0 * (n * n + n);
  op.write_bytes = 2.0 * n * C;
  return op;
}

// Linear data: t = a + b * tokens for post_res at n=4, C=2560.
constexpr double kA = 4e-6, kB = 4e-8;  // 4e-8 s/token: ~58% of the 2 TB/s copy rate

CostModel linear_mhc_model() {
  json doc = testing::measured_profile_json();
  Op op = post_res_op(4, 2560);
  for (int64_t t : {1024, 4096, 16384})
    doc["kernels"].push_back(mhc_entry(op.kernel, 4, 2560, t, kA + kB * t, op.read_bytes * t, op.write_bytes * t));
  return CostModel(testing::load_json_profile(doc, "linear_mhc.json"));
}

TEST(CostLookup, DirectHitIsExactAndNamesTheEntry) {
  CostModel model = linear_mhc_model();
  PricedOp p = model.price(post_res_op(4, 2560), 4096);
  EXPECT_EQ(p.method, PriceMethod::measured);
  EXPECT_DOUBLE_EQ(p.seconds, kA + kB * 4096);
  EXPECT_NE(p.source.find("/kernels/1"), std::string::npos) << p.source;
  EXPECT_NE(p.source.find("linear_mhc.json"), std::string::npos) << p.source;
}

TEST(CostLookup, InterpolationInTokensIsExactOnLinearData) {
  CostModel model = linear_mhc_model();
  for (double t : {2048.0, 3000.0, 8192.0, 12000.0}) {
    PricedOp p = model.price(post_res_op(4, 2560), t);
    EXPECT_EQ(p.method, PriceMethod::interpolated);
    EXPECT_NEAR(p.seconds, kA + kB * t, 1e-12) << t;
    EXPECT_NE(p.source.find("interpolated linearly in tokens"), std::string::npos) << p.source;
  }
  // Beyond the measured range: the line through the two nearest entries.
  for (double t : {65536.0, 256.0}) {
    PricedOp p = model.price(post_res_op(4, 2560), t);
    EXPECT_NEAR(p.seconds, kA + kB * t, 1e-12) << t;
    EXPECT_NE(p.source.find("extrapolated linearly in tokens"), std::string::npos) << p.source;
  }
}

TEST(CostLookup, ExtrapolationNeverBeatsTheRoofline) {
  json doc = testing::measured_profile_json();
  Op op = post_res_op(4, 2560);
  // Two points whose line falls below the bandwidth floor when extended upward.
  const double floor_per_token = (op.read_bytes + op.write_bytes) / 2.0e12;
  doc["kernels"].push_back(mhc_entry(op.kernel, 4, 2560, 1000, 1000 * floor_per_token * 1.5, op.read_bytes * 1000,
                                     op.write_bytes * 1000));
  doc["kernels"].push_back(mhc_entry(op.kernel, 4, 2560, 2000, 2000 * floor_per_token * 1.01, op.read_bytes * 2000,
                                     op.write_bytes * 2000));
  CostModel model(testing::load_json_profile(doc, "floor_extrapolated.json"));
  PricedOp p = model.price(op, 100000);
  EXPECT_DOUBLE_EQ(p.seconds, 100000 * floor_per_token);
  EXPECT_NE(p.source.find("roofline floor"), std::string::npos) << p.source;
}

TEST(CostLookup, InterpolationNeverBeatsTheRoofline) {
  json doc = testing::measured_profile_json();
  Op op = post_res_op(4, 2560);
  // Two measurements whose straight line dips below the bandwidth floor in between: a concave
  // dataset (noise); the price is never faster than the copy bandwidth allows.
  const double floor_per_token = (op.read_bytes + op.write_bytes) / 2.0e12;
  doc["kernels"].push_back(mhc_entry(op.kernel, 4, 2560, 1000, 1000 * floor_per_token * 0.5, op.read_bytes * 1000,
                                     op.write_bytes * 1000));
  doc["kernels"].push_back(mhc_entry(op.kernel, 4, 2560, 3000, 3000 * floor_per_token * 1.01, op.read_bytes * 3000,
                                     op.write_bytes * 3000));
  CostModel model(testing::load_json_profile(doc, "floor.json"));
  PricedOp p = model.price(op, 1500);
  EXPECT_DOUBLE_EQ(p.seconds, 1500 * floor_per_token);
  EXPECT_NE(p.source.find("roofline floor"), std::string::npos) << p.source;
}

TEST(CostLookup, GemmInterpolationInRowsIsExactOnLinearData) {
  json doc = testing::measured_profile_json();
  const double a = 6e-6, b = 1e-7;  // t = a + b * m (59% of the 5e14 bf16 peak) at n = 2048, k = 7168
  for (int64_t m : {512, 2048, 8192}) doc["kernels"].push_back(gemm_entry(m, 2048, 7168, 1, "bf16", a + b * m));
  doc["kernels"].push_back(gemm_entry(2048, 2048, 7168, 1, "fp8", 1.0));  // other dtype: not on the line
  CostModel model(testing::load_json_profile(doc, "linear_gemm.json"));
  Op op;
  op.kernel = "gemm";
  op.kind = OpKind::gemm;
  op.gemm = GemmShape{0.25, 2048, 7168, 1, DType::bf16};
  op.read_bytes = 2.0 * 0.25 * 7168;
  op.write_bytes = 2.0 * 0.25 * 2048;
  op.flops = 2.0 * 0.25 * 2048 * 7168;
  PricedOp p = model.price(op, 16384);  // m = 4096
  EXPECT_EQ(p.method, PriceMethod::interpolated);
  EXPECT_NEAR(p.seconds, a + b * 4096, 1e-12);
  EXPECT_NE(p.source.find("rows m"), std::string::npos) << p.source;
  PricedOp hit = model.price(op, 8192);  // m = 2048
  EXPECT_EQ(hit.method, PriceMethod::measured);
  EXPECT_DOUBLE_EQ(hit.seconds, a + b * 2048);
}

TEST(CostLookup, WeightGradientGemmsInterpolateAlongTheReduction) {
  json doc = testing::measured_profile_json();
  const double a = 5e-6, b = 2.5e-7;  // dW[2560 x 3072] = X^T dY: t = a + b * k, k = tokens
  for (int64_t k : {1024, 4096, 16384}) doc["kernels"].push_back(gemm_entry(2560, 3072, k, 1, "bf16", a + b * k));
  CostModel model(testing::load_json_profile(doc, "wgrad.json"));
  PriceQuery q;
  q.kernel = "gemm";
  q.family = KernelFamily::gemm;
  q.shape.m = 2560;
  q.shape.gemm_n = 3072;
  q.shape.k = 8192;
  q.flops = 2.0 * 2560 * 3072 * 8192;
  q.compute_dtype = DType::bf16;
  PricedOp p = model.price(q);
  EXPECT_EQ(p.method, PriceMethod::interpolated);
  EXPECT_NEAR(p.seconds, a + b * 8192, 1e-12);
  EXPECT_NE(p.source.find("reduction k"), std::string::npos) << p.source;
}

// A bf16 GEMM query with the model bytes and FLOPs of testing::gemm_entry.
PriceQuery gemm_query(int64_t m, int64_t n, int64_t k) {
  PriceQuery q;
  q.kernel = "gemm";
  q.family = KernelFamily::gemm;
  q.shape.m = m;
  q.shape.gemm_n = n;
  q.shape.k = k;
  q.shape.groups = 1;
  q.shape.dtype = DType::bf16;
  q.bytes = 2.0 * (m * k + k * n + m * n);
  q.flops = 2.0 * m * n * k;
  q.compute_dtype = DType::bf16;
  return q;
}

// Two lines through (m, k) = (4096, 4096) at n = 512 that disagree, as an algorithm switch makes them:
// t = 50 us + 15 ns * m along the m line (k = 4096), t = 80 us + 12 ns * k along the k line (m = 4096),
// all above the roofline floor (34 us at the query).
double m_line(double m) { return 5e-5 + 1.5e-8 * m; }
double k_line(double k) { return 8e-5 + 1.2e-8 * k; }

PricedOp price_between_lines(std::initializer_list<int64_t> ms, std::initializer_list<int64_t> ks) {
  json doc = testing::measured_profile_json();
  for (int64_t m : ms) doc["kernels"].push_back(gemm_entry(m, 512, 4096, 1, "bf16", m_line(m)));
  for (int64_t k : ks) doc["kernels"].push_back(gemm_entry(4096, 512, k, 1, "bf16", k_line(k)));
  return CostModel(testing::load_json_profile(doc, "two_lines.json")).price(gemm_query(4096, 512, 4096));
}

TEST(CostLookup, GemmOnTwoLinesIsPricedFromTheLineMeasuredClosestToIt) {
  // k bracketed within 4x, m within 16x: the k line prices it.
  PricedOp p = price_between_lines({1024, 16384}, {2048, 8192});
  EXPECT_EQ(p.method, PriceMethod::interpolated);
  EXPECT_NEAR(p.seconds, k_line(4096), 1e-15);
  EXPECT_NE(p.source.find("interpolated linearly in reduction k"), std::string::npos) << p.source;
  EXPECT_NE(p.source.find("closest of 2 measured lines"), std::string::npos) << p.source;
  // The other way round: the m line.
  p = price_between_lines({2048, 8192}, {1024, 16384});
  EXPECT_NEAR(p.seconds, m_line(4096), 1e-15);
  EXPECT_NE(p.source.find("rows m"), std::string::npos) << p.source;
  // Equally close: m, the first scaling axis.
  p = price_between_lines({2048, 8192}, {2048, 8192});
  EXPECT_NEAR(p.seconds, m_line(4096), 1e-15);
}

TEST(CostLookup, GemmLineThatBracketsBeatsACloserExtrapolation) {
  // The m entries lie within 1.25x of the query but both above it; the k line brackets it within 16x.
  PricedOp p = price_between_lines({4608, 5120}, {1024, 16384});
  EXPECT_NEAR(p.seconds, k_line(4096), 1e-15);
  EXPECT_NE(p.source.find("interpolated linearly in reduction k"), std::string::npos) << p.source;
}

TEST(CostLookup, GemmBeyondBothLinesExtrapolatesFromTheNearerOne) {
  // m entries 2x and 4x above the query, k entries 2x and 1.33x below it: the k line is nearer.
  PricedOp p = price_between_lines({8192, 16384}, {2048, 3072});
  EXPECT_NEAR(p.seconds, k_line(4096), 1e-15);
  EXPECT_NE(p.source.find("extrapolated linearly in reduction k"), std::string::npos) << p.source;
  p = price_between_lines({1024, 2048}, {8192, 32768});  // m 2x and 4x below, k 2x and 8x above
  EXPECT_NEAR(p.seconds, m_line(4096), 1e-15);
  EXPECT_NE(p.source.find("extrapolated linearly in rows m"), std::string::npos) << p.source;
}

TEST(CostLookup, LeaveOneOutOnAGemmGridOfConstantEfficiencyPlusLaunchIsExact) {
  // t = 5 us + FLOPs at 80% of the bf16 peak on an m x k grid (compute bound throughout): every
  // line is affine, so each entry, interior or at an end, is priced back exactly without itself.
  json doc = testing::measured_profile_json();
  const int64_t n = 2048;
  auto seconds = [&](int64_t m, int64_t k) { return 5e-6 + 2.0 * m * n * k / (0.8 * 5.0e14); };
  for (int64_t m : {1024, 2048, 4096, 8192})
    for (int64_t k : {1024, 3072, 7168}) doc["kernels"].push_back(gemm_entry(m, n, k, 1, "bf16", seconds(m, k)));
  auto results = leave_one_out(testing::load_json_profile(doc, "gemm_grid.json"));
  ASSERT_EQ(results.size(), 12u);
  size_t interior = 0;
  for (const auto& r : results) {
    EXPECT_EQ(r.predicted.method, PriceMethod::interpolated);
    EXPECT_NEAR(r.relative_error(), 0.0, 1e-12) << r.entry->label() << " via " << r.predicted.source;
    interior += r.interior;
  }
  EXPECT_EQ(interior, 8u);  // all but the four corners
}

TEST(CostLookup, OtherShapesScaleTheRooflineByTheNearestEntrysEfficiency) {
  json doc = testing::measured_profile_json();
  Op measured = post_res_op(4, 2560);
  const int64_t t = 16384;
  const double bytes = (measured.read_bytes + measured.write_bytes) * t;
  const double seconds = 2.5 * bytes / 2.0e12;  // 40% of copy bandwidth
  doc["kernels"].push_back(mhc_entry(measured.kernel, 4, 2560, t, seconds, measured.read_bytes * t,
                                     measured.write_bytes * t));
  CostModel model(testing::load_json_profile(doc, "scale.json"));
  Op wider = post_res_op(6, 7168);
  PricedOp p = model.price(wider, 8192);
  EXPECT_EQ(p.method, PriceMethod::interpolated);
  EXPECT_NEAR(p.seconds, 2.5 * (wider.read_bytes + wider.write_bytes) * 8192 / 2.0e12, 1e-15);
  EXPECT_NE(p.source.find("nearest entry"), std::string::npos) << p.source;
}

TEST(CostLookup, RooflineOnTheReferenceProfileIsTheClosedForm) {
  CostModel model(load_profile(std::string(MHC_SOURCE_DIR) + "/profiles/h100-sxm-reference.json"));
  EXPECT_DOUBLE_EQ(model.copy_bandwidth_Bps(), 3.0e12);
  EXPECT_DOUBLE_EQ(model.peak_flops(DType::bf16), 690e12);
  EXPECT_DOUBLE_EQ(model.peak_flops(DType::fp32), 0.0);  // no CUDA-core ceiling in the reference
  // Memory bound: post_res at n = 4, C = 2560, 16384 tokens, with no entry: its bytes at the copy
  // bandwidth (the "bandwidth" method), which is also its roofline.
  Op op = post_res_op(4, 2560);
  PricedOp p = model.price(op, 16384);
  EXPECT_EQ(p.method, PriceMethod::bandwidth);
  EXPECT_DOUBLE_EQ(p.seconds, (op.read_bytes + op.write_bytes) * 16384 / 3.0e12);
  EXPECT_NE(p.source.find("copy bandwidth"), std::string::npos) << p.source;
  EXPECT_NE(p.source.find("no launch overhead"), std::string::npos) << p.source;
  PricedOp r = model.roofline(query_for_op(op, 16384));
  EXPECT_DOUBLE_EQ(r.seconds, p.seconds);
  EXPECT_NE(r.source.find("memory bound"), std::string::npos) << r.source;
  // Compute bound: an 8192^3 GEMM in bf16 and fp8.
  for (DType dt : {DType::bf16, DType::fp8}) {
    Op g;
    g.kernel = "gemm";
    g.kind = OpKind::gemm;
    g.gemm = GemmShape{1.0, 8192, 8192, 1, dt};
    g.read_bytes = dtype_bytes(dt) * (8192 + 8192);
    g.write_bytes = 2.0 * 8192;
    g.flops = 2.0 * 8192 * 8192;
    PricedOp r = model.price(g, 8192);
    EXPECT_EQ(r.method, PriceMethod::roofline);
    EXPECT_DOUBLE_EQ(r.seconds, 2.0 * 8192.0 * 8192 * 8192 / model.peak_flops(dt));
    EXPECT_NE(r.source.find("compute bound"), std::string::npos) << r.source;
  }
}

TEST(CostLookup, RooflineAddsOnlyAMeasuredLaunchOverhead) {
  json doc = testing::measured_profile_json();
  doc["ceilings"]["launch_overhead_s"] = {{"value", 3e-6}, {"source", "empty kernel"}};
  CostModel model(testing::load_json_profile(doc, "launch.json"));
  Op op;
  op.kernel = "rmsnorm_fwd";
  op.kind = OpKind::norm;
  op.C = 4096;
  op.read_bytes = 2.0 * 4096;
  op.write_bytes = 2.0 * 4096;
  op.flops = 4.0 * 4096;
  PricedOp p = model.roofline(query_for_op(op, 1000));
  EXPECT_DOUBLE_EQ(p.seconds, 4.0 * 4096 * 1000 / 2.0e12 + 3e-6);
  EXPECT_NE(p.source.find("no fp32 peak"), std::string::npos) << p.source;
  EXPECT_NE(p.source.find("measured launch overhead"), std::string::npos) << p.source;
  // Priced without an entry, the norm moves its bytes at the copy bandwidth plus the same launch.
  PricedOp b = model.price(op, 1000);
  EXPECT_EQ(b.method, PriceMethod::bandwidth);
  EXPECT_DOUBLE_EQ(b.seconds, p.seconds);
  EXPECT_NE(b.source.find("measured launch overhead"), std::string::npos) << b.source;
}

TEST(CostLookup, UnmeasuredAttentionIsItsFlopsAtTheGemmPeakAndSaysSo) {
  CostModel model(testing::load_json_profile(testing::measured_profile_json(), "no_attention.json"));
  Op op;
  op.kernel = "attention_fwd";
  op.kind = OpKind::attention;
  op.attention = AttentionShape{32, 32, 192, 128, 4096, true};
  op.flops = 2.0 * 32 * 4096 * (192 + 128) / 2;  // causal: half the score matrix, per token
  op.read_bytes = 2.0 * 32 * (192 * 2 + 128);
  op.write_bytes = 2.0 * 32 * 128;
  PricedOp p = model.price(op, 8192);
  EXPECT_EQ(p.method, PriceMethod::roofline);
  EXPECT_DOUBLE_EQ(p.seconds, op.flops * 8192 / 5.0e14);
  EXPECT_NE(p.source.find("attention neither measured nor published"), std::string::npos) << p.source;
}

TEST(CostLookup, UnknownKernelFallsBackToRooflineAndSaysSo) {
  CostModel model(testing::load_json_profile(testing::measured_profile_json(), "empty.json"));
  Op op;
  op.kernel = "topk_router_fwd";
  op.read_bytes = 100;
  op.write_bytes = 50;
  op.flops = 1e6;
  PricedOp p = model.price(op, 1000);
  EXPECT_EQ(p.method, PriceMethod::roofline);
  EXPECT_DOUBLE_EQ(p.seconds, 150.0 * 1000 / 2.0e12);
  EXPECT_NE(p.source.find("topk_router_fwd"), std::string::npos) << p.source;
  EXPECT_STREQ(to_string(PriceMethod::interpolated), "interpolated");
}

TEST(CostLookup, LeaveOneOutOnLinearDataIsExact) {
  json doc = testing::measured_profile_json();
  Op op = post_res_op(4, 2560);
  for (int64_t t : {1024, 2048, 4096, 8192, 16384})
    doc["kernels"].push_back(mhc_entry(op.kernel, 4, 2560, t, kA + kB * t, op.read_bytes * t, op.write_bytes * t));
  Profile profile = testing::load_json_profile(doc, "loo_linear.json");
  auto results = leave_one_out(profile);
  ASSERT_EQ(results.size(), 5u);
  for (const auto& r : results) {
    EXPECT_EQ(r.predicted.method, PriceMethod::interpolated);
    EXPECT_NEAR(r.relative_error(), 0.0, 1e-9) << r.entry->label();
  }
}

}  // namespace
}  // namespace mhc
