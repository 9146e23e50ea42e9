// Published profile parts (FlashAttention-3's figures, DeepGEMM's tables) priced beside the measured
// profile: they load with their sources, price exactly at their points, attention interpolates its
// FLOP rate over sequence length and head dim, and the shipped scenarios price no op by roofline.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/json_input.h"
#include "cost/cost.h"
#include "cost/stage_costs.h"

using namespace mhc;
namespace fs = std::filesystem;

namespace {

std::string repo(const std::string& path) { return std::string(MHC_SOURCE_DIR) + "/" + path; }

Profile shipped_parts() {
  return load_profile_parts(repo("profiles/measured/h100-sxm-quick.json"),
                            {repo("profiles/published/h100-flashattention3.json"),
                             repo("profiles/published/h800-deepgemm-fp8.json")});
}

// An attention query with the FA3 benchmark's layout (16k tokens, 2048 / head_dim heads), FLOPs as
// the paper counts them.
PriceQuery attention(const std::string& kernel, int64_t seq, int64_t d_qk, int64_t d_v, bool causal, double flops) {
  PriceQuery q;
  q.kernel = kernel;
  q.family = KernelFamily::attention;
  q.shape.tokens = 16384;
  q.shape.seq = seq;
  q.shape.heads = 16;
  q.shape.head_dim_qk = d_qk;
  q.shape.head_dim_v = d_v;
  q.shape.causal = causal;
  q.flops = flops;
  q.bytes = 1e6;  // far below the FLOP time
  q.compute_dtype = DType::bf16;
  return q;
}

}  // namespace

TEST(PublishedParts, LoadWithTheirSources) {
  const Profile p = shipped_parts();
  ASSERT_EQ(p.published.size(), 2u);
  EXPECT_EQ(p.kind, ProfileKind::measured);
  int fa3 = 0, deepgemm = 0;
  for (const ProfileEntry& e : p.entries) {
    if (!e.published()) continue;
    EXPECT_GT(e.published_flops_per_s, 0) << e.label();
    if (e.kernel == "gemm_fp8_block") {
      ++deepgemm;
      EXPECT_NE(e.published_source.find("deepseek-ai/DeepGEMM README.md at commit 327ec92f"), std::string::npos);
    } else {
      ++fa3;
      EXPECT_NE(e.published_source.find("arXiv 2407.08608"), std::string::npos) << e.published_source;
      EXPECT_NE(e.published_source.find("Figure"), std::string::npos) << e.published_source;
    }
  }
  EXPECT_EQ(fa3, 59);
  EXPECT_EQ(deepgemm, 22);
}

TEST(PublishedParts, PriceExactlyAtTheirPoints) {
  const CostModel cost(shipped_parts());
  // FA3 Figure 5(d): causal forward, head dim 128, seq 4k: 579 TFLOP/s. FLOPs as the paper counts
  // them: 4 x 4096^2 x 128 x 16 heads x 4 sequences / 2 = 274,877,906,944.
  PricedOp f = cost.price(attention("attention_fwd", 4096, 128, 128, true, 274877906944.0));
  EXPECT_EQ(f.method, PriceMethod::published);
  EXPECT_NEAR(f.seconds, 274877906944.0 / 579e12, 1e-18);
  EXPECT_NE(f.source.find("Figure 5(d)"), std::string::npos) << f.source;
  // Figure 6(b): backward, head dim 128, seq 4k, non-causal: 542 TFLOP/s on 2.5 x 2 x 274,877,906,944.
  PricedOp b = cost.price(attention("attention_bwd", 4096, 128, 128, false, 2.5 * 2 * 274877906944.0));
  EXPECT_NEAR(b.seconds, 2.5 * 2 * 274877906944.0 / 542e12, 1e-18);
  // DeepGEMM: M 4096 N 7168 K 16384 at 1520 TFLOPS.
  PriceQuery g;
  g.kernel = "gemm_fp8_block";
  g.family = KernelFamily::gemm;
  g.shape.m = 4096;
  g.shape.gemm_n = 7168;
  g.shape.k = 16384;
  g.shape.dtype = DType::fp8;
  g.flops = 2.0 * 4096 * 7168 * 16384;
  g.compute_dtype = DType::fp8;
  PricedOp d = cost.price(g);
  EXPECT_EQ(d.method, PriceMethod::published);
  EXPECT_NEAR(d.seconds, 962072674304.0 / 1520e12, 1e-18);
  EXPECT_NE(d.source.find("1520 TFLOPS"), std::string::npos) << d.source;
}

