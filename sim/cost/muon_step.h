// The Newton-Schulz part of a Muon update on one GPU. Muon orthogonalises each weight matrix's
// momentum by Newton-Schulz iterations (K. Jordan's Muon; Moonlight, arXiv 2502.16982, 5 iterations;
// the DeepSeek-V4 report's Algorithm 1: 10, 8 + 2 with two coefficient sets). One iteration on an
// m x N matrix (m <= N) runs three bf16 GEMMs: A = X X^T (m x m, reducing over N), B = b A + c A A
// (m x m over m) and B X (m x N over m), 4 m^2 N + 2 m^3 FLOPs. Under ZeRO each rank orthogonalises its
// share of whole matrices (DeepSeek-V4 3.5.1 assigns them to ranks), so `count` is that share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cost/cost.h"

namespace mhc {

struct MuonMatrices {
  int64_t rows = 0, cols = 0;  // the weight's shape
  double count = 0;            // how many of them this GPU orthogonalises (a share, under ZeRO)
};

struct MuonStepCost {
  double flops = 0, seconds = 0, dram_bytes = 0;
  std::vector<PriceQuery> gemms;  // one per distinct shape and GEMM of an iteration
};

// Priced with the profile's bf16 GEMM entries, `iterations` per matrix.
MuonStepCost muon_newton_schulz(const CostModel& cost, const std::vector<MuonMatrices>& matrices, int iterations);

}  // namespace mhc
