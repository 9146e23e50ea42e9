// Parts the layer builders share (model stage internals): the precision kept for router-like GEMMs,
// RoPE, storage casts of saved tensors, and the attention ops of each attention kind.
#pragma once

#include <string>
#include <vector>

#include "model/model.h"

namespace mhc::ops {

// DeepSeek-V3 (section 3.3.1) keeps the router, the embedding and the output head in BF16/FP32 whatever
// the GEMM recipe; the other linear layers follow the recipe.
inline constexpr GemmRecipe kAlwaysBf16 = GemmRecipe::bf16;

// RoPE on the rotated dimensions of q (every query head) and k (every K head; MLA: its one shared
// decoupled key), in place: reads and writes them once. It keeps nothing: its backward rotates the
// gradient back from the positions alone.
Op rope(const std::string& name, int64_t width, std::vector<TensorRef> inputs);

// A copy of a saved tensor in the storage format the run chose for it (training.saved_activations),
// written after its producer; the op that keeps it keeps this copy. A block-scaled cast like the FP8
// input casts (DeepSeek-V3 3.3.3 caches E5M6 with power-of-2 scales per tile), so it is priced on the
// measured FP8 quantize kernel with its own bytes.
Op storage_cast(const std::string& sub, const std::string& of, double values, const StorageFormat& format);

// The run's storage format for each saved tensor whose role it chose.
void apply_storage(std::vector<Op>& ops, const SavedActivationsSpec& keep);

// DeepSeek-V4's attention sublayer in a layer of compression ratio `ratio` (compressed_attention.cpp).
std::vector<Op> compressed_attention_ops(const Scenario& s, int64_t ratio);

}  // namespace mhc::ops