TEST(PublishedParts, AttentionRateInterpolatesInSeqAndHeadDim) {
  const CostModel cost(shipped_parts());
  const double F = 1e12;
  // seq 3000, head dim 128, causal: between 2k (521) and 4k (579) in log2(seq).
  PricedOp a = cost.price(attention("attention_fwd", 3000, 128, 128, true, F));
  EXPECT_EQ(a.method, PriceMethod::published);
  EXPECT_NEAR(a.seconds, F / ((521 + 58 * std::log2(3000.0 / 2048)) * 1e12), 1e-12 * a.seconds);
  // MLA (192, 128) at seq 4k: mean head dim 160, a quarter of the way from 128 (579) to 256 (612).
  PricedOp m = cost.price(attention("attention_fwd", 4096, 192, 128, true, F));
  EXPECT_NEAR(m.seconds, F / (587.25e12), 1e-12 * m.seconds);
  EXPECT_NE(m.source.find("not in the data"), std::string::npos) << m.source;
  // Backward has head dims 64 and 128 only: 160 takes head dim 128's rate (not extrapolated), here
  // the derived causal one at 4k: 542 x 579 / 638.
  PricedOp mb = cost.price(attention("attention_bwd", 4096, 192, 128, true, F));
  EXPECT_NEAR(mb.seconds, F / (542.0 * 579 / 638 * 1e12), 1e-5 * mb.seconds);  // the derived rate is stored to 3 decimals
  EXPECT_NE(mb.source.find("outside the data"), std::string::npos) << mb.source;
  EXPECT_NE(mb.source.find("derived, not published"), std::string::npos) << mb.source;
  // A sliding window of 1024 over 4096 keys: 896.125 keys per query, like full causal attention over
  // 2 x 896.125 - 1 = 1791.25: between 1k (423) and 2k (521).
  PriceQuery w = attention("attention_fwd", 4096, 128, 128, true, F);
  w.shape.window = 1024;
  PricedOp pw = cost.price(w);
  EXPECT_NEAR(pw.seconds, F / ((423 + 98 * std::log2(1791.25 / 1024)) * 1e12), 1e-12 * pw.seconds);
}

TEST(PublishedParts, RefusedWhereTheyCannotStand) {
  const fs::path dir = fs::temp_directory_path() / ("mhcsim_pub_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string fa3 = repo("profiles/published/h100-flashattention3.json");
  // A published part has no ceilings: it cannot be the first profile.
  try {
    load_profile_parts(fa3, {});
    ADD_FAILURE() << "a published part alone must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/kind: a published part has no ceilings"), std::string::npos) << e.what();
  }
  // The same part twice: every entry is a duplicate.
  try {
    load_profile_parts(repo("profiles/h100-sxm-reference.json"), {fa3, fa3});
    ADD_FAILURE() << "duplicates must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/kernels/0: the same kernel and shape as"), std::string::npos) << e.what();
  }
  // The published kind needs schema version 3, and a published entry needs its source.
  auto doc = nlohmann::json::parse(std::ifstream(fa3));
  doc["schema_version"] = 2;
  std::ofstream(dir / "v2.json") << doc.dump();
  EXPECT_THROW(load_profile((dir / "v2.json").string()), InputError);
  doc["schema_version"] = 3;
  doc["kernels"][0]["published"].erase("source");
  std::ofstream(dir / "nosource.json") << doc.dump();
  try {
    load_profile((dir / "nosource.json").string());
    ADD_FAILURE() << "a published entry without its source must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/kernels/0/published: missing required key \"source\""), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

// The bar: on the shipped DeepSeek-V3 and 27B scenarios (and their plain-residual baselines)
// no op is priced by roofline, and every op says how it was priced.
TEST(PublishedParts, ShippedScenariosPriceNoOpByRoofline) {
  for (const char* name : {"scenarios/paper-27b-h800-dualpipe.json", "scenarios/deepseek-v3-2048-h800.json"}) {
    for (const char* variant : {"mhc", "residual"}) {
      std::vector<std::string> set;
      if (std::string(variant) == "residual") set = {"/mhc/variant=residual", "/mhc/n=1"};
      const Scenario s = load_scenario(repo(name), set);
      const CostModel cost(load_profile_parts(s.profile, s.published_parts));
      const PipelineCostTable t = price_pipeline(s, cost);
      int published = 0;
      for (const PricedOpRecord& r : t.priced) {
        EXPECT_NE(r.method, "roofline") << name << " " << r.op << ": " << r.source;
        EXPECT_FALSE(r.source.empty()) << r.op;
        published += r.method == "published";
      }
      EXPECT_GT(published, 0) << name;
    }
  }
}
