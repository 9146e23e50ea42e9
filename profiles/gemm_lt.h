// GEMMs through cuBLASLt, as a transformer layer runs them: D[m, n] = A[m, k] W[k, n] per group,
// activations row-major, bf16 output; dtype bf16, fp8 (E4M3 inputs, fp32 accumulate) or tf32 (fp32
// inputs). Groups (MoE experts) run as one strided-batched matmul of equal groups, the layout
// grouped expert GEMMs reduce to when every expert gets the average row count.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <cuda_runtime.h>

#include "cupti_timer.h"
#include "model/model_ops.h"

namespace mhc::profiler {

struct GemmProblem {
  int64_t m = 0, n = 0, k = 0, groups = 1;
  DType dtype = DType::bf16;
};

// Which of cuBLASLt's heuristic candidates a GEMM runs (see LtGemm::pick_fastest).
struct AlgorithmPick {
  int rank = 0;        // 0: the heuristic's first choice
  int candidates = 1;  // how many the heuristic returned and were timed
  std::string describe() const;  // for an entry's `implementation` and a ceiling's source
};

class LtGemm {
 public:
  // Allocates `input_sets` independent A/W/D sets filled with random non-zero values and asks cuBLASLt's
  // heuristic for its top kMaxCandidates algorithms; runs the first until pick_fastest. Throws
  // std::runtime_error if none is supported.
  LtGemm(const GemmProblem& problem, int input_sets, uint64_t seed);
  static constexpr int kMaxCandidates = 8;
  ~LtGemm();
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;

  // As a framework's autotuner does: times each candidate briefly (CUPTI, a few calls) and keeps the
  // fastest. The heuristic's first choice alone can switch to a slower algorithm between
  // neighbouring shapes, which puts steps into the measured time-vs-shape lines.
  AlgorithmPick pick_fastest(ActivityTimer& timer, cudaStream_t stream);

  void launch(cudaStream_t stream);
  void rotate();
  double flops() const;           // 2 m n k groups
  double min_read_bytes() const;  // A and W once
  double min_write_bytes() const; // D once
  static std::string library_version();
  static double min_bytes(const GemmProblem& problem);  // A, W read and D written once

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mhc::profiler
