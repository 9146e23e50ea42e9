// The ops of a layer as real kernels run them: gradient GEMMs on their own problems for every layer
// kind, attention FLOPs and bytes for MHA, GQA, MLA, sliding-window and sparse attention against hand
// counts, and the FP8 recipes' kernels and casts.
#include <gtest/gtest.h>

#include "model/model.h"

using namespace mhc;

namespace {

Scenario shipped(const std::string& name, const std::vector<std::string>& set = {}) {
  return load_scenario(std::string(MHC_SOURCE_DIR) + "/scenarios/" + name, set);
}

const Op& find(const std::vector<Op>& ops, const std::string& name) {
  for (const Op& op : ops)
    if (op.name == name) return op;
  throw std::runtime_error("no op " + name);
}

void expect_problem(const Op& op, double tokens, int64_t m, int64_t n, int64_t k) {
  const GemmProblemDims d = gemm_problem(op.gemm, tokens);
  EXPECT_EQ(d.m, m) << op.name;
  EXPECT_EQ(d.n, n) << op.name;
  EXPECT_EQ(d.k, k) << op.name;
}

}  // namespace

// Paper 27B (C 2560, MLA 32 heads, experts 1536 wide, 72 experts top-6 on EP8), 4096 tokens.
TEST(LayerOps, GradientGemmsRunTheirOwnProblemsInEveryLayerKind) {
  const Scenario s = shipped("paper-27b-h800-dualpipe.json");
  const OpPlan dense = layer_plan(s, LayerKind::dense_ffn);
  // Dense FFN up+gate: Y[4096, 2 x 12288] = X[4096, 2560] W: dX = dY W^T is (4096, 2560, 24576) and
  // dW = X^T dY is (2560, 24576, 4096), its reduction over the tokens.
  expect_problem(find(dense.forward, "ffn.up_gate"), 4096, 4096, 24576, 2560);
  expect_problem(find(dense.backward_input, "ffn.up_gate.dgrad"), 4096, 4096, 2560, 24576);
  expect_problem(find(dense.backward_weight, "ffn.up_gate.wgrad"), 4096, 2560, 24576, 4096);
  EXPECT_EQ(find(dense.backward_weight, "ffn.up_gate.wgrad").gemm.role, GemmRole::weight_grad);
  // Attention output projection: [4096, 32 x 128] -> 2560.
  expect_problem(find(dense.forward, "attn.o_proj"), 4096, 4096, 2560, 4096);
  expect_problem(find(dense.backward_input, "attn.o_proj.dgrad"), 4096, 4096, 4096, 2560);
  expect_problem(find(dense.backward_weight, "attn.o_proj.wgrad"), 4096, 4096, 2560, 4096);

  // MoE experts: 6 x 8 / 72 = 2/3 of the tokens per local expert (9 of them), balanced.
  const OpPlan moe = layer_plan(s, LayerKind::moe_ffn);
  const Op& up = find(moe.forward, "ffn.experts_up_gate");
  EXPECT_EQ(up.gemm.groups, 9);
  expect_problem(up, 4096, 2731, 3072, 2560);
  expect_problem(find(moe.backward_input, "ffn.experts_up_gate.dgrad"), 4096, 2731, 2560, 3072);
  expect_problem(find(moe.backward_weight, "ffn.experts_up_gate.wgrad"), 4096, 2560, 3072, 2731);
  expect_problem(find(moe.backward_weight, "ffn.experts_down.wgrad"), 4096, 1536, 2560, 2731);
  // The activation between them runs on the routed rows: 6 per token over the 9 experts.
  EXPECT_DOUBLE_EQ(find(moe.forward, "ffn.experts_act").rows_per_token, 6.0);

  // An imbalance factor: the busiest GPU's experts get 1.5 x the mean rows.
  const Scenario skewed = shipped("paper-27b-h800-dualpipe.json", {"/parallelism/moe_imbalance=1.5"});
  const OpPlan moe15 = layer_plan(skewed, LayerKind::moe_ffn);
  expect_problem(find(moe15.forward, "ffn.experts_up_gate"), 4096, 4096, 3072, 2560);
  expect_problem(find(moe15.backward_weight, "ffn.experts_up_gate.wgrad"), 4096, 2560, 3072, 4096);
}

