#include "sweep_shapes.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <tuple>

#include "core/json_input.h"

namespace mhc::profiler {

namespace {

// Model dimensions: mHC paper (arXiv 2512.24880) Table 5; DeepSeek-V3 (arXiv 2412.19437) Sec. 4.2; dense GPT: FFN 4x, head dim 128.
struct ModelDims {
  std::string name;
  int64_t C = 0;
  int64_t heads = 0;
  int64_t head_dim = 128;
  bool mla = false;
  int64_t q_rank = 0;        // MLA query compression rank (0: none)
  int64_t kv_rank = 512;     // MLA
  int64_t rope = 64;         // MLA decoupled RoPE dim
  int64_t expert_ffn = 0;    // MoE expert FFN width (SwiGLU)
  int64_t dense_ffn = 0;     // dense FFN width
  bool swiglu = true;        // gate + up in one GEMM
  int64_t vocab = 0;
  bool fp8 = false;          // DeepSeek-V3 trains its GEMMs in fp8
};

std::vector<ModelDims> models() {
  std::vector<ModelDims> out;
  const int64_t vocab = 129280;
  // Paper 3B / 9B / 27B (Table 5): MLA with head dim 128, KV rank 512, RoPE 64; the paper gives no
  // query compression rank, so the query projection is taken as uncompressed (C -> heads x 192).
  out.push_back({"paper-3b", 1280, 16, 128, true, 0, 512, 64, 896, 0, true, vocab, false});
  out.push_back({"paper-9b", 1920, 24, 128, true, 0, 512, 64, 1280, 0, true, vocab, false});
  out.push_back({"paper-27b", 2560, 32, 128, true, 0, 512, 64, 1536, 0, true, vocab, false});
  out.push_back({"deepseek-v3", 7168, 128, 128, true, 1536, 512, 64, 2048, 18432, true, vocab, true});
  out.push_back({"gpt-4096", 4096, 32, 128, false, 0, 0, 0, 0, 4 * 4096, false, 0, false});
  out.push_back({"gpt-8192", 8192, 64, 128, false, 0, 0, 0, 0, 4 * 8192, false, 0, false});
  return out;
}

struct Projection {
  std::string name;
  int64_t in = 0, out = 0;
  bool expert = false;
};

std::vector<Projection> projections(const ModelDims& m) {
  std::vector<Projection> p;
  const int64_t qk_dim = m.head_dim + m.rope;
  if (m.mla) {
    if (m.q_rank) {
      p.push_back({"attn.q_a", m.C, m.q_rank});
      p.push_back({"attn.q_b", m.q_rank, m.heads * qk_dim});
    } else {
      p.push_back({"attn.q", m.C, m.heads * qk_dim});
    }
    p.push_back({"attn.kv_a", m.C, m.kv_rank + m.rope});
    p.push_back({"attn.kv_b", m.kv_rank, m.heads * 2 * m.head_dim});
    p.push_back({"attn.o", m.heads * m.head_dim, m.C});
  } else {
    p.push_back({"attn.qkv", m.C, 3 * m.heads * m.head_dim});
    p.push_back({"attn.o", m.heads * m.head_dim, m.C});
  }
  if (m.expert_ffn) {
    p.push_back({"ffn.expert_gate_up", m.C, 2 * m.expert_ffn, true});
    p.push_back({"ffn.expert_down", m.expert_ffn, m.C, true});
  }
  if (m.dense_ffn) {
    p.push_back({"ffn.dense_up", m.C, (m.swiglu ? 2 : 1) * m.dense_ffn});
    p.push_back({"ffn.dense_down", m.dense_ffn, m.C});
  }
  if (m.vocab) p.push_back({"head.logits", m.C, m.vocab});
  return p;
}

}  // namespace

MhcSweep mhc_sweep(bool quick) {
  if (quick) return MhcSweep{{1, 4, 8}, {2560}, {4096, 16384}};
  // Every width a shipped model uses (paper 3B/9B/27B, dense 13B, DeepSeek-V3) plus 4096; token
  // counts around the 4096-token micro-batch, four so each interior count is bracketed.
  return MhcSweep{{1, 2, 3, 4, 6, 8}, {1280, 1920, 2560, 4096, 5120, 7168}, {2048, 4096, 8192, 16384}};
}

namespace {

// "1,2,4" -> {1, 2, 4}; every item a positive integer.
std::vector<int64_t> positive_list(const std::string& text, const std::string& flag) {
  std::vector<int64_t> out;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v <= 0)
      throw InputError("mhc-profile", flag, "expected a comma-separated list of positive integers, got '" + item + "'");
    out.push_back(v);
  }
  if (out.empty()) throw InputError("mhc-profile", flag, "expected at least one value");
  return out;
}

}  // namespace

