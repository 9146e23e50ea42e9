// Saved activations per layer against hand counts and Megatron's published formula.
#include <gtest/gtest.h>

#include "cost/memory.h"
#include "model/model.h"
#include "model/saved_activations.h"

using namespace mhc;

namespace {
const std::string kDir = std::string(MHC_SOURCE_DIR) + "/scenarios/";

double stored_per_token(const Scenario& s, LayerKind kind) {
  return account_activations(layer_plan(s, kind).forward, rebuilt_sublayer_inputs(s)).stored;
}

// GPT-3 13B as Korthikanti et al. count it (arXiv 2205.05198, section 4.1): plain residual, no TP,
// Megatron's unfused core attention and dropout.
Scenario gpt(const std::string& recompute) {
  return load_scenario(kDir + "dense-gpt-13b-h100-1f1b.json",
                       {"/mhc/variant=residual", "/mhc/n=1", "/mhc/recompute=false", "/model/attention/core=unfused",
                        "/model/dropout=true", "/training/recompute=" + recompute});
}
}  // namespace

// Activation memory per layer per token (s b = 1): 34 h + 5 a s without recomputation, 34 h with the
// core attention recomputed (selective), 2 h with the whole layer recomputed (Korthikanti et al.,
// Eq. 1 and section 5). Our norms also keep 1 / rms per row (fp32), which the paper's count leaves out.
TEST(SavedActivations, MegatronFormulaForAGptLayer) {
  const double h = 5120, a = 40, s = 4096, norm_stats = 2 * 4;
  EXPECT_DOUBLE_EQ(stored_per_token(gpt("none"), LayerKind::dense_ffn), 34 * h + 5 * a * s + norm_stats);
  EXPECT_DOUBLE_EQ(stored_per_token(gpt("selective"), LayerKind::dense_ffn), 34 * h + norm_stats);
  // Full: stage 0 (5 of the 40 layers, not the last stage) keeps each layer's input, 2 h per token.
  const Scenario full = gpt("full");
  const StageActivations st = stage_activations(full, 0);
  EXPECT_DOUBLE_EQ(st.sublayers, 5 * s * 2 * h);
  // While one layer runs backward its tensors are rebuilt: one layer's worth, without recomputation.
  EXPECT_DOUBLE_EQ(st.rebuilt_transient, s * (34 * h + 5 * a * s + norm_stats));
}

// The small MoE layer (C 1024, GQA 8 / 2 heads of 128, 16 experts of 512 SwiGLU, top 2, EP 2, one shared
// expert), plain residual, bf16, per token. Attention: norm input 2C + rstd 4, q/k/v input (normed) 2C,
// the core's q, k, v (8 + 2 x 2) x 128 x 2 B, its output 8 x 128 x 2 B (o_proj's input, one copy) and
// 8 fp32 log-sum-exps. FFN: norm 2C + 4, router input (the same normed copy) 2C, 16 fp32 scores, 2
// int32 expert indices (permute and combine), the experts' 2 rows of C in, 2 rows of 2 x 512 (SwiGLU
// input) and 2 rows of 512 (down's input), the combine's 2 expert outputs of C and 2 fp32 weights, the
// shared expert's 2 x 512 and 512.
TEST(SavedActivations, MoeLayerHandCount) {
  const std::vector<std::string> plain{"/mhc/variant=residual", "/mhc/n=1", "/mhc/recompute=false"};
  const Scenario s = load_scenario(kDir + "small.json", plain);
  const double C = 1024;
  const double attention = (2 * C + 4) + 2 * C + (8 + 4) * 128 * 2 + 8 * 128 * 2 + 8 * 4;
  const double ffn = (2 * C + 4) + 2 * C + 16 * 4 + 2 * 4 + 2 * C * 2 + 2 * 1024 * 2 + 2 * 512 * 2 + 2 * C * 2 +
                     2 * 4 + 1024 * 2 + 512 * 2;
  EXPECT_DOUBLE_EQ(stored_per_token(s, LayerKind::moe_ffn), attention + ffn);

  // DeepSeek-V3's recomputation (MLA's up-projections do not apply to GQA): both norms' outputs and
  // statistics (2 x (2C + 4)) and the routed experts' SwiGLU output (2 rows of 512) are rebuilt.
  auto with = plain;
  with.push_back("/training/recompute=deepseek-v3");
  const Scenario r = load_scenario(kDir + "small.json", with);
  const double rebuilt = 2 * (2 * C + 4) + 2 * 512 * 2;
  EXPECT_DOUBLE_EQ(stored_per_token(r, LayerKind::moe_ffn), attention + ffn - rebuilt);

  // DeepSeek-V3's storage: the attention output in E5M6 (12 bits + one fp32 scale per 128 values), the
  // SwiGLU input in FP8 (8 bits + one fp32 scale per 128).
  with.push_back("/training/saved_activations=deepseek-v3");
  const Scenario f = load_scenario(kDir + "small.json", with);
  const double e5m6 = 1.5 + 4.0 / 128, fp8 = 1 + 4.0 / 128;
  const double formats = 8 * 128 * (2 - e5m6) + 2 * 1024 * (2 - fp8);
  EXPECT_DOUBLE_EQ(stored_per_token(f, LayerKind::moe_ffn), attention + ffn - rebuilt - formats);

  // The routing weight folded into the expert activation (Megatron-Core's weighted SwiGLU): the
  // combine keeps neither the 2 expert outputs of C (bf16) nor the 2 fp32 weights; the activation keeps
  // each of its 2 routed rows' fp32 weight instead.
  const std::string folded = "/training/saved_activations={\"preset\": \"deepseek-v3\", \"fold_routing_weights\": true}";
  with.back() = folded;
  const Scenario w = load_scenario(kDir + "small.json", with);
  EXPECT_DOUBLE_EQ(stored_per_token(w, LayerKind::moe_ffn),
                   attention + ffn - rebuilt - formats - (2 * C * 2 + 2 * 4) + 2 * 4);
}

// The loss keeps the LM head's output: bf16 logits as computed (2 V bytes per token), or fp32 where
// the run says the loss upcasts and keeps its probabilities (4 V), one copy either way. The small model:
// V = 32768, one GPU of the vocab (tp 1).
TEST(SavedActivations, LogitsInTheLossFormat) {
  const std::vector<std::string> plain{"/mhc/variant=residual", "/mhc/n=1", "/mhc/recompute=false"};
  const Scenario bf16 = load_scenario(kDir + "small.json", plain);
  auto with = plain;
  with.push_back("/training/saved_activations={\"tensors\": {\"logits\": \"fp32\"}}");
  const Scenario fp32 = load_scenario(kDir + "small.json", with);
  const double V = 32768;
  const double a = account_activations(head_plan(bf16).forward, {}).stored;
  const double b = account_activations(head_plan(fp32).forward, {}).stored;
  EXPECT_DOUBLE_EQ(b - a, 2 * V);
  // The head's kept tensors by hand: the final norm's input (2C) and 1/rms (4), the LM head's input
  // (the normed 2C), the logits.
  const double C = 1024;
  EXPECT_DOUBLE_EQ(a, 2 * C + 4 + 2 * C + 2 * V);
}
