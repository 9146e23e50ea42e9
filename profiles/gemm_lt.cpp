#include "gemm_lt.h"

#include <cublasLt.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "cuda_check.h"
#include "layer_kernels.h"
#include "profile_builder.h"

#define MHC_LT_CHECK(call)                                                                              \
  do {                                                                                                  \
    cublasStatus_t st_ = (call);                                                                        \
    if (st_ != CUBLAS_STATUS_SUCCESS)                                                                   \
      ::mhc::profiler::throw_failure(#call, "cublasStatus " + std::to_string(int(st_)), __FILE__, __LINE__); \
  } while (0)

namespace mhc::profiler {

namespace {

// Autotuning times each candidate this briefly; the winner is then measured in full like any op.
constexpr int kTuneWarmup = 1, kTuneRuns = 3;

cudaDataType_t input_type(DType t) {
  switch (t) {
    case DType::fp8: return CUDA_R_8F_E4M3;
    case DType::bf16: return CUDA_R_16BF;
    default: return CUDA_R_32F;
  }
}

FillType fill_type(DType t) {
  switch (t) {
    case DType::fp8: return FillType::fp8_e4m3;
    case DType::bf16: return FillType::bf16;
    default: return FillType::fp32;
  }
}

}  // namespace

struct LtGemm::Impl {
  GemmProblem p;
  cublasLtHandle_t handle = nullptr;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a_layout = nullptr, b_layout = nullptr, d_layout = nullptr;
  std::vector<cublasLtMatmulAlgo_t> candidates;  // in the heuristic's order
  cublasLtMatmulAlgo_t algo{};
  void* workspace = nullptr;
  size_t workspace_bytes = 64ull << 20;
  std::vector<void*> a, w, d;
  int current = 0;
  float alpha = 1.0f, beta = 0.0f;
};

LtGemm::LtGemm(const GemmProblem& problem, int input_sets, uint64_t seed) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.p = problem;
  const GemmProblem& p = problem;
  if (p.m <= 0 || p.n <= 0 || p.k <= 0 || p.groups <= 0 || input_sets <= 0)
    throw std::invalid_argument("GEMM dimensions and input sets must be > 0");
  MHC_LT_CHECK(cublasLtCreate(&s.handle));
  const cudaDataType_t in = input_type(p.dtype);
  const cudaDataType_t out = p.dtype == DType::tf32 || p.dtype == DType::fp32 ? CUDA_R_32F : CUDA_R_16BF;
  const cublasComputeType_t compute = p.dtype == DType::tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  MHC_LT_CHECK(cublasLtMatmulDescCreate(&s.desc, compute, CUDA_R_32F));
  // Column-major view of the row-major problem: D^T (n x m) = W^T (n x k) * A^T (k x m). cuBLASLt's fp8
  // kernels want the "TN" form, so W is stored k-major and transposed: op(Wmat) = T, op(Amat) = N.
  const cublasOperation_t transa = CUBLAS_OP_T, transb = CUBLAS_OP_N;
  MHC_LT_CHECK(cublasLtMatmulDescSetAttribute(s.desc, CUBLASLT_MATMUL_DESC_TRANSA, &transa, sizeof transa));
  MHC_LT_CHECK(cublasLtMatmulDescSetAttribute(s.desc, CUBLASLT_MATMUL_DESC_TRANSB, &transb, sizeof transb));
  MHC_LT_CHECK(cublasLtMatrixLayoutCreate(&s.a_layout, in, p.k, p.n, p.k));  // W: k x n, ld k, transposed
  MHC_LT_CHECK(cublasLtMatrixLayoutCreate(&s.b_layout, in, p.k, p.m, p.k));  // A: k x m, ld k
  MHC_LT_CHECK(cublasLtMatrixLayoutCreate(&s.d_layout, out, p.n, p.m, p.n)); // D: n x m, ld n
  if (p.groups > 1) {
    const int32_t batch = static_cast<int32_t>(p.groups);
    const int64_t strides[3] = {p.k * p.n, p.k * p.m, p.n * p.m};
    cublasLtMatrixLayout_t layouts[3] = {s.a_layout, s.b_layout, s.d_layout};
    for (int i = 0; i < 3; ++i) {
      MHC_LT_CHECK(cublasLtMatrixLayoutSetAttribute(layouts[i], CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch));
      MHC_LT_CHECK(cublasLtMatrixLayoutSetAttribute(layouts[i], CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                                    &strides[i], sizeof strides[i]));
    }
  }
  MHC_CUDA_CHECK(cudaMalloc(&s.workspace, s.workspace_bytes));

  cublasLtMatmulPreference_t pref = nullptr;
  MHC_LT_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  MHC_LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &s.workspace_bytes,
                                                    sizeof s.workspace_bytes));
  cublasLtMatmulHeuristicResult_t results[kMaxCandidates]{};
  int found = 0;
  MHC_LT_CHECK(cublasLtMatmulAlgoGetHeuristic(s.handle, s.desc, s.a_layout, s.b_layout, s.d_layout, s.d_layout, pref,
                                              kMaxCandidates, results, &found));
  MHC_LT_CHECK(cublasLtMatmulPreferenceDestroy(pref));
  for (int i = 0; i < found; ++i)
    if (results[i].state == CUBLAS_STATUS_SUCCESS) s.candidates.push_back(results[i].algo);
  if (s.candidates.empty()) throw std::runtime_error("cuBLASLt has no algorithm for this GEMM");
  s.algo = s.candidates.front();

  const size_t in_bytes = static_cast<size_t>(dtype_bytes(p.dtype));
  const size_t out_bytes = out == CUDA_R_32F ? 4 : 2;
  const size_t g = static_cast<size_t>(p.groups);
  for (int i = 0; i < input_sets; ++i) {
    void *a = nullptr, *w = nullptr, *d = nullptr;
    MHC_CUDA_CHECK(cudaMalloc(&a, g * p.m * p.k * in_bytes));
    MHC_CUDA_CHECK(cudaMalloc(&w, g * p.k * p.n * in_bytes));
    MHC_CUDA_CHECK(cudaMalloc(&d, g * p.m * p.n * out_bytes));
    fill_random_device(a, g * p.m * p.k, fill_type(p.dtype), seed + 3 * i);
    fill_random_device(w, g * p.k * p.n, fill_type(p.dtype), seed + 3 * i + 1);
    s.a.push_back(a), s.w.push_back(w), s.d.push_back(d);
  }
  MHC_CUDA_CHECK(cudaDeviceSynchronize());
}

