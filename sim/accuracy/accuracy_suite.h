// The accuracy suite as committed under scenarios/published/: published, measured figures with their
// sources, in three tiers (kernels.json, collectives.json, steps.json), each figure with what it was
// measured on and how it converts to the quantity mhcsim predicts (kernel seconds, collective
// seconds, step seconds). Loading validates every case completely (unknown keys, missing sources,
// conversions that would give an MFU above 100%) with one InputError naming the file and JSON path.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "profile/profile.h"

namespace mhc {

enum class Tier { kernels, collectives, steps };
const char* to_string(Tier);

struct PublishedSource {
  std::string label;     // short, for the table ("FA3 Fig. 5e")
  std::string citation;  // exact: paper + table/figure, or repository + file + commit
};

// Kernels. A leave-one-out group prices every (interior) entry of one family of a committed profile
// with a model built without it; a published figure is one kernel launch measured by others, priced
// by the cost stage for the same shape (left out of the profile if the profile holds it).
struct KernelCase {
  std::string id, file, pointer;
  enum class Kind { leave_one_out, published } kind = Kind::leave_one_out;
  std::string profile;  // resolved path
  PublishedSource source;
  std::string notes;
  // leave_one_out
  KernelFamily family = KernelFamily::gemm;
  bool interior_only = true;
  // published: the launch and its measured rate
  std::string kernel;   // "attention_fwd", "attention_bwd", "gemm"
  ProfileShape shape;
  int64_t batch = 0;    // attention: sequences (tokens = batch x seq)
  double measured_tflops = 0;
  std::string flop_convention;  // "attention_fa" or "gemm_2mnk"
};

// FLOPs of a published kernel case by its source's convention: FlashAttention's 4 x batch x heads x
// seq^2 x head_dim forward (half with a causal mask, 2.5x backward), or 2 m n k per GEMM group.
double published_kernel_flops(const KernelCase& c);
// DRAM bytes the launch must move at least (inputs read once, outputs written once).
double published_kernel_bytes(const KernelCase& c);

// Collectives: one operation on the first `gpus` GPUs of a cluster with a buffer of `bytes` (per GPU,
// as nccl-tests or DeepEP count it), against the published bandwidth, converted to seconds.
struct CollectiveCase {
  std::string id, file, pointer;
  std::string cluster;  // resolved path
  std::string op;       // as `mhcsim collective --op`
  std::string algo;     // "" = NCCL-like choice; else as `--algo`
  int gpus = 0;
  double bytes = 0;
  enum class Measure { busbw, algbw } measure = Measure::busbw;
  double measured_GBps = 0;
  PublishedSource source;
  std::string notes;
  double measured_seconds() const;  // bytes / algbw (busbw converted by nccl-tests' factor)
};

// Training steps: a scenario reproducing a published run and the run's measured throughput.
struct StepCase {
  std::string id, file, pointer;
  std::string scenario;  // resolved path ("" for a case not yet expressible)
  PublishedSource source;
  std::string hardware;  // as published ("8 x H100 96GB HBM2e, 500 W")
  enum class Measure { step_time_s, tokens_per_s_per_gpu, gpu_hours_per_trillion_tokens } measure =
      Measure::step_time_s;
  double measured_value = 0;
  std::string derivation;  // how the published number was read (which rows, logs, averages)
  // MFU as the source reports it, with its own FLOP convention and peak (shown, not converted).
  std::optional<double> published_mfu;
  std::string published_mfu_convention;
  bool expressible = true;
  std::string not_expressible_reason;
  bool ci = false;  // in the fast subset the tests run
  std::vector<std::string> approximations;  // what the scenario cannot say about the run
  // Filled from the scenario when expressible: tokens of one step and the GPUs, for the conversion.
  double tokens_per_step = 0;
  int gpus = 0;
  std::string gpu_kind;
  DType gemm_dtype = DType::bf16;
  double measured_step_s() const;  // the published figure as the seconds of one step
  std::string measured_text() const;  // "6667 tokens/s/GPU"
};

// The dense tensor-core peak of a GPU kind for one precision, from its datasheet: the MFU of a run is
// taken against the peak of the precision its GEMMs use (an FP8 run against the FP8 peak).
struct PeakFlops {
  double flops = 0;
  std::string source;
};

struct AccuracySuite {
  std::string dir;
  std::vector<KernelCase> kernels;
  std::vector<CollectiveCase> collectives;
  std::vector<StepCase> steps;
  std::map<std::string, std::map<DType, PeakFlops>> peaks;  // by cluster GPU kind
  const PeakFlops& peak_for(const StepCase& c) const;       // InputError if the suite has none
};

// Reads dir/kernels.json, dir/collectives.json and dir/steps.json (and each step's scenario, for its
// tokens per step and GPUs). Throws InputError.
AccuracySuite load_accuracy_suite(const std::string& dir);

// Keeps only the cases whose id is listed; every listed id must exist (InputError naming `flag`).
void keep_only(AccuracySuite& suite, const std::vector<std::string>& ids, const std::string& flag);

}  // namespace mhc
