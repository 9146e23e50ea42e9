// mhc-profile: measures the mHC kernels and the rest of a transformer layer on this machine's GPU
// with CUPTI and writes a profile (profiles/SCHEMA.md) for the simulator.
//
//   mhc-profile --out profiles/h100-sxm.json [--device 0] [--runs 50] [--warmup 10] [--input-sets 4]
//               [--quick] [--skip mhc,gemm,layer] [--no-dram] [--time-limit SECONDS]
//               [--mhc-n 1,2,4] [--mhc-C 1280,2560] [--mhc-tokens 4096,16384] [--sustained SECONDS] [--corun]
// --sustained holds the GPU at its power limit (back-to-back 8192^3 bf16 GEMMs) for SECONDS before each
// part and for kSustainBeforeEntry_s before each entry, so entries are timed at the clocks of a
// sustained training run rather than at boost clocks; the profile records which, and the clocks NVML
// saw during each part (provenance.clocks).
// --corun adds the co-run microbenchmark (profiles/corun.h): the profile's `corun` section.
// --mhc-* replace one axis of the mHC sweep grid, so a sweep can be split across calls (profiles are
// merged with `mhcsim profile-merge`). --time-limit stops the sweeps when the budget is spent and writes what was measured (the notes say
// the sweep is incomplete).
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include <chrono>

#include "clock_sampler.h"
#include "core/cli_args.h"
#include "core/json_input.h"
#include "corun.h"
#include "cuda_check.h"
#include "device_info.h"
#include "gemm_lt.h"
#include "layer_kernels.h"
#include "measure.h"
#include "sweep_shapes.h"

namespace mhc::profiler {
namespace {

std::string settings_text(int warmup, int runs) {
  return "median of " + std::to_string(runs) + " after " + std::to_string(warmup) + " warm-up";
}

// Device ceilings: copy bandwidth, dense GEMM peak per dtype, per-launch cost.
ProfileCeilings measure_ceilings(Measurer& m) {
  ProfileCeilings c;
  const int warmup = 3, runs = 20;
  const size_t bytes = size_t(1) << 30;
  void *src = nullptr, *dst = nullptr;
  MHC_CUDA_CHECK(cudaMalloc(&src, bytes));
  MHC_CUDA_CHECK(cudaMalloc(&dst, bytes));
  MHC_CUDA_CHECK(cudaMemset(src, 1, bytes));
  TimingStats copy = summarize(m.timer().time_device_copies(dst, src, bytes, m.stream(), warmup, runs));
  cudaFree(src);
  cudaFree(dst);
  c.copy_bandwidth_Bps = {2.0 * double(bytes) / copy.median,
                          "measured: cudaMemcpyAsync device-to-device of 1 GiB, CUPTI memcpy activity records, " +
                              settings_text(warmup, runs) + ", counting bytes read + written"};
  for (DType dt : {DType::bf16, DType::fp8, DType::tf32}) {
    LtGemm g(GemmProblem{8192, 8192, 8192, 1, dt}, 2, 99);
    const AlgorithmPick pick = g.pick_fastest(m.timer(), m.stream());
    TimingStats t = summarize(m.timer().time_calls([&](cudaStream_t s) { g.launch(s); }, [&] { g.rotate(); },
                                                   m.stream(), warmup, runs));
    c.peak_flops[dt] = {g.flops() / t.median, std::string("measured: cuBLASLt 8192^3 ") + to_string(dt) + " GEMM (" +
                                                  pick.describe() + "), CUPTI kernel records, " +
                                                  settings_text(warmup, runs)};
  }
  EmptyKernelGraph graph(100);
  TimingStats empty = summarize(
      m.timer().time_calls([&](cudaStream_t s) { graph.launch(s); }, [] {}, m.stream(), warmup, runs));
  c.launch_overhead_s =
      SourcedValue{empty.median / graph.count(),
                   "measured: span of 100 back-to-back empty kernels in one CUDA graph / 100 (CUPTI kernel records), " +
                       settings_text(warmup, runs)};
  return c;
}

// Between entries under --sustained: long enough for the GPU's power management (which acts within
// milliseconds) to settle at its power limit again before the next entry is timed.
constexpr double kSustainBeforeEntry_s = 0.05;

// Back-to-back 8192^3 bf16 GEMMs for `seconds`: the GPU at its power limit, as in a training step.
class SustainedLoad {
 public:
  explicit SustainedLoad(cudaStream_t stream) : stream_(stream), gemm_(GemmProblem{8192, 8192, 8192, 1, DType::bf16}, 1, 7) {}
  void run(double seconds) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
      for (int i = 0; i < 4; ++i) gemm_.launch(stream_);  // about 1.3 ms each at the bf16 peak
      MHC_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
  }

