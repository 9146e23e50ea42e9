// mhc-profile --corun: copy bandwidth against SMs, a GEMM and the post-res kernel alone and at once
// (equal priorities, then post-res on the high-priority stream), and a GEMM beside a paced copy on
// communication-like SMs. Durations come from CUPTI kernel records (ActivityTimer).
#include "corun.h"

#include <iostream>
#include <sstream>

#include "corun_kernels.h"
#include "cuda_check.h"
#include "kernel_catalog.h"

namespace mhc::profiler {

namespace {

// A stream of the greatest or least priority the device offers.
cudaStream_t make_stream(bool high) {
  int least = 0, greatest = 0;
  MHC_CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
  cudaStream_t s = nullptr;
  MHC_CUDA_CHECK(cudaStreamCreateWithPriority(&s, cudaStreamNonBlocking, high ? greatest : least));
  return s;
}

std::vector<CorunSamples::Pair> pairs(const std::vector<ActivityTimer::PairTiming>& t) {
  std::vector<CorunSamples::Pair> out;
  for (const auto& p : t) out.push_back({p.a_s, p.b_s, p.span_s});
  return out;
}

}  // namespace

ProfileCorun measure_corun(Measurer& m, const CorunSettings& cfg) {
  ActivityTimer& timer = m.timer();
  int device = 0, sms = 0;
  MHC_CUDA_CHECK(cudaGetDevice(&device));
  MHC_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const int warmup = cfg.warmup, runs = cfg.runs;
  cudaStream_t low = make_stream(false), other = make_stream(false), high = make_stream(true);
  auto nothing = [] {};
  const unsigned long long gate_ns = 200000;  // 0.2 ms: both launches are queued long before it ends
  auto gate = [gate_ns](cudaStream_t s) { launch_gate(gate_ns, s); };

  CorunSamples s;
  // 1. Copy bandwidth against SMs: 8, 16, ... (green contexts partition SMs in multiples of 8 on
  //    Hopper: CUDA Programming Guide, "Green Contexts") and the whole GPU.
  std::cerr << "mhc-profile: co-run: copy bandwidth against SMs\n";
  s.copy_bytes = double(size_t(1) << 30);
  void *src = nullptr, *dst = nullptr;
  MHC_CUDA_CHECK(cudaMalloc(&src, size_t(s.copy_bytes)));
  MHC_CUDA_CHECK(cudaMalloc(&dst, size_t(s.copy_bytes)));
  MHC_CUDA_CHECK(cudaMemset(src, 1, size_t(s.copy_bytes)));
  std::vector<int> counts;
  for (int k = 8; k < sms; k += 8) counts.push_back(k);
  counts.push_back(sms);
  for (int k : counts)
    s.copy_by_sms.push_back(
        {k, timer.time_calls([&](cudaStream_t st) { launch_sm_copy(dst, src, size_t(s.copy_bytes), k, 0.0, st); },
                             nothing, low, warmup, runs)});

  // 2. The pair alone.
  std::cerr << "mhc-profile: co-run: GEMM and post-res, alone and at once\n";
  LtGemm gemm(cfg.gemm, 2, 4242);
  gemm.pick_fastest(timer, low);
  s.gemm_shape.m = cfg.gemm.m, s.gemm_shape.gemm_n = cfg.gemm.n, s.gemm_shape.k = cfg.gemm.k;
  s.gemm_shape.groups = cfg.gemm.groups, s.gemm_shape.dtype = cfg.gemm.dtype;
  s.gemm_alone = timer.time_calls([&](cudaStream_t st) { gemm.launch(st); }, [&] { gemm.rotate(); }, low, warmup, runs);
  kernels::KernelShape shape;
  shape.n = cfg.n, shape.C = cfg.C, shape.tokens = cfg.tokens;
  auto post = kernels::make_kernel_instance("mhc_fused.post_res_fwd", shape, 4243, 2);
  s.post_res_shape.n = cfg.n, s.post_res_shape.C = cfg.C, s.post_res_shape.tokens = cfg.tokens;
  s.post_res_alone =
      timer.time_calls([&](cudaStream_t st) { post->launch(st); }, [&] { post->rotate(); }, low, warmup, runs);

  // 3. At once: equal priorities, then post-res on the high-priority stream.
  auto rotate_both = [&] { gemm.rotate(), post->rotate(); };
  auto run_gemm = [&](cudaStream_t st) { gemm.launch(st); };
  auto run_post = [&](cudaStream_t st) { post->launch(st); };
  s.same_priority = pairs(timer.time_pairs(gate, run_gemm, low, run_post, other, rotate_both, warmup, runs));
  s.post_res_high_priority = pairs(timer.time_pairs(gate, run_gemm, low, run_post, high, rotate_both, warmup, runs));

  // 4. The GEMM beside a communication-like copy: copy_sms SMs paced to copy_Bps, sized to last about
  //    as long as the GEMM alone.
  std::cerr << "mhc-profile: co-run: GEMM beside a paced copy\n";
  s.copy_sms = cfg.copy_sms;
  const double gemm_alone = summarize(s.gemm_alone).median;
  s.paced_copy_bytes = std::min(s.copy_bytes, double(size_t(cfg.copy_Bps * gemm_alone) / 16 * 16));
  const size_t paced = size_t(s.paced_copy_bytes);
  auto run_copy = [&](cudaStream_t st) { launch_sm_copy(dst, src, paced, cfg.copy_sms, cfg.copy_Bps, st); };
  s.paced_copy_alone = timer.time_calls(run_copy, nothing, other, warmup, runs);
  s.gemm_beside_copy = pairs(timer.time_pairs(gate, run_gemm, low, run_copy, other, [&] { gemm.rotate(); }, warmup, runs));

  cudaFree(src);
  cudaFree(dst);
  for (cudaStream_t st : {low, other, high}) cudaStreamDestroy(st);
  std::ostringstream method;
  method << "mhc-profile --corun: CUPTI kernel records, median of " << runs << " after " << warmup
         << " warm-up; copy: profiles/corun_kernels.cu, one 1024-thread block per SM (more than half an SM's "
            "shared memory each), 1 GiB; GEMM: cuBLASLt, fastest heuristic candidate; post-res: "
            "mhc_fused.post_res_fwd; pairs released together after a 0.2 ms gate kernel, on two streams of "
            "the least priority, then with post-res on the greatest; the paced copy runs on "
         << cfg.copy_sms << " SMs at " << cfg.copy_Bps / 1e9 << " GB/s read";
  s.method = method.str();
  return make_corun(s);
}

}  // namespace mhc::profiler
