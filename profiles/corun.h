// The co-run microbenchmark of mhc-profile --corun: how kernels share this GPU (the profile's `corun`
// section, profiles/SCHEMA.md). Needs the mHC kernels (the fused post-res kernel is one of the pair).
#pragma once

#include "gemm_lt.h"
#include "measure.h"

namespace mhc::profiler {

struct CorunSettings {
  int warmup = 3;
  int runs = 20;
  // The pair: a GEMM of one 16384-token micro-batch through a C x C projection and the fused post-res
  // kernel on the same tokens (n = 4, C = 2560: the paper's 27B width).
  GemmProblem gemm{16384, 2560, 2560, 1, DType::bf16};
  int n = 4;
  int64_t C = 2560;
  int64_t tokens = 16384;
  // The communication-like copy beside the GEMM: DeepSeek-V3's 20 communication SMs (arXiv 2412.19437
  // section 3.2.2) moving NVLink 4's 450 GB/s one way (H100 SXM datasheet).
  int copy_sms = 20;
  double copy_Bps = 450e9;
};

ProfileCorun measure_corun(Measurer& measurer, const CorunSettings& settings);

}  // namespace mhc::profiler