 private:
  cudaStream_t stream_;
  LtGemm gemm_;
};

void measure_gemms(Measurer& m, bool quick, std::vector<ProfileEntry>& out) {
  std::cerr << "mhc-profile: GEMMs (cuBLASLt)\n";
  uint64_t seed = 1000;
  for (const GemmSpec& spec : gemm_sweep(quick)) {
    if (m.out_of_time()) return;
    const GemmProblem problem{spec.m, spec.n, spec.k, spec.groups, spec.dtype};
    const int sets = m.input_sets_for(LtGemm::min_bytes(problem));
    LtGemm g(problem, sets, seed++);
    const AlgorithmPick pick = g.pick_fastest(m.timer(), m.stream());
    OpUnderTest op;
    op.kernel = "gemm";
    op.shape.m = spec.m;
    op.shape.gemm_n = spec.n;
    op.shape.k = spec.k;
    op.shape.groups = spec.groups;
    op.shape.dtype = spec.dtype;
    op.launch = [&](cudaStream_t s) { g.launch(s); };
    op.rotate = [&] { g.rotate(); };
    op.model_read_bytes = g.min_read_bytes();
    op.model_write_bytes = g.min_write_bytes();
    op.model_flops = g.flops();
    op.implementation =
        "cublasLt " + LtGemm::library_version() + (spec.groups > 1 ? " strided-batched" : "") + ", " + pick.describe();
    op.input_sets = sets;
    out.push_back(m.measure(op));
  }
}

void measure_layer_ops(Measurer& m, bool quick, std::vector<ProfileEntry>& out) {
  std::cerr << "mhc-profile: norms and elementwise ops\n";
  uint64_t seed = 5000;
  for (const LayerOpSpec& spec : layer_sweep(quick)) {
    if (m.out_of_time()) return;
    auto probe = make_layer_op(spec.kernel, spec.C, spec.tokens, 1, seed);
    const int sets = m.input_sets_for(probe->min_read_bytes() + probe->min_write_bytes());
    probe.reset();
    auto inst = make_layer_op(spec.kernel, spec.C, spec.tokens, sets, seed++);
    OpUnderTest op;
    op.kernel = spec.kernel;
    op.shape.C = spec.C;
    op.shape.tokens = spec.tokens;
    op.launch = [&](cudaStream_t s) { inst->launch(s); };
    op.rotate = [&] { inst->rotate(); };
    op.model_read_bytes = inst->min_read_bytes();
    op.model_write_bytes = inst->min_write_bytes();
    op.model_flops = inst->flops();
    op.implementation = "mhc-profile layer kernels (profiles/layer_kernels.cu)";
    op.input_sets = sets;
    out.push_back(m.measure(op));
  }
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  CliArgs cli("mhc-profile", args, {"--out", "--device", "--runs", "--warmup", "--input-sets", "--skip", "--time-limit", "--mhc-n",
               "--mhc-C", "--mhc-tokens", "--sustained"},
              {"--quick", "--no-dram", "--corun", "--help"});
  if (cli.flag("--help")) {
    std::cout << "usage: mhc-profile --out FILE [--device N] [--runs 50] [--warmup 10] [--input-sets 4] [--quick]\n"
                 "                   [--skip mhc,gemm,layer] [--no-dram] [--time-limit SECONDS]\n"
                 "                   [--mhc-n 1,2,4] [--mhc-C 1280,2560] [--mhc-tokens 4096,16384]\n"
                 "                   [--sustained SECONDS] [--corun]\n";
    return 0;
  }
  cli.expect_positional(0, "");
  const std::string out_path = cli.required("--out");
  const int device = static_cast<int>(cli.integer_or("--device", 0));
  RunSettings settings;
  settings.runs = static_cast<int>(cli.integer_or("--runs", 50));
  settings.warmup = static_cast<int>(cli.integer_or("--warmup", 10));
  settings.input_sets = static_cast<int>(cli.integer_or("--input-sets", 4));
  if (settings.runs < 1) cli.fail("--runs", "must be >= 1");
  if (settings.warmup < 0) cli.fail("--warmup", "must be >= 0");
  if (settings.input_sets < 1) cli.fail("--input-sets", "must be >= 1");
  std::set<std::string> skip;
  if (auto s = cli.get("--skip")) {
    std::stringstream list(*s);
    for (std::string item; std::getline(list, item, ',');) {
      if (item != "mhc" && item != "gemm" && item != "layer") cli.fail("--skip", "expected mhc, gemm or layer, got '" + item + "'");
      skip.insert(item);
    }
  }
  const bool quick = cli.flag("--quick");
  const MhcSweep mhc_grid = mhc_sweep_with(mhc_sweep(quick), cli.get("--mhc-n"), cli.get("--mhc-C"), cli.get("--mhc-tokens"));

  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::cerr << "mhc-profile: no CUDA device on this machine; a profile can only be measured on a GPU\n";
    return 1;
  }
  if (device < 0 || device >= count) cli.fail("--device", "no such device (found " + std::to_string(count) + ")");

