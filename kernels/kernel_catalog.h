// The contract between the mHC kernels and the profiler: every measurable kernel has an id, and a
// KernelInstance owns device buffers filled with random inputs and launches just that kernel.
// Kernel ids are the keys the simulator's model and the profiles use, e.g.
//   mhc_fused.{norm_proj,mix,sinkhorn,pre_apply,post_res}_{fwd,bwd}
//   mhc_unfused.{compute_h,apply_pre,apply_post,apply_res,merge}_{fwd,bwd}
//   residual.merge_{fwd,bwd}
// (the unfused mHC sequence uses mhc_fused.sinkhorn_* for its Sinkhorn step).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <cuda_runtime.h>

namespace mhc::kernels {

struct KernelShape {
  int n = 4;             // expansion rate
  int64_t C = 2560;      // hidden width
  int64_t tokens = 16384;
  int sinkhorn_iters = 20;
};

struct KernelInfo {
  std::string id;
  std::string description;
  bool fused = false;
  bool backward = false;
};

class KernelInstance {
 public:
  virtual ~KernelInstance() = default;
  // One launch of the kernel under test on `stream` (no synchronisation, no host work).
  virtual void launch(cudaStream_t stream) = 0;
  // Switch to the next of the instance's input sets, so that repeated runs do not hit in L2.
  virtual void rotate() = 0;
  // The DRAM bytes the kernel must move at minimum (what the I/O model says), read and written.
  virtual double min_read_bytes() const = 0;
  virtual double min_write_bytes() const = 0;
};

const std::vector<KernelInfo>& kernel_catalog();

// Allocates and fills `input_sets` independent input sets (random, never zero) for kernel `id`.
// Throws std::invalid_argument for an unknown id and std::runtime_error on CUDA errors.
std::unique_ptr<KernelInstance> make_kernel_instance(const std::string& id, const KernelShape& shape,
                                                     uint64_t seed, int input_sets);

}  // namespace mhc::kernels
