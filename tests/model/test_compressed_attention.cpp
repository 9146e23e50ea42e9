// DeepSeek-V4's models and attention (scenario.h AttentionSpec::Kind::compressed): parameter counts
// against the published totals, every attention GEMM and the core's keys against hand counts from the
// released shapes (deepseek-ai/DeepSeek-V4-Flash inference/model.py, config.json), and the indexer
// running forward only.
#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "model/model.h"

using namespace mhc;

namespace {
const std::string kModels = std::string(MHC_SOURCE_DIR) + "/scenarios/models/";
const std::string kScenarios = std::string(MHC_SOURCE_DIR) + "/scenarios/";

MhcSpec mhc4() {
  MhcSpec m;
  m.variant = ResidualVariant::mhc;
  m.n = 4;
  return m;
}

// Keys per query by brute force: the window (the last w tokens, the query's own included) plus the
// compressed entries finished before it, floor(t / r) at position t (1-based), at most `cap`.
double brute_force_keys(int64_t seq, int64_t w, int64_t r, int64_t cap) {
  double sum = 0;
  for (int64_t t = 1; t <= seq; ++t) {
    int64_t c = r > 0 ? t / r : 0;
    if (cap > 0) c = std::min(c, cap);
    sum += double(std::min(t, w) + c);
  }
  return sum / double(seq);
}

std::map<std::string, const Op*> by_name(const std::vector<Op>& ops) {
  std::map<std::string, const Op*> m;
  for (const auto& op : ops) m[op.name] = &op;
  return m;
}
}  // namespace

// Published: V4-Flash 284B total, 13B active; V4-Pro 1.6T, 49B (the technical report's abstract and
// the model cards). The count is the main model without its MTP module, mHC included, the active count
// without the input embedding (as for DeepSeek-V3).
TEST(DeepSeekV4, ParameterCountsMatchThePublishedOnes) {
  const ParamCount flash = count_params(load_model_file(kModels + "deepseek-v4-flash.json"), mhc4());
  EXPECT_NEAR(flash.total() / 284e9, 1.0, 0.03) << flash.total();
  EXPECT_NEAR(flash.active / 13e9, 1.0, 0.03) << flash.active;
  const ParamCount pro = count_params(load_model_file(kModels + "deepseek-v4-pro.json"), mhc4());
  EXPECT_NEAR(pro.total() / 1.6e12, 1.0, 0.03) << pro.total();
  EXPECT_NEAR(pro.active / 49e9, 1.0, 0.03) << pro.active;
  // The released checkpoint's shapes give 284,332,240,471 for Flash (FP4 experts unpacked, scales and
  // the hash tables left out): ours leaves out the router biases (E per non-hash layer) and the final
  // mHC head mapping, 0.0004% of it.
  EXPECT_NEAR(flash.total() / 284332240471.0, 1.0, 1e-5) << flash.total();
}

// One V4-Flash layer of each kind, per token (C 4096, 64 heads of d 512, q rank 1024, 8 groups of
// output rank 1024, window 128, indexer 64 x 128 keeping 512, sequence 4096), forward GEMM FLOPs (2 per
// multiply-add) from the weight shapes, and the core's 2 x 64 x 2d per key.
TEST(DeepSeekV4, AttentionFlopsOfEachLayerKindByHand) {
  const Scenario s = load_scenario(kScenarios + "deepseek-v4-flash-2048-h800.json");
  const double C = 4096, h = 64, d = 512, qr = 1024, g = 8, orank = 1024, seq = 4096;
  const double base = 2 * (C * qr + qr * h * d + C * d + h * d * orank + g * orank * C);
  struct Case {
    int64_t ratio;
    double compressor, indexer, keys, entries;
  };
  const double entries4 = brute_force_keys(4096, 1, 4, 0) - 1;  // visible ratio-4 entries per query
  for (const Case& c : {Case{0, 0, 0, brute_force_keys(4096, 128, 0, 0), 0},
                        Case{4, 2 * 2 * C * 2 * d, 2 * (qr * 64 * 128 + C * 64 + 2 * C * 256), brute_force_keys(4096, 128, 4, 512), entries4},
                        Case{128, 2 * 2 * C * d, 0, brute_force_keys(4096, 128, 128, 0), 0}}) {
    LayerKind kind = LayerKind::moe_ffn;
    kind.compress_ratio = c.ratio;
    const OpPlan plan = layer_plan(s, kind);
    double gemm = 0, trained_gemm = 0;
    for (const auto& op : plan.forward)
      if (op.kind == OpKind::gemm && op.sublayer == "attn" && op.name != "attn.indexer_score") {
        gemm += op.flops;
        if (!op.forward_only) trained_gemm += op.flops;
      }
    EXPECT_NEAR(gemm, base + c.compressor + c.indexer, 1e-6 * gemm) << "ratio " << c.ratio;
    EXPECT_NEAR(trained_gemm, base + c.compressor, 1e-6 * gemm) << "ratio " << c.ratio;
    const auto ops = by_name(plan.forward);
    const Op& core = *ops.at("attn.core");
    EXPECT_NEAR(core.flops, 2 * h * c.keys * 2 * d, 1e-9 * core.flops) << "ratio " << c.ratio;
    // The indexer scores every visible ratio-4 entry: 64 x 128 multiply-adds each.
    if (c.ratio == 4) {
      const Op& score = *ops.at("attn.indexer_score");
      EXPECT_NEAR(score.flops, 2 * 64 * 128 * std::round(c.entries), 1e-9 * score.flops);
      EXPECT_TRUE(score.forward_only);
    } else {
      EXPECT_EQ(ops.count("attn.indexer_score"), 0u);
    }
    // Nothing of the indexer has a backward; everything else that trains does.
    for (const auto& op : plan.backward_input) EXPECT_EQ(op.name.find("indexer"), std::string::npos) << op.name;
    for (const auto& op : plan.backward_weight) EXPECT_EQ(op.name.find("indexer"), std::string::npos) << op.name;
    (void)seq;
  }
}

// The closed form of the mean keys per query against the brute-force count, over windows, ratios and
// caps that bind or not.
TEST(DeepSeekV4, MeanKeysPerQueryMatchesACount) {
  for (int64_t seq : {1, 5, 127, 128, 129, 4096, 5000})
    for (int64_t w : {1, 128})
      for (int64_t r : {2, 4, 128})
        for (int64_t cap : {0, 1, 7, 512, 1024}) {
          AttentionShape a{8, 1, 512, 512, seq, true, w, 0, r, cap};
          EXPECT_NEAR(mean_keys_per_query(a), brute_force_keys(seq, w, r, cap), 1e-9)
              << "seq " << seq << " w " << w << " r " << r << " cap " << cap;
        }
}

// The per-layer kinds follow compress_ratios; the MTP module's layer takes the list's last entry.
TEST(DeepSeekV4, LayerKindsFollowTheRatioList) {
  const ModelSpec m = load_model_file(kModels + "deepseek-v4-pro.json");
  EXPECT_EQ(layer_kind(m, 0).compress_ratio, 128);
  EXPECT_EQ(layer_kind(m, 2).compress_ratio, 4);
  EXPECT_EQ(layer_kind(m, 60).compress_ratio, 4);
  EXPECT_EQ(layer_kind(m, 61).compress_ratio, 0);  // the MTP layer: the window alone
  EXPECT_TRUE(layer_kind(m, 61).moe());
  EXPECT_EQ(layer_kinds(m).size(), 2u);  // HCA and CSA layers, all MoE
}