  Profile profile;
  profile.kind = ProfileKind::measured;
  profile.provenance = collect_provenance(device, command_line(argc, argv));
  Measurer measurer(device, settings, !cli.flag("--no-dram"));
  if (!measurer.counts_dram()) profile.provenance.notes += "; " + measurer.dram_status();
  profile.provenance.notes += "; attention is not measured by this version (no cuDNN fused-attention entries): the "
                              "simulator prices attention ops by roofline on the measured ceilings";
  if (quick) profile.provenance.notes += "; --quick sweep (reduced shapes)";
  const double time_limit = cli.number("--time-limit", 0.0);
  if (time_limit < 0) cli.fail("--time-limit", "must be >= 0");
  const double sustained = cli.number("--sustained", 0.0);
  if (sustained < 0) cli.fail("--sustained", "must be >= 0 seconds");
  measurer.set_time_limit(time_limit);

  // Clocks: sampled through NVML during each part; under --sustained the GPU is held at its power
  // limit before each part and each entry.
  char pci[32] = {0};
  MHC_CUDA_CHECK(cudaDeviceGetPCIBusId(pci, sizeof pci, device));
  ClockSampler sampler(pci, 10);
  if (!sampler.available()) std::cerr << "mhc-profile: " << sampler.status() << "\n";
  ClockRecord clocks;
  clocks.mode = sustained > 0 ? "sustained" : "burst";
  clocks.sustained_load_s = sustained;
  clocks.source = sampler.status();
  std::unique_ptr<SustainedLoad> load;
  if (sustained > 0) {
    load = std::make_unique<SustainedLoad>(measurer.stream());
    measurer.set_before_each([&] { load->run(kSustainBeforeEntry_s); });
  }
  auto part = [&](const std::string& name, const std::function<void()>& body) {
    if (load) load->run(sustained);
    sampler.begin();
    body();
    if (sampler.available()) clocks.parts.push_back(sampler.end(name));
  };
  part("ceilings", [&] { profile.ceilings = measure_ceilings(measurer); });
  if (!skip.count("mhc")) part("mhc", [&] { measure_mhc_kernels(measurer, mhc_grid, profile.entries); });
  if (!skip.count("gemm")) part("gemm", [&] { measure_gemms(measurer, quick, profile.entries); });
  if (!skip.count("layer")) part("layer", [&] { measure_layer_ops(measurer, quick, profile.entries); });
  if (cli.flag("--corun")) {
    CorunSettings corun;
    corun.warmup = std::min(settings.warmup, 5);
    corun.runs = std::min(settings.runs, 20);
    part("corun", [&] { profile.corun = measure_corun(measurer, corun); });
  }
  profile.provenance.clocks = clocks;
  if (measurer.out_of_time())
    profile.provenance.notes += "; the sweep stopped at --time-limit " + std::to_string(time_limit) +
                                " s: shapes after the last entry were not measured";
  write_profile(profile, out_path);
  std::cerr << "mhc-profile: wrote " << profile.entries.size() << " entries to " << out_path << "\n";
  return 0;
}

}  // namespace
}  // namespace mhc::profiler

int main(int argc, char** argv) {
  try {
    return mhc::profiler::run(argc, argv);
  } catch (const mhc::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mhc-profile: " << e.what() << "\n";
    return 3;
  }
}