// FLOPs count 2 per multiply-add; a causal query over seq 4096 attends to 4097 / 2 keys on average.
TEST(LayerOps, AttentionFlopsAndBytesAgainstHandCounts) {
  // MHA, GPT 13B: 40 heads of 128: 2 x 40 x 2048.5 x (128 + 128) = 41,953,280 FLOP per token.
  const Scenario mha = shipped("dense-gpt-13b-h100-1f1b.json");
  const OpPlan mha_plan = layer_plan(mha, LayerKind::dense_ffn);
  const Op& a = find(mha_plan.forward, "attn.core");
  EXPECT_DOUBLE_EQ(a.flops, 41953280.0);
  EXPECT_DOUBLE_EQ(a.read_bytes, 2.0 * 40 * 128 * 3);  // q, k, v
  EXPECT_DOUBLE_EQ(a.write_bytes, 2.0 * 40 * 128);
  // GQA with 8 K/V heads: the same FLOPs, K and V read once per K/V head: 40 x 128 + 8 x 256 values.
  const Scenario gqa = shipped("dense-gpt-13b-h100-1f1b.json", {"/model/attention/kind=gqa", "/model/attention/kv_heads=8"});
  const OpPlan gqa_plan = layer_plan(gqa, LayerKind::dense_ffn);
  const Op& g = find(gqa_plan.forward, "attn.core");
  EXPECT_DOUBLE_EQ(g.flops, 41953280.0);
  EXPECT_DOUBLE_EQ(g.read_bytes, 2.0 * (40 * 128 + 8 * 256));
  EXPECT_EQ(g.attention.kv_heads, 8);
  // MLA, DeepSeek-V3: 128 heads, q.k over 128 + 64 dims, v 128: 2 x 128 x 2048.5 x 320 = 167,813,120.
  const Scenario mla = shipped("deepseek-v3-2048-h800.json");
  const OpPlan mla_plan = layer_plan(mla, LayerKind::moe_ffn);
  const Op& m = find(mla_plan.forward, "attn.core");
  EXPECT_DOUBLE_EQ(m.flops, 167813120.0);
  EXPECT_EQ(m.attention.head_dim_qk, 192);
  EXPECT_EQ(m.attention.head_dim_v, 128);
  // Sliding window 1024 over 4096: positions 1..1024 see 1..1024 keys, the other 3072 see 1024:
  // (1024 x 1025 / 2 + 3072 x 1024) / 4096 = 896.125 keys; 2 x 40 x 896.125 x 256 = 18,352,640.
  const Scenario win = shipped("dense-gpt-13b-h100-1f1b.json", {"/model/attention/window=1024"});
  const OpPlan win_plan = layer_plan(win, LayerKind::dense_ffn);
  const Op& w = find(win_plan.forward, "attn.core");
  EXPECT_DOUBLE_EQ(w.flops, 18352640.0);
  EXPECT_DOUBLE_EQ(w.read_bytes, a.read_bytes);  // K/V still streamed once per token
  // Sparse top-2048: (2048 x 2049 / 2 + 2048 x 2048) / 4096 = 1536.25 keys, each query gathering its
  // selected K/V: 40 x 128 (q) + 1536.25 x 40 x 256 values read.
  const Scenario sparse = shipped("dense-gpt-13b-h100-1f1b.json", {"/model/attention/sparse_topk=2048"});
  const OpPlan sparse_plan = layer_plan(sparse, LayerKind::dense_ffn);
  const Op& sp = find(sparse_plan.forward, "attn.core");
  EXPECT_DOUBLE_EQ(sp.flops, 2.0 * 40 * 1536.25 * 256);
  EXPECT_DOUBLE_EQ(sp.read_bytes, 2.0 * (40 * 128 + 1536.25 * 40 * 256));
  // Backward: 2.5 x the forward FLOPs.
  EXPECT_DOUBLE_EQ(find(mha_plan.backward_input, "attn.core.bwd").flops, 2.5 * 41953280.0);
}

