#include "cost/muon_step.h"

#include <algorithm>

#include "cost/kernel_demand.h"
#include "model/op_builders.h"

namespace mhc {

MuonStepCost muon_newton_schulz(const CostModel& cost, const std::vector<MuonMatrices>& matrices, int iterations) {
  MuonStepCost out;
  for (const MuonMatrices& w : matrices) {
    if (w.count <= 0) continue;
    const int64_t m = std::min(w.rows, w.cols), N = std::max(w.rows, w.cols);
    // Each GEMM as a forward problem of m rows: X X^T (n = m, k = N), A A (n = m, k = m), B X (n = N, k = m).
    for (const auto& [name, n, k] : {std::tuple{"gram", m, N}, std::tuple{"square", m, m}, std::tuple{"apply", N, m}}) {
      const Op op = ops::gemm("optimizer", std::string("newton_schulz_") + name, 1, n, k, 1, GemmRecipe::bf16);
      const PriceQuery q = query_for_op(op, double(m));
      const PricedOp p = cost.price(q);
      const double times = w.count * double(iterations);
      out.flops += times * q.flops;
      out.seconds += times * p.seconds;
      out.dram_bytes += times * kernel_demand(cost, q, p.seconds).dram_bytes;
      out.gemms.push_back(q);
    }
  }
  return out;
}

}  // namespace mhc
