#include "model/op_builders.h"

#include <algorithm>
#include <cmath>

namespace mhc {

GemmProblemDims gemm_problem(const GemmShape& g, double tokens) {
  const int64_t rows = std::llround(g.m_per_token * tokens);
  switch (g.role) {
    case GemmRole::forward: return {rows, g.n, g.k};
    case GemmRole::input_grad: return {rows, g.k, g.n};
    default: return {g.k, g.n, rows};
  }
}

namespace {
// Sum over t = 1..s of min(floor(t / r), cap) (cap 0: no cap): floor(t / r) = j on the r positions
// j r .. j r + r - 1, so the first q - 1 values of j fill whole runs and j = q = floor(s / r) the
// s - q r + 1 positions left; past t = cap r every position counts cap.
double sum_compressed_keys(int64_t s, int64_t r, int64_t cap) {
  auto uncapped = [r](int64_t n) {
    const double q = double(n / r);
    return double(r) * q * (q - 1.0) / 2.0 + q * double(n - (n / r) * r + 1);
  };
  if (cap <= 0 || cap * r > s) return uncapped(s);
  return uncapped(cap * r - 1) + double(cap) * double(s - cap * r + 1);
}
}  // namespace

double mean_keys_per_query(const AttentionShape& a) {
  const double s = double(a.seq);
  if (!a.causal) return s;
  if (a.compress_ratio > 0) {
    AttentionShape window = a;
    window.compress_ratio = window.compressed_topk = 0;
    return mean_keys_per_query(window) + sum_compressed_keys(a.seq, a.compress_ratio, a.compressed_topk) / s;
  }
  const int64_t limit = a.window > 0 ? a.window : a.sparse_topk;
  if (limit <= 0 || limit >= a.seq) return (s + 1.0) / 2.0;
  // Position i attends to min(i, w) keys: w (w + 1) / 2 over the first w positions, w after them.
  const double w = double(limit);
  return (w * (w + 1.0) / 2.0 + (s - w) * w) / s;
}

namespace ops {

namespace {

DType gemm_dtype(GemmRecipe r) { return r == GemmRecipe::bf16 ? DType::bf16 : DType::fp8; }
GemmRecipe recipe_of(const Op& gemm_op) {
  if (gemm_op.kernel == "gemm_fp8_block") return GemmRecipe::fp8_block;
  return gemm_op.gemm.dtype == DType::fp8 ? GemmRecipe::fp8_tensor : GemmRecipe::bf16;
}
// One fp32 scale per 128 values (1x128 activation tiles, DeepSeek-V3 section 3.3.2).
double block_scale_bytes(double values) { return std::ceil(values / 128.0) * 4.0; }

Op cast_op(const std::string& name, const std::string& kernel, const std::string& sub, int64_t width, double rows,
           double read_bytes, double write_bytes, Pass pass) {
  Op op = elementwise(sub, name, kernel, OpKind::elementwise, width, read_bytes, write_bytes, 3.0 * rows * double(width));
  op.name = name;  // already qualified
  op.pass = pass;
  op.rows_per_token = rows;
  op.inputs = {from_previous(rows * double(width), format_of(DType::bf16))};
  op.saved.clear();  // the gradient passes through a cast
  return op;
}

}  // namespace

StorageFormat format_of(DType dtype) {
  switch (dtype) {
    case DType::fp8: return {"fp8_tensor", 8, 0, 0};
    case DType::bf16: return {"bf16", 16, 0, 0};
    default: return {to_string(dtype), 32, 0, 0};
  }
}

StorageFormat gemm_input_format(GemmRecipe recipe) {
  if (recipe == GemmRecipe::fp8_block) return *builtin_storage_format("fp8");  // 1x128 tiles, fp32 scales
  return format_of(gemm_dtype(recipe));
}

TensorRef from_previous(double values, const StorageFormat& format) { return TensorRef{"", "", values, format}; }

SavedTensor own(const Op& op, const std::string& what, double values, const StorageFormat& format) {
  SavedTensor t;
  t.id = op.name + "." + what;
  t.producer = op.name;
  t.values = values;
  t.format = format;
  return t;
}

namespace {
// A saved copy of the op's first input (resolved by wire()).
SavedTensor kept_input(const Op& op) {
  SavedTensor t;
  static_cast<TensorRef&>(t) = op.inputs.front();
  return t;
}
// A backward op starts as a copy of its forward op, without the forward's activations bookkeeping.
Op backward_of(const Op& f) {
  Op b = f;
  b.inputs.clear();
  b.saved.clear();
  b.recompute = RecomputeMode::none;
  b.recompute_group.clear();
  b.recompute_reason.clear();
  return b;
}
}  // namespace

void reads(Op& op, const std::string& producer) {
  const std::string old = op.inputs.front().id;
  op.inputs.front().id = op.inputs.front().producer = producer;
  for (auto& t : op.saved)
    if (t.id == old && t.producer == old) t.id = t.producer = producer;
}

void wire(std::vector<Op>& ops, const std::string& first_input) {
  for (size_t i = 0; i < ops.size(); ++i) {
    Op& op = ops[i];
    const std::string prev = i == 0 ? first_input : ops[i - 1].name;
    const std::string prev_producer = i == 0 ? std::string() : ops[i - 1].name;
    for (auto& in : op.inputs)
      if (in.id.empty()) {
        in.id = prev;
        in.producer = prev_producer;
      }
    for (auto& t : op.saved)
      if (t.id.empty()) {
        t.id = op.inputs.front().id;
        t.producer = op.inputs.front().producer;
      }
  }
}

double saved_bytes(const Op& op) {
  double b = 0;
  for (const auto& t : op.saved) b += t.bytes();
  return b;
}

std::string gemm_kernel(GemmRecipe recipe) { return recipe == GemmRecipe::fp8_block ? "gemm_fp8_block" : "gemm"; }

Op gemm(const std::string& sub, const std::string& name, double m_per_token, int64_t n, int64_t k, int64_t groups,
        GemmRecipe recipe) {
  Op op;
  op.name = sub + "." + name;
  op.kernel = gemm_kernel(recipe);
  op.kind = OpKind::gemm;
  op.sublayer = sub;
  const DType dt = gemm_dtype(recipe);
  op.gemm = GemmShape{m_per_token, n, k, groups, dt, GemmRole::forward};
  const double rows = m_per_token * double(groups);  // rows per token over all groups
  op.rows_per_token = rows;
  op.stream_read_elems = rows * double(k);
  op.stream_write_elems = rows * double(n);
  op.read_bytes = op.stream_read_elems * dtype_bytes(dt);
  op.write_bytes = op.stream_write_elems * kAct;
  op.flops = 2.0 * rows * double(n) * double(k);
  // X for the weight gradient, in the copy the GEMM read (an FP8 recipe's cast: DeepSeek-V3 3.3.1).
  op.inputs = {from_previous(op.stream_read_elems, gemm_input_format(recipe))};
  op.saved = {kept_input(op)};
  return op;
}

Op elementwise(const std::string& sub, const std::string& name, const std::string& kernel, OpKind kind, int64_t width,
               double read_bytes, double write_bytes, double flops) {
  Op op;
  op.name = sub + "." + name;
  op.kernel = kernel;
  op.kind = kind;
  op.sublayer = sub;
  op.C = width;
  op.read_bytes = read_bytes;
  op.write_bytes = write_bytes;
  op.stream_read_elems = read_bytes / kAct;
  op.stream_write_elems = write_bytes / kAct;
  op.flops = flops;
  // By default it reads one bf16 tensor and keeps it for its backward; builders change what differs.
  op.inputs = {from_previous(read_bytes / kAct, format_of(DType::bf16))};
  op.saved = {kept_input(op)};
  return op;
}

Op bf16_elementwise(const std::string& sub, const std::string& name, const std::string& kernel, OpKind kind,
                    int64_t width, double read, double write, double flops_per_elem) {
  return elementwise(sub, name, kernel, kind, width, read * kAct, write * kAct, flops_per_elem * std::max(read, write));
}

Op rmsnorm(const std::string& sub, const std::string& name, int64_t width) {
  Op op = bf16_elementwise(sub, name, "rmsnorm_fwd", OpKind::norm, width, double(width), double(width), 4.0);
  op.saved.push_back(own(op, "rstd", 1.0, format_of(DType::fp32)));  // its input and 1 / rms per row
  return op;
}

void add_input_cast(std::vector<Op>& ops, const std::string& sub, const std::string& name, int64_t width,
                    double rows, GemmRecipe recipe) {
  if (recipe == GemmRecipe::bf16) return;
  const double values = rows * double(width);
  const double written = recipe == GemmRecipe::fp8_block ? values + block_scale_bytes(values) : 2.0 * values;
  ops.push_back(cast_op(sub + "." + name + ".cast", "fp8_quantize_fwd", sub, width, rows, values * kAct, written,
                        Pass::forward));
}

bool is_cast(const Op& op) { return op.kernel.rfind("fp8_", 0) == 0; }

void add_backward(const Op& f, OpPlan& plan) {
  if (is_cast(f) || f.forward_only) return;  // no gradient of its own
  if (f.kind == OpKind::gemm) {
    const GemmRecipe recipe = recipe_of(f);
    const double rows = f.gemm.m_per_token * double(f.gemm.groups);
    const double dy = rows * double(f.gemm.n), x = rows * double(f.gemm.k), dt = dtype_bytes(f.gemm.dtype);
    if (recipe != GemmRecipe::bf16) {
      // dY cast once for both gradients: row tiles for dgrad, column tiles (transposed) for wgrad.
      const double scales = recipe == GemmRecipe::fp8_block ? 2.0 * block_scale_bytes(dy) : 0.0;
      plan.backward_input.push_back(cast_op(f.name + ".dy_cast", "fp8_quantize_bwd", f.sublayer, f.gemm.n, rows,
                                            dy * kAct, 2.0 * dy + scales, Pass::backward_input));
    }
    Op b = backward_of(f);
    b.pass = Pass::backward_input;
    b.name += ".dgrad";
    b.gemm.role = GemmRole::input_grad;
    b.stream_read_elems = dy;
    b.stream_write_elems = x;
    b.read_bytes = dy * dt;
    b.write_bytes = x * kAct;
    plan.backward_input.push_back(b);
    // Block recipe: X was saved in 1x128 tiles; wgrad reduces over tokens and needs 128x1 tiles, so X
    // is read, dequantised, transposed and re-quantised (DeepSeek-V3 3.5.2). GEMMs that share their
    // input share its transposed copy.
    const std::string& x_id = f.inputs.front().id;
    const bool transposed = std::any_of(plan.backward_weight.begin(), plan.backward_weight.end(), [&](const Op& o) {
      return o.kernel == "fp8_requantize_transpose_bwd" && !o.inputs.empty() && o.inputs.front().id == x_id;
    });
    if (recipe == GemmRecipe::fp8_block && !transposed) {
      plan.backward_weight.push_back(cast_op(f.name + ".x_transpose", "fp8_requantize_transpose_bwd", f.sublayer,
                                             f.gemm.k, rows, x + block_scale_bytes(x), x + block_scale_bytes(x),
                                             Pass::backward_weight));
      plan.backward_weight.back().inputs = {f.inputs.front()};
    }
    Op w = backward_of(f);
    w.pass = Pass::backward_weight;
    w.name += ".wgrad";
    w.gemm.role = GemmRole::weight_grad;
    w.stream_read_elems = x + dy;
    w.stream_write_elems = 0;
    w.read_bytes = (x + dy) * dt;
    w.write_bytes = 0;
    plan.backward_weight.push_back(w);
    return;
  }
  Op b = backward_of(f);
  b.pass = Pass::backward_input;
  b.name += ".bwd";
  if (f.kind == OpKind::attention) {
    b.kernel = "attention_bwd";
    b.flops = 2.5 * f.flops;
    b.stream_read_elems = f.stream_read_elems + 2 * f.stream_write_elems;  // q, k, v, o, do
    b.stream_write_elems = f.stream_read_elems;                            // dq, dk, dv
    b.read_bytes = b.stream_read_elems * kAct;
    b.write_bytes = b.stream_write_elems * kAct;
    plan.backward_input.push_back(b);
    return;
  }
  if (b.kernel.size() > 4 && b.kernel.compare(b.kernel.size() - 4, 4, "_fwd") == 0)
    b.kernel = b.kernel.substr(0, b.kernel.size() - 4) + "_bwd";
  // The output gradient and what the forward kept in, the input gradient out.
  const double kept = saved_bytes(f);
  b.read_bytes = f.write_bytes + kept;
  b.write_bytes = f.read_bytes;
  b.stream_read_elems = f.stream_write_elems + kept / kAct;
  b.stream_write_elems = f.stream_read_elems;
  b.flops = 2.0 * f.flops;
  plan.backward_input.push_back(b);
}

Op sequence_parallel(Op op, int64_t tp) {
  op.token_share = 1.0 / double(tp);
  return op;
}

}  // namespace ops
}  // namespace mhc
