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

// `count` launches of an empty kernel back to back: their span / count is the stream's per-launch cost.
void launch_empty_kernels(int count, cudaStream_t stream);

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
