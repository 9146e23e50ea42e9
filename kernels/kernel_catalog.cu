// kernel_catalog.h implemented over the host API (mhc_api.h). Every instance owns its device buffers:
// `input_sets` independent sets of inputs filled on the device with random values (never zero) and
// one set of outputs; min_read_bytes / min_write_bytes are the sizes of one input set and of the
// outputs, i.e. each buffer touched once.
#include "kernel_catalog.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <stdexcept>

#include "launch_util.h"
#include "mhc_api.h"

namespace mhc::kernels {
namespace {

enum class Type { bf16, f32 };

struct BufSpec {
  int64_t elems;
  Type type;
  float lo, hi;  // fill range for inputs
  size_t bytes() const { return size_t(elems) * (type == Type::bf16 ? 2 : 4); }
};

// Deterministic counter-based uniform values (splitmix64), never exactly zero.
__device__ __forceinline__ float uniform_at(uint64_t seed, int64_t i, float lo, float hi) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * uint64_t(i + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  const float u = (float(z >> 40) + 0.5f) / float(1 << 24);  // in (0, 1)
  float v = lo + (hi - lo) * u;
  if (v == 0.f) v = 1e-3f * (hi - lo);
  return v;
}

__global__ void fill_kernel(void* p, int64_t n, int is_bf16, uint64_t seed, float lo, float hi) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float v = uniform_at(seed, i, lo, hi);
    if (is_bf16) static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16(v);
    else static_cast<float*>(p)[i] = v;
  }
}

class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes) { MHC_CUDA_CHECK(cudaMalloc(&ptr_, std::max<size_t>(bytes, 16))); }
  ~DeviceBuffer() { cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
};

using Ptrs = std::vector<void*>;
using LaunchFn = std::function<void(const Ptrs& in, const Ptrs& out, cudaStream_t)>;

struct Recipe {
  std::vector<BufSpec> inputs, outputs, scratch;  // scratch: intermediates of multi-launch ops, not counted
  LaunchFn launch;
};

class BufferedInstance final : public KernelInstance {
 public:
  BufferedInstance(Recipe r, uint64_t seed, int sets) : recipe_(std::move(r)) {
    if (sets < 1) throw std::invalid_argument("make_kernel_instance: input_sets must be >= 1");
    for (int s = 0; s < sets; ++s) {
      inputs_.emplace_back();
      for (size_t k = 0; k < recipe_.inputs.size(); ++k) {
        const BufSpec& b = recipe_.inputs[k];
        inputs_.back().push_back(std::make_unique<DeviceBuffer>(b.bytes()));
        const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((b.elems + 255) / 256, 4096));
        if (b.elems > 0) {
          fill_kernel<<<blocks, 256>>>(inputs_.back().back()->get(), b.elems, b.type == Type::bf16,
                                       seed * 1000003ull + s * 131ull + k, b.lo, b.hi);
          MHC_CUDA_CHECK_LAUNCH("fill_kernel");
        }
      }
    }
    for (const BufSpec& b : recipe_.outputs) outputs_.push_back(std::make_unique<DeviceBuffer>(b.bytes()));
    for (const BufSpec& b : recipe_.scratch) scratch_.push_back(std::make_unique<DeviceBuffer>(b.bytes()));
    MHC_CUDA_CHECK(cudaDeviceSynchronize());
  }

  void launch(cudaStream_t stream) override {
    Ptrs in, out;
    for (const auto& b : inputs_[current_]) in.push_back(b->get());
    for (const auto& b : outputs_) out.push_back(b->get());
    for (const auto& b : scratch_) out.push_back(b->get());
    recipe_.launch(in, out, stream);
  }
  void rotate() override { current_ = (current_ + 1) % int(inputs_.size()); }
  double min_read_bytes() const override {
    double sum = 0;
    for (const BufSpec& b : recipe_.inputs) sum += double(b.bytes());
    return sum;
  }
  double min_write_bytes() const override {
    double sum = 0;
    for (const BufSpec& b : recipe_.outputs) sum += double(b.bytes());
    return sum;
  }

 private:
  Recipe recipe_;
  std::vector<std::vector<std::unique_ptr<DeviceBuffer>>> inputs_;
  std::vector<std::unique_ptr<DeviceBuffer>> outputs_, scratch_;
  int current_ = 0;
};

template <typename P>
P* as(void* p) {
  return static_cast<P*>(p);
}

