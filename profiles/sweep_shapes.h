// What mhc-profile measures: the mHC kernels over n, C and tokens, the GEMMs of the shipped models
// (mHC paper Table 5: 3B/9B/27B; DeepSeek-V3, arXiv 2412.19437 Sec. 4.2; dense GPT), and the layer's other ops. CPU only, so
// the sweep is unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/model_ops.h"

namespace mhc::profiler {

struct MhcSweep {
  std::vector<int> n;
  std::vector<int64_t> C;
  std::vector<int64_t> tokens;
  int sinkhorn_iters = 20;  // paper: t_max = 20
};
MhcSweep mhc_sweep(bool quick);
// The grid with any of its axes replaced from mhc-profile's --mhc-n / --mhc-C / --mhc-tokens texts
// ("1,2,4"): positive integers, n in 1..8, C a multiple of 8. InputError("mhc-profile", flag, ...) else.
MhcSweep mhc_sweep_with(MhcSweep grid, const std::optional<std::string>& n, const std::optional<std::string>& C,
                        const std::optional<std::string>& tokens);

// One GEMM D[m, n] = A[m, k] W[k, n] per group.
struct GemmSpec {
  int64_t m = 0, n = 0, k = 0, groups = 1;
  DType dtype = DType::bf16;
  std::string use;  // "deepseek-v3 attn.q_b fwd", for the log
};
// Forward, input-gradient (m, k, n) and weight-gradient (k_fwd, n, m) GEMMs of every model's layer,
// each at several row counts, deduplicated.
std::vector<GemmSpec> gemm_sweep(bool quick);

struct LayerOpSpec {
  std::string kernel;  // "rmsnorm_fwd", ...
  int64_t C = 0;
  int64_t tokens = 0;
};
std::vector<LayerOpSpec> layer_sweep(bool quick);

}  // namespace mhc::profiler
