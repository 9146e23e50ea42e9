// The mHC kernels (kernels/kernel_catalog.h) over n, C and tokens: fused and unfused, forward and
// backward, and the plain residual merge.
#include <iostream>

#include "kernel_catalog.h"
#include "measure.h"
#include "sweep_shapes.h"

namespace mhc::profiler {

namespace {

// FLOPs of the projection x phi (nC x (n^2 + 2n) per token, paper 4.3.1) for the kernels that do it;
// the backward computes both the input and the phi gradient (twice the forward). The other mHC
// kernels are elementwise and priced by their bytes.
double mhc_model_flops(const std::string& id, int n, int64_t C, int64_t tokens) {
  const double proj = 2.0 * n * double(C) * (double(n) * n + 2.0 * n) * double(tokens);
  if (id == "mhc_fused.norm_proj_fwd" || id == "mhc_unfused.compute_h_fwd") return proj;
  if (id == "mhc_fused.norm_proj_bwd" || id == "mhc_unfused.compute_h_bwd") return 2.0 * proj;
  return 0.0;
}

}  // namespace

// Shapes outermost, in the order the sweep lists n (so a --time-limit cut loses whole (n, C) cells, not
// whole kernels); the plain residual kernels are measured with the n = 1 cells.
void measure_mhc_kernels(Measurer& measurer, const MhcSweep& sweep, std::vector<ProfileEntry>& out) {
  uint64_t seed = 1;
  for (int n : sweep.n)
    for (int64_t C : sweep.C)
      for (const kernels::KernelInfo& info : kernels::kernel_catalog()) {
        const bool residual = info.id.rfind("residual.", 0) == 0;
        if (residual && n != 1) continue;
        std::cerr << "mhc-profile: " << info.id << " n=" << n << " C=" << C << "\n";
        for (int64_t tokens : sweep.tokens) {
          if (measurer.out_of_time()) return;
          kernels::KernelShape shape;
          shape.n = n;
          shape.C = C;
          shape.tokens = tokens;
          shape.sinkhorn_iters = sweep.sinkhorn_iters;
          // A one-set probe tells the bytes per launch, which sets how many input sets defeat the L2.
          auto probe = kernels::make_kernel_instance(info.id, shape, seed, 1);
          const int sets = measurer.input_sets_for(probe->min_read_bytes() + probe->min_write_bytes());
          probe.reset();
          auto instance = kernels::make_kernel_instance(info.id, shape, seed++, sets);
          OpUnderTest op;
          op.kernel = info.id;
          op.shape.n = residual ? 0 : n;
          op.shape.C = C;
          op.shape.tokens = tokens;
          op.shape.sinkhorn_iters = is_sinkhorn_kernel(info.id) ? sweep.sinkhorn_iters : 0;
          op.launch = [&](cudaStream_t s) { instance->launch(s); };
          op.rotate = [&] { instance->rotate(); };
          op.model_read_bytes = instance->min_read_bytes();
          op.model_write_bytes = instance->min_write_bytes();
          op.model_flops = mhc_model_flops(info.id, n, C, tokens);
          op.implementation = "mhc kernels (kernels/)";
          op.input_sets = sets;
          out.push_back(measurer.measure(op));
        }
      }
}

}  // namespace mhc::profiler
