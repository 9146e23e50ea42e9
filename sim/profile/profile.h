// A GPU profile: what one kind of GPU was measured to do, stored as data with provenance
// (profiles/SCHEMA.md). The cost stage prices every op from it, so every time the simulator reports
// can be traced back to a measurement (a kernel entry) or to a measured ceiling (roofline).
//
// Two kinds of profile:
//  - "measured": written by mhc-profile on a real GPU: provenance of the run, measured ceilings,
//    one entry per (kernel, shape) with the median duration and the DRAM bytes it moved.
//  - "reference": written by hand from published/measured device ceilings only (no kernel entries);
//    every value carries a "source" string saying where it comes from.
//  - "published": kernel rates a paper or a repository published (FlashAttention-3's figures,
//    DeepGEMM's tables), one entry per published point with its source; no ceilings. Priced beside a
//    measured or reference profile (load_profile_parts), never alone.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model_ops.h"

namespace mhc {

class JsonValue;

// Version 2 adds `parts` (a profile merged from several runs, mhcsim profile-merge); version 3 the
// "published" kind, the attention shape keys `window` and `sparse_topk` and the sampled `clocks`;
// version 4 the `corun` section (how kernels share the GPU). The reader takes 1 to 4; the writer
// writes the lowest version that can hold the profile.
inline constexpr int kProfileSchemaVersion = 4;
inline constexpr int kProfileSchemaOldestVersion = 1;
inline constexpr const char* kProfileSchemaName = "mhcsim-profile";

enum class ProfileKind { measured, reference, published };
const char* to_string(ProfileKind);

// Which shape keys a kernel's entries carry and how its cost scales.
enum class KernelFamily {
  mhc,          // mhc_fused.* / mhc_unfused.*: n, C, tokens (+ sinkhorn_iters for Sinkhorn)
  residual,     // residual.merge_*: C, tokens
  norm,         // rmsnorm_*: C, tokens
  elementwise,  // swiglu_*, rope_*, add_*: C (row width), tokens
  gemm,         // gemm, gemm_fp8_block: m, n, k, groups, dtype
  attention,    // attention_fwd / attention_bwd: tokens, seq, heads, head dims, causal
};
const char* to_string(KernelFamily);

// The kernel ids a profile may contain (the mHC ids are those of kernels/kernel_catalog.h).
// Returns nullopt for an id nobody measures.
std::optional<KernelFamily> kernel_family(const std::string& kernel_id);
const std::vector<std::string>& known_kernel_ids();
bool is_sinkhorn_kernel(const std::string& kernel_id);

// A value read from somewhere else, with a quote of where.
struct SourcedValue {
  double value = 0.0;
  std::string source;
};

// Clocks mhc-profile sampled (NVML) while it measured one part of its run.
struct SampledRange {
  double min = 0.0, median = 0.0, max = 0.0;
};
struct ClockPart {
  std::string part;  // "ceilings", "mhc", "gemm", "layer"
  int samples = 0;
  SampledRange sm_clock_mhz, memory_clock_mhz;
  std::optional<SampledRange> power_w;
  std::vector<std::string> throttle_reasons;  // every reason NVML reported during the part
};
// Whether the run measured in short bursts (each entry's launches on a GPU otherwise idle: boost
// clocks) or under a sustained load (mhc-profile --sustained: the GPU held at its power limit before
// each part and each entry, as in a training step), and the clocks it saw.
struct ClockRecord {
  std::string mode;  // "burst" or "sustained"
  double sustained_load_s = 0.0;  // sustained: the load held before each part
  std::string source;  // how the clocks were sampled, or why they were not
  std::vector<ClockPart> parts;
};

struct ProfileProvenance {
  std::string gpu;   // device name as the driver reports it ("NVIDIA H100 80GB HBM3")
  std::string date;  // ISO 8601 UTC
  // measured only:
  std::string command;  // the exact command line of the run
  int sm_count = 0;
  double sm_clock_mhz = 0.0;
  double memory_clock_mhz = 0.0;
  double memory_bytes = 0.0;
  std::string driver;        // "580.159"
  std::string cuda_runtime;  // "13.0"
  std::string cupti;         // CUPTI API version
  std::string cublaslt;      // optional
  std::string cudnn;         // optional
  std::string host;          // optional
  // reference and published: how the file was compiled (from which documents, by which script).
  std::string compiled_from;
  std::string notes;  // optional, free text
  std::optional<ClockRecord> clocks;  // measured, optional (version 3): the clocks sampled during the run
};

// One run of a merged profile: the file it was read from and that run's provenance.
struct ProfilePart {
  std::string file;
  ProfileProvenance provenance;
};

// What the device can do at best, measured (or, in a reference profile, sourced).
struct ProfileCeilings {
  SourcedValue copy_bandwidth_Bps;           // device-to-device copy, read + write bytes per second
  std::map<DType, SourcedValue> peak_flops;  // dense GEMM rate per dtype
  std::optional<SourcedValue> launch_overhead_s;  // only when measured
};

// Datasheet facts (for reports and sanity checks; never used to price an op).
struct ProfileDatasheet {
  std::optional<SourcedValue> sm_count, memory_bytes, dram_bandwidth_Bps;
  std::map<DType, SourcedValue> peak_flops;
};

// The shape of one measured kernel launch. Which fields are meaningful depends on the family.
struct ProfileShape {
  int n = 0;                // mhc
  int64_t C = 0;            // mhc, residual, norm, elementwise
  int64_t tokens = 0;       // everything but gemm
  int sinkhorn_iters = 0;   // Sinkhorn kernels
  int64_t m = 0, gemm_n = 0, k = 0, groups = 1;  // gemm (per group)
  DType dtype = DType::bf16;                     // gemm (attention is bf16)
  int64_t seq = 0, heads = 0, head_dim_qk = 0, head_dim_v = 0;  // attention
  bool causal = true;
  int64_t window = 0, sparse_topk = 0;  // attention: sliding window / selected keys (0: all earlier keys)
  // attention: DeepSeek-V4's compressed KV entries beside the window (one per ratio tokens, at most
  // compressed_topk; model_ops.h AttentionShape)
  int64_t compress_ratio = 0, compressed_topk = 0;

