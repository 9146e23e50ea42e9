// bench_kernels: times every mHC kernel of the catalog (cudaEvent, median of many runs after warm-up,
// input sets rotated so repeated runs do not hit in L2) and prints the achieved bandwidth (bytes the
// kernel must move / time) as a fraction of the device-to-device copy bandwidth measured in the same
// run. A benchmark, not a test. Two times per kernel: `time_us`, each launch bracketed by its own
// events (median over runs), and `stream_us`, launches back to back in batches of 20 between two
// events (median of the batch means), which drops the per-launch event and launch floor that
// dominates the few-microsecond kernels (the floor itself is printed, from an empty kernel).
//   bench_kernels [--n 1,2,4,8] [--C 1280,2560,4096,7168] [--T 16384] [--kernels SUBSTR,...]
//                 [--reps 50] [--warmup 5] [--sets 3] [--iters 20] [--list]
#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "core/cli_args.h"
#include "core/json_input.h"
#include "cuda_check.h"
#include "kernel_catalog.h"
#include "mhc_api.h"

namespace {

using namespace mhc::kernels;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Device-to-device copy bandwidth, counting bytes read plus bytes written (as STREAM's
// Copy counts 2 x 8 bytes per element, McCalpin's STREAM benchmark).
double copy_bandwidth(int reps) {
  const size_t bytes = size_t(1) << 30;
  void *src = nullptr, *dst = nullptr;
  MHC_CUDA_CHECK(cudaMalloc(&src, bytes));
  MHC_CUDA_CHECK(cudaMalloc(&dst, bytes));
  MHC_CUDA_CHECK(cudaMemset(src, 0x3c, bytes));
  cudaEvent_t a, b;
  MHC_CUDA_CHECK(cudaEventCreate(&a));
  MHC_CUDA_CHECK(cudaEventCreate(&b));
  std::vector<double> times;
  for (int r = 0; r < reps + 3; ++r) {
    MHC_CUDA_CHECK(cudaEventRecord(a));
    MHC_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice));
    MHC_CUDA_CHECK(cudaEventRecord(b));
    MHC_CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    MHC_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    if (r >= 3) times.push_back(ms * 1e-3);
  }
  MHC_CUDA_CHECK(cudaEventDestroy(a));
  MHC_CUDA_CHECK(cudaEventDestroy(b));
  MHC_CUDA_CHECK(cudaFree(src));
  MHC_CUDA_CHECK(cudaFree(dst));
  return 2.0 * double(bytes) / median(times);
}

struct Timing {
  double single = 0;  // one launch between two events, median
  double stream = 0;  // back-to-back launches, median of batch means
};

template <typename Launch>
Timing time_launches(Launch&& launch, int warmup, int reps) {
  constexpr int kBatch = 20;
  cudaEvent_t a, b;
  MHC_CUDA_CHECK(cudaEventCreate(&a));
  MHC_CUDA_CHECK(cudaEventCreate(&b));
  for (int r = 0; r < warmup; ++r) launch();
  MHC_CUDA_CHECK(cudaDeviceSynchronize());
  auto elapsed = [&] {
    float ms = 0;
    MHC_CUDA_CHECK(cudaEventSynchronize(b));
    MHC_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    return ms * 1e-3;
  };
  std::vector<double> single, batch;
  for (int r = 0; r < reps; ++r) {
    MHC_CUDA_CHECK(cudaEventRecord(a));
    launch();
    MHC_CUDA_CHECK(cudaEventRecord(b));
    single.push_back(elapsed());
  }
  for (int r = 0; r < std::max(3, reps / kBatch); ++r) {
    MHC_CUDA_CHECK(cudaEventRecord(a));
    for (int q = 0; q < kBatch; ++q) launch();
    MHC_CUDA_CHECK(cudaEventRecord(b));
    batch.push_back(elapsed() / kBatch);
  }
  MHC_CUDA_CHECK(cudaEventDestroy(a));
  MHC_CUDA_CHECK(cudaEventDestroy(b));
  return {median(single), median(batch)};
}

