// The parts of a transformer layer other than GEMMs, attention and mHC that the profiler measures
// with its own straightforward CUDA kernels (bf16 activations, fp32 math): RMSNorm, SwiGLU, RoPE and
// the residual add, forward and backward; and the L2 flush the DRAM counter uses.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <cuda_runtime.h>

namespace mhc::profiler {

// Reads `bytes` of `buffer` (16-byte aligned) and writes one float to `sink`: leaves the L2 full of
// clean lines of `buffer`.
void launch_l2_flush_read(const void* buffer, size_t bytes, float* sink, cudaStream_t stream);

// Fills `elems` device values with random values in [0.25, 1.25) (never zero) on the GPU.
enum class FillType { bf16, fp8_e4m3, fp32 };
void fill_random_device(void* dst, size_t elems, FillType type, uint64_t seed);

// `count` launches of an empty kernel back to back, captured once in a CUDA graph (so the host's launch
// rate does not enter): the span of one graph launch / count is the GPU's per-kernel cost.
class EmptyKernelGraph {
 public:
  explicit EmptyKernelGraph(int count);
  ~EmptyKernelGraph();
  void launch(cudaStream_t stream);
  int count() const { return count_; }

 private:
  int count_;
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

// One measurable layer op over `tokens` rows of width `C`, with `input_sets` independent inputs.
class LayerOpInstance {
 public:
  virtual ~LayerOpInstance() = default;
  virtual void launch(cudaStream_t stream) = 0;
  virtual void rotate() = 0;
  virtual double min_read_bytes() const = 0;
  virtual double min_write_bytes() const = 0;
  virtual double flops() const = 0;
};

// The layer-op kernel ids this file implements (ids of the profile schema).
const std::vector<std::string>& layer_op_ids();
// Throws std::invalid_argument for an id not in layer_op_ids().
std::unique_ptr<LayerOpInstance> make_layer_op(const std::string& id, int64_t C, int64_t tokens, int input_sets,
                                               uint64_t seed);

}  // namespace mhc::profiler