  // The coordinates along which entries of one kernel are interpolated: tokens, or for a GEMM its
  // rows m (forward, input gradient) and its reduction k (weight gradient: k = tokens).
  enum class Axis { tokens, m, k };
  static std::vector<Axis> scaling_axes(KernelFamily family);
  static const char* axis_name(Axis axis);
  double coordinate(Axis axis) const;
  // Same shape apart from the coordinate on `axis`.
  bool same_except(const ProfileShape& other, Axis axis) const;
  bool operator==(const ProfileShape&) const = default;
  std::string describe(KernelFamily family) const;  // "n=4 C=2560 tokens=16384"
};

struct ProfileEntry {
  std::string kernel;
  KernelFamily family = KernelFamily::mhc;
  ProfileShape shape;
  double seconds = 0.0;  // median over `runs` timed launches (CUPTI activity records)
  double seconds_min = 0.0, seconds_max = 0.0;
  int runs = 0, warmup = 0, input_sets = 0;
  std::optional<double> dram_read_bytes, dram_write_bytes;  // CUPTI range profiler, per launch
  double model_read_bytes = 0.0, model_write_bytes = 0.0;   // what the I/O model says must move
  double model_flops = 0.0;
  std::string implementation;  // "mhc kernels", "cublasLt", "cudnn fused attention", ...
  int part = -1;               // index into Profile::parts (merged profiles); -1 in a single run's profile
  std::string pointer;         // JSON pointer inside the profile ("/kernels/12")
  // Published entries: where the figure comes from (paper + figure, or repository + file + commit) and
  // the rate it gives; `seconds` is then model_flops / published_flops_per_s.
  std::string published_source;
  double published_flops_per_s = 0.0;
  std::string file;  // the file the entry was read from (a combined profile's parts differ)
  bool published() const { return !published_source.empty(); }

