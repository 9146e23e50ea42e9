// Builders for the ops of a transformer layer (model stage internals): GEMMs by precision recipe with
// the FP8 casts they need, memory-bound elementwise ops with their bytes, and their backward ops.
// FLOPs count 2 per multiply-add; bytes are per token of the op's share.
#pragma once

#include <string>
#include <vector>

#include "model/model.h"

namespace mhc::ops {

inline constexpr double kAct = 2.0;  // activations and their gradients are bf16

// The profile kernel that runs a GEMM of `recipe`: cuBLASLt-class "gemm" (bf16, per-tensor fp8) or
// the block-scaled FP8 GEMM (1x128 / 128x128 scales, DeepGEMM-class), grouped for MoE experts.
std::string gemm_kernel(GemmRecipe recipe);

// Y[rows, n] = X[rows, k] W[k, n] (per group) in `recipe`; reads X in the GEMM dtype, writes Y bf16.
Op gemm(const std::string& sub, const std::string& name, double m_per_token, int64_t n, int64_t k, int64_t groups,
        GemmRecipe recipe);

// A memory-bound op over rows of `width` values: explicit bytes and FLOPs per token; `C` is the row
// width a profile entry of `kernel` names.
Op elementwise(const std::string& sub, const std::string& name, const std::string& kernel, OpKind kind,
               int64_t width, double read_bytes, double write_bytes, double flops);
// The usual case: reads `read` and writes `write` bf16 values per token, `flops_per_elem` each.
Op bf16_elementwise(const std::string& sub, const std::string& name, const std::string& kernel, OpKind kind,
                    int64_t width, double read, double write, double flops_per_elem);
Op rmsnorm(const std::string& sub, const std::string& name, int64_t width);

// The cast of a GEMM input of `width` values per row to FP8 before the GEMM (nothing for bf16):
// block recipe: 1x128 tiles, one fp32 scale per 128 values (DeepSeek-V3 3.3.2); tensor recipe: the
// cast writes the row-major copy and the transposed copy the weight gradient reads (Transformer
// Engine's cast-transpose), FP8 GEMMs on Hopper taking K-major operands only.
void add_input_cast(std::vector<Op>& ops, const std::string& sub, const std::string& name, int64_t width,
                    double rows_per_token, GemmRecipe recipe);

// Whether an op is an FP8 cast (it has no backward op of its own).
bool is_cast(const Op& op);

// How a tensor of `dtype` is kept (bf16 16 bits, fp32 32, fp8 8 without scales), and how a GEMM of
// `recipe` keeps its input: the copy it was cast to (block recipe: FP8 with 1x128 fp32 scales).
StorageFormat format_of(DType dtype);
StorageFormat gemm_input_format(GemmRecipe recipe);
// A tensor the op reads, written by the op before it in its list (wire() names it).
TensorRef from_previous(double values, const StorageFormat& format);
// The op's own intermediate of `what` ("lse", "rstd", "mask"), kept for its backward.
SavedTensor own(const Op& op, const std::string& what, double values, const StorageFormat& format);
// The op reads (and keeps, where it keeps its input) the output of `producer` instead of the previous op's.
void reads(Op& op, const std::string& producer);
// Names every input left to "the previous op": the output of the op before it, or `first_input` (a
// tensor from outside the list, e.g. "attn.input") for the first; saved copies of an input follow it.
void wire(std::vector<Op>& ops, const std::string& first_input);
// Bytes per token of the op's share that its backward reads from what the forward kept.
double saved_bytes(const Op& op);

// Backward of a forward op, appended to plan.backward_input (and backward_weight for GEMMs): a GEMM's
// input gradient dX = dY W^T and weight gradient dW = X^T dY on their own problems, with the FP8
// casts of dY (and, block recipe, X re-quantised transposed from its saved 1x128 tiles); attention
// backward does 2.5x the forward FLOPs (five matmuls against two); norms and elementwise ops read the
// output gradient and the saved input and write the input gradient.
void add_backward(const Op& forward, OpPlan& plan);

// An op outside the tensor-parallel regions: with sequence parallelism it runs on T/tp tokens.
Op sequence_parallel(Op op, int64_t tp);

}  // namespace mhc::ops