TEST(LayerOps, Fp8RecipesRunTheirKernelsAndCasts) {
  // DeepSeek-V3's recipe: block-scaled GEMMs except the router and the output head.
  const Scenario s = shipped("deepseek-v3-2048-h800.json");
  const OpPlan moe = layer_plan(s, LayerKind::moe_ffn);
  EXPECT_EQ(find(moe.forward, "attn.q_down").kernel, "gemm_fp8_block");
  EXPECT_EQ(find(moe.forward, "ffn.experts_up_gate").kernel, "gemm_fp8_block");
  EXPECT_EQ(find(moe.forward, "ffn.router").kernel, "gemm");
  EXPECT_EQ(find(moe.forward, "ffn.router").gemm.dtype, DType::bf16);
  const OpPlan head = head_plan(s);
  EXPECT_EQ(find(head.forward, "head.lm_head").gemm.dtype, DType::bf16);
  // The normed input is cast once (q_down and kv_down share it): 7168 bf16 values in, 7168 FP8
  // values and 56 fp32 scales out.
  const Op& cast = find(moe.forward, "attn.norm.cast");
  EXPECT_EQ(cast.kernel, "fp8_quantize_fwd");
  EXPECT_DOUBLE_EQ(cast.read_bytes, 2.0 * 7168);
  EXPECT_DOUBLE_EQ(cast.write_bytes, 7168 + 56 * 4.0);
  EXPECT_TRUE(cast.saved.empty());  // the gradient passes through a cast
  // The experts read the FP8 dispatch: no cast of their own on the receiving side.
  for (const Op& op : moe.forward) EXPECT_NE(op.name, "ffn.experts_in.cast");
  // Backward: dY cast (row and column tiles) before dgrad; X re-quantised transposed before wgrad.
  EXPECT_EQ(find(moe.backward_input, "attn.o_proj.dy_cast").kernel, "fp8_quantize_bwd");
  EXPECT_EQ(find(moe.backward_weight, "attn.o_proj.x_transpose").kernel, "fp8_requantize_transpose_bwd");
  // RoPE on q's 128 x 64 decoupled dims and the one shared 64-dim key.
  EXPECT_EQ(find(moe.forward, "attn.rope").C, 128 * 64 + 64);
  // One MTP module on the last stage: its projection 2C -> C and its own layer.
  const OpPlan mtp = mtp_plan(s);
  EXPECT_EQ(find(mtp.forward, "mtp1.proj").gemm.k, 2 * 7168);
  EXPECT_EQ(find(mtp.forward, "mtp1.ffn.experts_up_gate").kernel, "gemm_fp8_block");

  // Per-tensor FP8: cuBLASLt-class GEMMs in fp8, casts writing the transposed copy too.
  const Scenario t = shipped("paper-27b-h800-dualpipe.json", {"/model/precision=fp8-tensor"});
  const OpPlan dense = layer_plan(t, LayerKind::dense_ffn);
  EXPECT_EQ(find(dense.forward, "ffn.up_gate").kernel, "gemm");
  EXPECT_EQ(find(dense.forward, "ffn.up_gate").gemm.dtype, DType::fp8);
  EXPECT_DOUBLE_EQ(find(dense.forward, "ffn.in.cast").write_bytes, 2.0 * 2560);
  for (const Op& op : dense.backward_weight) EXPECT_EQ(op.name.find("x_transpose"), std::string::npos) << op.name;
}