int run(const std::vector<std::string>& argv) {
  const mhc::CliArgs args("bench_kernels", argv,
                          {"--n", "--C", "--T", "--kernels", "--reps", "--warmup", "--sets", "--iters"}, {"--list"});
  if (args.flag("--list")) {
    for (const KernelInfo& k : kernel_catalog()) std::printf("%-28s %s\n", k.id.c_str(), k.description.c_str());
    return 0;
  }
  auto ints = [&](const std::string& flag, std::vector<double> fallback) {
    std::vector<int64_t> out;
    for (double v : args.has(flag) ? args.number_list(flag) : fallback) {
      if (v <= 0 || v != double(int64_t(v))) throw mhc::InputError("bench_kernels", flag, "expected positive integers");
      out.push_back(int64_t(v));
    }
    return out;
  };
  const std::vector<int64_t> ns = ints("--n", {1, 2, 4, 8});
  const std::vector<int64_t> Cs = ints("--C", {1280, 2560, 4096, 7168});
  const int64_t T = args.integer_or("--T", 16384);
  const int reps = int(args.integer_or("--reps", 50)), warmup = int(args.integer_or("--warmup", 5));
  const int sets = int(args.integer_or("--sets", 3)), iters = int(args.integer_or("--iters", 20));
  if (T <= 0 || reps <= 0 || warmup < 0 || sets <= 0 || iters <= 0)
    throw mhc::InputError("bench_kernels", "--T/--reps/--sets/--iters", "expected positive values");
  const std::vector<std::string> filters = args.has("--kernels") ? split(*args.get("--kernels")) : std::vector<std::string>{};
  std::vector<KernelInfo> chosen;
  for (const KernelInfo& k : kernel_catalog()) {
    bool keep = filters.empty();
    for (const std::string& f : filters) keep = keep || k.id.find(f) != std::string::npos;
    if (keep) chosen.push_back(k);
  }
  if (chosen.empty()) throw mhc::InputError("bench_kernels", "--kernels", "no kernel id matches (see --list)");

  int dev = 0, driver = 0, runtime = 0;
  MHC_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp prop{};
  MHC_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  MHC_CUDA_CHECK(cudaDriverGetVersion(&driver));
  MHC_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  std::printf("device: %s (sm_%d%d, %d SMs, L2 %d MB)  driver API %d.%d  runtime %d.%d\n", prop.name, prop.major,
              prop.minor, prop.multiProcessorCount, prop.l2CacheSize >> 20, driver / 1000, (driver % 1000) / 10,
              runtime / 1000, (runtime % 1000) / 10);
  const double copy_bw = copy_bandwidth(20);
  std::printf("device-to-device copy: %.0f GB/s (read + write, 1 GiB, median of 20)\n", copy_bw * 1e-9);
  const Timing floor = time_launches([] { empty_kernel(nullptr); }, warmup, reps);
  std::printf("empty kernel: %.2f us per launch between events, %.2f us back to back\n", floor.single * 1e6,
              floor.stream * 1e6);
  std::printf("T = %lld, Sinkhorn iterations %d, %d warm-up + median of %d runs, %d input sets rotated\n\n",
              static_cast<long long>(T), iters, warmup, reps, sets);
  std::printf("%-28s %2s %5s %10s %10s %10s %9s %7s\n", "kernel", "n", "C", "time_us", "stream_us", "MB_moved",
              "GB/s", "of_copy");

  for (int64_t n : ns)
    for (int64_t C : Cs) {
      std::map<std::string, double> t_of;
      for (const KernelInfo& k : chosen) {
        const KernelShape shape{int(n), C, T, iters};
        auto inst = make_kernel_instance(k.id, shape, 1234, sets);
        const Timing tm = time_launches(
            [&] {
              inst->rotate();
              inst->launch(nullptr);
            },
            warmup, reps);
        const double t = tm.single;
        const double bytes = inst->min_read_bytes() + inst->min_write_bytes();
        t_of[k.id] = tm.stream;
        std::printf("%-28s %2lld %5lld %10.2f %10.2f %10.2f %9.0f %6.1f%%\n", k.id.c_str(), static_cast<long long>(n),
                    static_cast<long long>(C), t * 1e6, tm.stream * 1e6, bytes * 1e-6, bytes / t * 1e-9,
                    100.0 * bytes / t / copy_bw);
        std::fflush(stdout);
      }
      const char* pre[] = {"mhc_fused.norm_proj_fwd", "mhc_fused.mix_fwd", "mhc_fused.sinkhorn_fwd",
                           "mhc_fused.pre_apply_fwd"};
      if (std::all_of(std::begin(pre), std::end(pre), [&](const char* id) { return t_of.count(id) > 0; })) {
        double total = 0;
        for (const char* id : pre) total += t_of[id];
        std::printf("  pre path n=%lld C=%lld (back-to-back times): %.2f us, mix + Sinkhorn = %.1f%% of it\n", static_cast<long long>(n),
                    static_cast<long long>(C), total * 1e6,
                    100.0 * (t_of["mhc_fused.mix_fwd"] + t_of["mhc_fused.sinkhorn_fwd"]) / total);
      }
    }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const mhc::InputError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_kernels: %s\n", e.what());
    return 1;
  }
}