MhcSweep mhc_sweep_with(MhcSweep grid, const std::optional<std::string>& n, const std::optional<std::string>& C,
                        const std::optional<std::string>& tokens) {
  if (n) {
    grid.n.clear();
    for (int64_t v : positive_list(*n, "--mhc-n")) {
      if (v > 8) throw InputError("mhc-profile", "--mhc-n", "the kernels take n in 1..8, got " + std::to_string(v));
      grid.n.push_back(static_cast<int>(v));
    }
  }
  if (C) {
    grid.C = positive_list(*C, "--mhc-C");
    for (int64_t v : grid.C)
      if (v % 8 != 0)
        throw InputError("mhc-profile", "--mhc-C", "the kernels take C a multiple of 8, got " + std::to_string(v));
  }
  if (tokens) grid.tokens = positive_list(*tokens, "--mhc-tokens");
  return grid;
}

std::vector<GemmSpec> gemm_sweep(bool quick) {
  // Rows double from step to step: GEMM time is far from linear over a factor of 4 (waves, split-k).
  const std::vector<int64_t> rows =
      quick ? std::vector<int64_t>{4096, 16384} : std::vector<int64_t>{1024, 2048, 4096, 8192, 16384};
  // Grouped expert GEMMs: 8 experts side by side, each with the average rows an expert receives.
  const std::vector<int64_t> expert_rows =
      quick ? std::vector<int64_t>{1024, 4096} : std::vector<int64_t>{256, 512, 1024, 2048, 4096};
  constexpr int64_t kExpertGroups = 8;
  std::vector<GemmSpec> out;
  std::set<std::tuple<int64_t, int64_t, int64_t, int64_t, int>> seen;
  auto add = [&](int64_t m, int64_t n, int64_t k, int64_t groups, DType dt, const std::string& use) {
    if (seen.insert({m, n, k, groups, static_cast<int>(dt)}).second) out.push_back({m, n, k, groups, dt, use});
  };
  for (const ModelDims& model : models()) {
    std::vector<DType> dtypes{DType::bf16};
    if (model.fp8) dtypes.push_back(DType::fp8);
    for (const Projection& p : projections(model)) {
      const auto& ms = p.expert ? expert_rows : rows;
      const int64_t groups = p.expert ? kExpertGroups : 1;
      for (DType dt : dtypes)
        for (int64_t m : ms) {
          const std::string use = model.name + " " + p.name;
          add(m, p.out, p.in, groups, dt, use + " fwd");
          add(m, p.in, p.out, groups, dt, use + " bwd input");   // dX = dY W^T
          add(p.in, p.out, m, groups, dt, use + " bwd weight");  // dW = X^T dY, reduction over rows
        }
    }
  }
  return out;
}

std::vector<LayerOpSpec> layer_sweep(bool quick) {
  const std::vector<int64_t> tokens =
      quick ? std::vector<int64_t>{4096, 16384} : std::vector<int64_t>{1024, 2048, 4096, 8192, 16384};
  std::set<int64_t> hidden, ffn, rope_width;
  for (const ModelDims& m : models()) {
    hidden.insert(m.C);
    if (m.expert_ffn) ffn.insert(m.expert_ffn);
    if (m.dense_ffn) ffn.insert(m.dense_ffn);
    rope_width.insert(m.heads * (m.mla ? m.rope : m.head_dim));  // RoPE rotates heads x rope dim per token
  }
  if (quick) hidden = {2560}, ffn = {1536}, rope_width = {2048};
  std::vector<LayerOpSpec> out;
  for (int64_t t : tokens) {
    for (int64_t C : hidden)
      for (const char* k : {"rmsnorm_fwd", "rmsnorm_bwd", "add_fwd"}) out.push_back({k, C, t});
    for (int64_t C : ffn)
      for (const char* k : {"swiglu_fwd", "swiglu_bwd"}) out.push_back({k, C, t});
    for (int64_t C : rope_width)
      for (const char* k : {"rope_fwd", "rope_bwd"}) out.push_back({k, C, t});
  }
  return out;
}

}  // namespace mhc::profiler
