// GEMMs through cuBLASLt, as a transformer layer runs them: D[m, n] = A[m, k] W[k, n] per group,
// activations row-major, bf16 output; dtype bf16, fp8 (E4M3 inputs, fp32 accumulate) or tf32 (fp32
// inputs). Groups (MoE experts) run as one strided-batched matmul of equal groups, the layout
// grouped expert GEMMs reduce to when every expert gets the average row count.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <cuda_runtime.h>

#include "model_ops.h"

namespace mhc::profiler {

struct GemmProblem {
  int64_t m = 0, n = 0, k = 0, groups = 1;
  DType dtype = DType::bf16;
};

class LtGemm {
 public:
  // Allocates `input_sets` independent A/W/D sets filled with random non-zero values and picks the
  // algorithm cuBLASLt's heuristic ranks first. Throws std::runtime_error if none is supported.
  LtGemm(const GemmProblem& problem, int input_sets, uint64_t seed);
  ~LtGemm();
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;

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