Recipe recipe_for(const std::string& id, const KernelShape& shape) {
  const MhcSize s{shape.n, shape.C, shape.tokens};
  check_size(s);
  const int n = s.n, m = s.m(), it = shape.sinkhorn_iters;
  const int64_t T = s.T, C = s.C, nC = s.nC();
  const float phi_scale = 1.0f / std::sqrt(float(nC));
  // Inputs in the ranges they take in training: activations ~U(-1, 1); phi scaled like an init;
  // gates a ~ 0.01 (the paper's init) scaled up so the mapping values vary; H in their ranges.
  const BufSpec x{T * nC, Type::bf16, -1.f, 1.f}, f{T * C, Type::bf16, -1.f, 1.f};
  const BufSpec dx{T * nC, Type::bf16, -1.f, 1.f}, dC{T * C, Type::bf16, -1.f, 1.f};
  const BufSpec phi{nC * m, Type::f32, -phi_scale, phi_scale};
  const BufSpec proj{T * (m + 1), Type::f32, 0.5f, 2.0f};  // sum of squares must be positive
  const BufSpec a{3, Type::f32, 0.01f, 1.0f}, b{m, Type::f32, -1.f, 1.f};
  const BufSpec coef{T * m, Type::f32, -1.f, 1.f}, logits{T * n * n, Type::f32, -1.f, 1.f};
  const BufSpec hres{T * n * n, Type::f32, 0.f, 2.f / float(n)}, hpre{T * n, Type::f32, 0.f, 1.f};
  const BufSpec hpost{T * n, Type::f32, 0.f, 2.f}, dh_n{T * n, Type::f32, -1.f, 1.f};
  const BufSpec dhres{T * n * n, Type::f32, -1.f, 1.f};
  const BufSpec da{3, Type::f32, 0, 0}, db{m, Type::f32, 0, 0};

  if (id == "mhc_fused.norm_proj_fwd")
    return {{x, phi}, {proj}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              norm_proj_fwd(s, as<bf16>(i[0]), as<float>(i[1]), as<float>(o[0]), st);
            }};
  if (id == "mhc_fused.mix_fwd")
    return {{proj, a, b}, {coef}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              mix_fwd(s, as<float>(i[0]), as<float>(i[1]), as<float>(i[2]), as<float>(o[0]), st);
            }};
  if (id == "mhc_fused.sinkhorn_fwd")
    return {{logits}, {hres}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              sinkhorn_fwd(n, T, as<float>(i[0]), n * n, as<float>(o[0]), it, st);
            }};
  if (id == "mhc_fused.pre_apply_fwd" || id == "mhc_unfused.apply_pre_fwd")
    return {{x, hpre}, {f}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              pre_apply_fwd(s, as<bf16>(i[0]), as<float>(i[1]), n, as<bf16>(o[0]), st);
            }};
  if (id == "mhc_fused.post_res_fwd")
    return {{x, f, hres, hpost}, {x}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              post_res_fwd(s, as<bf16>(i[0]), as<bf16>(i[1]), as<float>(i[2]), as<float>(i[3]), n, as<bf16>(o[0]), st);
            }};
  if (id == "mhc_fused.norm_proj_bwd")
    return {{x, phi, proj, dx, dC, hpre}, {dx, phi}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              norm_proj_bwd(s, as<bf16>(i[0]), as<float>(i[1]), as<float>(i[2]), as<bf16>(i[3]), as<bf16>(i[4]),
                            as<float>(i[5]), n, as<bf16>(o[0]), as<float>(o[1]), st);
            }};
  if (id == "mhc_fused.mix_bwd")
    return {{proj, a, b, coef}, {proj, da, db}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              mix_bwd(s, as<float>(i[0]), as<float>(i[1]), as<float>(i[2]), as<float>(i[3]), as<float>(o[0]),
                      as<float>(o[1]), as<float>(o[2]), st);
            }};
  if (id == "mhc_fused.sinkhorn_bwd")
    return {{logits, dhres}, {logits}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              sinkhorn_bwd(n, T, as<float>(i[0]), n * n, as<float>(i[1]), as<float>(o[0]), n * n, it, st);
            }};
  if (id == "mhc_fused.pre_apply_bwd")
    return {{dC, x}, {dh_n}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              pre_apply_bwd(s, as<bf16>(i[0]), as<bf16>(i[1]), as<float>(o[0]), n, st);
            }};
  if (id == "mhc_fused.post_res_bwd")
    return {{dx, x, f, hres, hpost}, {dx, dC, dhres, dh_n}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              post_res_bwd(s, as<bf16>(i[0]), as<bf16>(i[1]), as<bf16>(i[2]), as<float>(i[3]), as<float>(i[4]), n,
                           as<bf16>(o[0]), as<bf16>(o[1]), as<float>(o[2]), as<float>(o[3]), n, st);
            }};
  if (id == "mhc_unfused.compute_h_fwd")
    return {{x, phi, a, b}, {coef}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              compute_h_fwd(s, as<bf16>(i[0]), as<float>(i[1]), as<float>(i[2]), as<float>(i[3]), as<float>(o[0]), st);
            }};
  if (id == "mhc_unfused.apply_post_fwd")
    return {{f, hpost}, {x}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              apply_post_fwd(s, as<bf16>(i[0]), as<float>(i[1]), n, as<bf16>(o[0]), st);
            }};
  if (id == "mhc_unfused.apply_res_fwd")
    return {{x, hres}, {x}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              apply_res_fwd(s, as<bf16>(i[0]), as<float>(i[1]), as<bf16>(o[0]), st);
            }};
  if (id == "mhc_unfused.merge_fwd" || id == "mhc_unfused.merge_bwd")
    return {{x, x}, {x}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              merge_fwd(T * nC, as<bf16>(i[0]), as<bf16>(i[1]), as<bf16>(o[0]), st);
            }};
  if (id == "mhc_unfused.compute_h_bwd")
    return {{x, phi, proj, a, b, coef}, {dx, phi, da, db}, {proj}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              compute_h_bwd(s, as<bf16>(i[0]), as<float>(i[1]), as<float>(i[2]), as<float>(i[3]), as<float>(i[4]),
                            as<float>(i[5]), as<float>(o[4]), as<bf16>(o[0]), as<float>(o[1]), as<float>(o[2]),
                            as<float>(o[3]), st);
            }};
  if (id == "mhc_unfused.apply_pre_bwd")
    return {{dC, x, hpre}, {dx, dh_n}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              apply_pre_bwd(s, as<bf16>(i[0]), as<bf16>(i[1]), as<float>(i[2]), n, as<bf16>(o[0]), as<float>(o[1]), n, st);
            }};
  if (id == "mhc_unfused.apply_post_bwd")
    return {{dx, f, hpost}, {dC, dh_n}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              apply_post_bwd(s, as<bf16>(i[0]), as<bf16>(i[1]), as<float>(i[2]), n, as<bf16>(o[0]), as<float>(o[1]), n, st);
            }};
  if (id == "mhc_unfused.apply_res_bwd")
    return {{dx, x, hres}, {dx, dhres}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              apply_res_bwd(s, as<bf16>(i[0]), as<bf16>(i[1]), as<float>(i[2]), as<bf16>(o[0]), as<float>(o[1]), st);
            }};
  if (id == "residual.merge_fwd" || id == "residual.merge_bwd")
    return {{f, f}, {f}, {}, [=](const Ptrs& i, const Ptrs& o, cudaStream_t st) {
              merge_fwd(T * C, as<bf16>(i[0]), as<bf16>(i[1]), as<bf16>(o[0]), st);
            }};
  throw std::invalid_argument("make_kernel_instance: unknown kernel id '" + id + "'");
}

}  // namespace