LtGemm::~LtGemm() {
  Impl& s = *impl_;
  for (auto* v : {&s.a, &s.w, &s.d})
    for (void* ptr : *v) cudaFree(ptr);
  cudaFree(s.workspace);
  if (s.a_layout) cublasLtMatrixLayoutDestroy(s.a_layout);
  if (s.b_layout) cublasLtMatrixLayoutDestroy(s.b_layout);
  if (s.d_layout) cublasLtMatrixLayoutDestroy(s.d_layout);
  if (s.desc) cublasLtMatmulDescDestroy(s.desc);
  if (s.handle) cublasLtDestroy(s.handle);
}

void LtGemm::launch(cudaStream_t stream) {
  Impl& s = *impl_;
  MHC_LT_CHECK(cublasLtMatmul(s.handle, s.desc, &s.alpha, s.w[s.current], s.a_layout, s.a[s.current], s.b_layout,
                              &s.beta, s.d[s.current], s.d_layout, s.d[s.current], s.d_layout, &s.algo, s.workspace,
                              s.workspace_bytes, stream));
}

AlgorithmPick LtGemm::pick_fastest(ActivityTimer& timer, cudaStream_t stream) {
  Impl& s = *impl_;
  AlgorithmPick pick;
  pick.candidates = static_cast<int>(s.candidates.size());
  double best = 0.0;
  for (int i = 0; i < pick.candidates; ++i) {
    s.algo = s.candidates[i];
    auto samples = timer.time_calls([&](cudaStream_t st) { launch(st); }, [&] { rotate(); }, stream, kTuneWarmup, kTuneRuns);
    const double t = summarize(std::move(samples)).median;
    if (i == 0 || t < best) best = t, pick.rank = i;
  }
  s.algo = s.candidates[pick.rank];
  return pick;
}

std::string AlgorithmPick::describe() const {
  return "fastest of " + std::to_string(candidates) + " cuBLASLt heuristic candidates (median of " +
         std::to_string(kTuneRuns) + " after " + std::to_string(kTuneWarmup) + " warm-up each; the heuristic's #" +
         std::to_string(rank + 1) + ")";
}

void LtGemm::rotate() { impl_->current = (impl_->current + 1) % static_cast<int>(impl_->a.size()); }

double LtGemm::flops() const {
  const GemmProblem& p = impl_->p;
  return 2.0 * double(p.groups) * double(p.m) * double(p.n) * double(p.k);
}

double LtGemm::min_read_bytes() const {
  const GemmProblem& p = impl_->p;
  return dtype_bytes(p.dtype) * double(p.groups) * (double(p.m) * p.k + double(p.k) * p.n);
}

double LtGemm::min_write_bytes() const {
  const GemmProblem& p = impl_->p;
  const double out = p.dtype == DType::tf32 || p.dtype == DType::fp32 ? 4.0 : 2.0;
  return out * double(p.groups) * double(p.m) * double(p.n);
}

double LtGemm::min_bytes(const GemmProblem& p) {
  const double out = p.dtype == DType::tf32 || p.dtype == DType::fp32 ? 4.0 : 2.0;
  return double(p.groups) * (dtype_bytes(p.dtype) * (double(p.m) * p.k + double(p.k) * p.n) + out * double(p.m) * p.n);
}

std::string LtGemm::library_version() {
  const size_t v = cublasLtGetVersion();
  return std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." + std::to_string(v % 100);
}

}  // namespace mhc::profiler