  std::string label() const;  // "mhc_fused.post_res_fwd{n=4 C=2560 tokens=16384}"
};

// The `corun` section (schema version 4, profiles/SCHEMA.md): how kernels share one GPU, measured by
// `mhc-profile --corun` (profiles/corun.cu):
//  - copy bandwidth against the number of SMs the copy kernel runs on (one block per SM): how many
//    SMs a memory-bound kernel needs to sustain a bandwidth, which is what it takes from a GEMM;
//  - a GEMM alone, the fused post-res kernel alone, and both at once on two streams, with equal
//    priorities and with post-res on the high-priority stream;
//  - a GEMM beside a copy kernel on communication-like SMs moving NVLink-class bandwidth.
// The cost stage uses the copy curve (cost/kernel_demand.h); the pairs are what the GPU model
// (engine/gpu_share.h) is checked against.
struct CorunCopyPoint {
  int sms = 0;
  double bandwidth_Bps = 0.0;  // bytes read + written per second
};

// Each kernel's duration (CUPTI records) and first start to last end, when run at once.
struct CorunTimes {
  double gemm_s = 0.0;
  double post_res_s = 0.0;
  double span_s = 0.0;
};

struct ProfileCorun {
  std::string method;  // kernels, streams, timing and settings of the run
  std::vector<CorunCopyPoint> copy_by_sms;  // strictly increasing sms, the last the whole GPU
  ProfileShape gemm_shape;                  // a "gemm" entry's shape keys
  double gemm_alone_s = 0.0;
  ProfileShape post_res_shape;  // mhc_fused.post_res_fwd's shape keys
  double post_res_alone_s = 0.0;
  CorunTimes same_priority;           // two streams of equal priority
  CorunTimes post_res_high_priority;  // post-res on the high-priority stream
  // A GEMM beside a copy on `copy_sms` SMs (communication-like: few SMs, NVLink-class bandwidth).
  int copy_sms = 0;
  double copy_alone_Bps = 0.0;
  double copy_beside_gemm_Bps = 0.0;
  double gemm_beside_copy_s = 0.0;
  int part = -1;        // merged profiles: the run that measured it
  std::string pointer;  // "/corun"

  // The fewest SMs on which the copy reaches `bandwidth_Bps`: linear between measured points (and
  // from 0 SMs at 0), the whole GPU where no point reaches it.
  double sms_for_bandwidth(double bandwidth_Bps) const;
};

struct Profile {
  std::string file;  // where it was read from ("" if built in memory)
  ProfileKind kind = ProfileKind::measured;
  ProfileProvenance provenance;  // a merged profile: the merge's command and date, device facts of part 0
  std::vector<ProfilePart> parts;  // the runs a merged profile was put together from; empty otherwise
  ProfileCeilings ceilings;
  ProfileDatasheet datasheet;
  std::vector<ProfileEntry> entries;
  std::optional<ProfileCorun> corun;  // schema version 4
  // Published parts priced beside this profile (load_profile_parts): file and how it was compiled.
  struct PublishedPart {
    std::string file;
    ProfileProvenance provenance;
  };
  std::vector<PublishedPart> published;
};

// Reads and validates a whole profile; every problem is an InputError naming the file and the JSON
// path (missing provenance, negative time, unknown kernel, wrong schema version, unknown key, ...).
Profile load_profile(const std::string& path);
Profile parse_profile(const JsonValue& root);
// The profile that prices a scenario: a measured (or reference) profile, which gives the ceilings,
// and the published parts listed after it, whose entries join its own. A published part as `main`,
// a non-published one among `published`, or a (kernel, shape) given twice is an InputError naming the
// file and the JSON path.
Profile load_profile_parts(const std::string& main, const std::vector<std::string>& published);

// Writes a profile in the schema load_profile reads (what mhc-profile emits). Validates the
// in-memory profile first by the same rules (throws InputError naming `Profile::file` or "profile").
nlohmann::json profile_to_json(const Profile& profile);
// One entry's shape keys as the schema spells them, for `kernel` of `family` (and back).
nlohmann::json profile_shape_json(const ProfileShape& shape, const std::string& kernel, KernelFamily family);
ProfileShape parse_profile_shape(const JsonValue& v, const std::string& kernel, KernelFamily family);
void write_profile(const Profile& profile, const std::string& path);

}  // namespace mhc