const std::vector<KernelInfo>& kernel_catalog() {
  static const std::vector<KernelInfo> catalog = {
      {"mhc_fused.norm_proj_fwd", "x phi (tf32 tensor cores) and sum of squares, one pass over x", true, false},
      {"mhc_fused.mix_fwd", "1/r scaling, gates a, bias b, sigmoid / 2 sigmoid", true, false},
      {"mhc_fused.sinkhorn_fwd", "Sinkhorn-Knopp: exp, t_max column/row normalisations, fp32 on chip", true, false},
      {"mhc_fused.pre_apply_fwd", "layer input u = H_pre x, bf16 out", true, false},
      {"mhc_fused.post_res_fwd", "x_next = H_res x + H_post^T f (reads (n+1)C, writes nC)", true, false},
      {"mhc_fused.norm_proj_bwd", "dx (+ dx_in + H_pre^T du) and dphi in one pass over x", true, true},
      {"mhc_fused.mix_bwd", "d proj, d sum of squares, da, db", true, true},
      {"mhc_fused.sinkhorn_bwd", "d logits, iterations recomputed on chip", true, true},
      {"mhc_fused.pre_apply_bwd", "dH_pre = x . du (dx term folded into norm_proj_bwd)", true, true},
      {"mhc_fused.post_res_bwd", "dx = H_res^T dy, df = H_post dy, dH_res, dH_post", true, true},
      {"mhc_unfused.compute_h_fwd", "HC compute H's: norm + projection + mix, one pass over x", false, false},
      {"mhc_unfused.apply_pre_fwd", "HC apply H_pre", false, false},
      {"mhc_unfused.apply_post_fwd", "HC apply H_post: H_post^T f", false, false},
      {"mhc_unfused.apply_res_fwd", "HC apply H_res: H_res x", false, false},
      {"mhc_unfused.merge_fwd", "HC merge: sum of the two n-stream tensors", false, false},
      {"mhc_unfused.compute_h_bwd", "HC compute H's backward from saved proj (mix_bwd + norm_proj_bwd)", false, true},
      {"mhc_unfused.apply_pre_bwd", "HC apply H_pre backward: dx, dH_pre", false, true},
      {"mhc_unfused.apply_post_bwd", "HC apply H_post backward: df, dH_post", false, true},
      {"mhc_unfused.apply_res_bwd", "HC apply H_res backward: dx, dH_res", false, true},
      {"mhc_unfused.merge_bwd", "HC merge backward: accumulation of two n-stream gradients", false, true},
      {"residual.merge_fwd", "plain residual x + f", false, false},
      {"residual.merge_bwd", "plain residual backward: accumulation of two gradients", false, true},
  };
  return catalog;
}

std::unique_ptr<KernelInstance> make_kernel_instance(const std::string& id, const KernelShape& shape, uint64_t seed,
                                                     int input_sets) {
  return std::make_unique<BufferedInstance>(recipe_for(id, shape), seed, input_sets);
}

}  // namespace mhc::kernels
