#include "profile/profile.h"

#include <cmath>
#include <sstream>
#include <unordered_map>

#include "core/json_input.h"
#include "profile/profile_corun.h"

namespace mhc {

const char* to_string(ProfileKind k) {
  switch (k) {
    case ProfileKind::measured: return "measured";
    case ProfileKind::reference: return "reference";
    default: return "published";
  }
}

const char* to_string(KernelFamily f) {
  switch (f) {
    case KernelFamily::mhc: return "mhc";
    case KernelFamily::residual: return "residual";
    case KernelFamily::norm: return "norm";
    case KernelFamily::elementwise: return "elementwise";
    case KernelFamily::gemm: return "gemm";
    default: return "attention";
  }
}

namespace {

std::vector<std::pair<std::string, KernelFamily>> build_known_kernels() {
  std::vector<std::pair<std::string, KernelFamily>> out;
  auto both = [&](const std::string& base, KernelFamily f) {
    out.emplace_back(base + "_fwd", f);
    out.emplace_back(base + "_bwd", f);
  };
  // kernels/kernel_catalog.h: the fused kernels of paper 4.3.1 and the unfused sequence of Table 2.
  for (const char* k : {"norm_proj", "mix", "sinkhorn", "pre_apply", "post_res"})
    both(std::string("mhc_fused.") + k, KernelFamily::mhc);
  for (const char* k : {"compute_h", "apply_pre", "apply_post", "apply_res", "merge"})
    both(std::string("mhc_unfused.") + k, KernelFamily::mhc);
  both("residual.merge", KernelFamily::residual);
  // The rest of a transformer layer, measured by mhc-profile's own kernels and libraries.
  both("rmsnorm", KernelFamily::norm);
  both("swiglu", KernelFamily::elementwise);
  both("rope", KernelFamily::elementwise);
  both("add", KernelFamily::elementwise);
  both("gelu", KernelFamily::elementwise);
  out.emplace_back("gemm", KernelFamily::gemm);
  // Block-scaled FP8 (1x128 activation tiles, 128x128 weight blocks; DeepSeek-V3 3.3, DeepGEMM-class),
  // grouped for MoE experts: a kind of its own, never priced from cuBLASLt's per-tensor entries.
  out.emplace_back("gemm_fp8_block", KernelFamily::gemm);
  both("attention", KernelFamily::attention);
  // The rest of a training step (the C of their entries is the row width the op names):
  // FP8 casts of GEMM inputs and output gradients, and the re-quantisation of a saved 1x128-tiled
  // input into 128x1 tiles for the weight gradient;
  out.emplace_back("fp8_quantize_fwd", KernelFamily::elementwise);
  out.emplace_back("fp8_quantize_bwd", KernelFamily::elementwise);
  out.emplace_back("fp8_requantize_transpose_bwd", KernelFamily::elementwise);
  // MoE gating (top-k over the router's scores), the permutation into expert order and the weighted
  // combine back; the embedding lookup, cross-entropy, mHC's stream expansion and collapse;
  for (const char* k : {"moe_router", "moe_permute", "moe_unpermute", "embedding", "cross_entropy", "mhc.expand",
                        "mhc.collapse"})
    both(k, KernelFamily::elementwise);
  // DeepSeek-V4's attention: a compressor's softmax pooling of each block's rows into one KV entry, and
  // the lightning indexer's top-k over its scores (forward only);
  both("compress_pool", KernelFamily::elementwise);
  out.emplace_back("indexer_topk_fwd", KernelFamily::elementwise);
  // the optimizer step over a GPU's local parameters (C: values per row, tokens: rows).
  out.emplace_back("optimizer_adam", KernelFamily::elementwise);
  return out;
}

const std::vector<std::pair<std::string, KernelFamily>>& known_kernels() {
  static const auto table = build_known_kernels();
  return table;
}

}  // namespace

std::optional<KernelFamily> kernel_family(const std::string& kernel_id) {
  for (const auto& [id, family] : known_kernels())
    if (id == kernel_id) return family;
  return std::nullopt;
}

const std::vector<std::string>& known_kernel_ids() {
  static const auto ids = [] {
    std::vector<std::string> out;
    for (const auto& kv : known_kernels()) out.push_back(kv.first);
    return out;
  }();
  return ids;
}

bool is_sinkhorn_kernel(const std::string& kernel_id) {
  return kernel_id.rfind("mhc_fused.sinkhorn_", 0) == 0;
}

std::vector<ProfileShape::Axis> ProfileShape::scaling_axes(KernelFamily family) {
  if (family == KernelFamily::gemm) return {Axis::m, Axis::k};
  return {Axis::tokens};
}

const char* ProfileShape::axis_name(Axis axis) {
  switch (axis) {
    case Axis::m: return "rows m";
    case Axis::k: return "reduction k";
    default: return "tokens";
  }
}

double ProfileShape::coordinate(Axis axis) const {
  switch (axis) {
    case Axis::m: return static_cast<double>(m);
    case Axis::k: return static_cast<double>(k);
    default: return static_cast<double>(tokens);
  }
}

bool ProfileShape::same_except(const ProfileShape& other, Axis axis) const {
  ProfileShape a = *this, b = other;
  switch (axis) {
    case Axis::m: a.m = b.m = 0; break;
    case Axis::k: a.k = b.k = 0; break;
    default: a.tokens = b.tokens = 0; break;
  }
  return a == b;
}

std::string ProfileShape::describe(KernelFamily family) const {
  std::ostringstream s;
  switch (family) {
    case KernelFamily::mhc:
      s << "n=" << n << " C=" << C << " tokens=" << tokens;
      if (sinkhorn_iters) s << " iters=" << sinkhorn_iters;
      break;
    case KernelFamily::residual:
    case KernelFamily::norm:
    case KernelFamily::elementwise: s << "C=" << C << " tokens=" << tokens; break;
    case KernelFamily::gemm:
      s << "m=" << m << " n=" << gemm_n << " k=" << k << " groups=" << groups << " " << to_string(dtype);
      break;
    case KernelFamily::attention:
      s << "tokens=" << tokens << " seq=" << seq << " heads=" << heads << " d_qk=" << head_dim_qk
        << " d_v=" << head_dim_v << (causal ? " causal" : " full");
      if (window) s << " window=" << window;
      if (sparse_topk) s << " topk=" << sparse_topk;
      if (compress_ratio) s << " compressed=1/" << compress_ratio;
      if (compressed_topk) s << " compressed_topk=" << compressed_topk;
      break;
  }
  return s.str();
}

std::string ProfileEntry::label() const { return kernel + "{" + shape.describe(family) + "}"; }

// ---------------------------------------------------------------------------------------------
// Reading

namespace {

// The ranges profile values are read with (profiles/SCHEMA.md says why each): a value outside is a
// broken file, and one inside cannot drive the simulation to absurd or endless times.
struct Range {
  double lo, hi;
};
constexpr Range kCopyBandwidthBps{1e10, 1e14};
constexpr Range kPeakFlops{1e11, 1e17};
constexpr Range kLaunchOverheadS{1e-8, 1e-3};
constexpr int64_t kMaxSmCount = 1024;
constexpr Range kSmCount{1, kMaxSmCount};
constexpr Range kMemoryBytes{1e9, 1e13};
constexpr Range kClockMhz{100, 50000};
constexpr Range kKernelSeconds{1e-8, 1e3};
constexpr Range kSustainedLoadS{1, 86400};     // a clock-settling load of up to a day
constexpr Range kBoardPowerW{0, 5000};         // an 8-GPU board's worth: no single GPU draws more
constexpr int64_t kMaxClockSamples = 1 << 30;
constexpr Range kLaunchBytes{0, 1e14};
constexpr Range kLaunchFlops{0, 1e20};
constexpr int64_t kMaxRuns = 1000000;
constexpr int64_t kMaxInputSets = 1024;
constexpr int64_t kMaxStreams = 16;           // mHC n
constexpr int64_t kMaxWidth = int64_t{1} << 17;    // C
constexpr int64_t kMaxTokens = int64_t{1} << 26;   // tokens of one launch
constexpr int64_t kMaxGemmDim = int64_t{1} << 26;  // m, n, k
constexpr int64_t kMaxGroups = 16384;
constexpr int64_t kMaxSeq = int64_t{1} << 24;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxHeadDim = 2048;
constexpr int64_t kMaxSinkhornIters = 1000;

DType dtype_from_name(const std::string& s) {
  if (s == "bf16") return DType::bf16;
  if (s == "fp8") return DType::fp8;
  if (s == "tf32") return DType::tf32;
  return DType::fp32;
}

DType parse_dtype(const JsonValue& v) { return dtype_from_name(v.one_of({"bf16", "fp8", "tf32", "fp32"})); }

SourcedValue parse_sourced(const JsonValue& v, Range range) {
  JsonObject o = v.object();
  SourcedValue out;
  out.value = o.required("value").number(range.lo, range.hi);
  out.source = o.required("source").string();
  if (out.source.empty()) o.required("source").fail("must say where the value comes from");
  o.finish();
  return out;
}

std::map<DType, SourcedValue> parse_peaks(const JsonValue& v, bool require_bf16) {
  JsonObject o = v.object();
  std::map<DType, SourcedValue> out;
  for (const char* name : {"bf16", "fp8", "tf32", "fp32"}) {
    auto item = o.optional(name);
    if (item) out[dtype_from_name(name)] = parse_sourced(*item, kPeakFlops);
  }
  o.finish();
  if (require_bf16 && !out.count(DType::bf16)) o.required("bf16");  // throws "missing required key"
  return out;
}

std::string non_empty_string(JsonObject& o, const std::string& key) {
  JsonValue v = o.required(key);
  std::string s = v.string();
  if (s.empty()) v.fail("must not be empty");
  return s;
}

std::string optional_string(JsonObject& o, const std::string& key) {
  auto v = o.optional(key);
  return v ? v->string() : std::string();
}

SampledRange parse_range(const JsonValue& v, Range range) {
  JsonObject o = v.object();
  SampledRange r;
  r.min = o.required("min").number(range.lo, range.hi);
  r.median = o.required("median").number(range.lo, range.hi);
  r.max = o.required("max").number(range.lo, range.hi);
  if (!(r.min <= r.median && r.median <= r.max)) o.required("median").fail("must lie between min and max");
  o.finish();
  return r;
}

ClockRecord parse_clocks(const JsonValue& v) {
  JsonObject o = v.object();
  ClockRecord c;
  c.mode = o.required("mode").one_of({"burst", "sustained"});
  if (c.mode == "sustained") c.sustained_load_s = o.required("sustained_load_s").number(kSustainedLoadS.lo, kSustainedLoadS.hi);
  c.source = non_empty_string(o, "source");
  for (const JsonValue& item : o.required("parts").array()) {
    JsonObject po = item.object();
    ClockPart part;
    part.part = non_empty_string(po, "part");
    part.samples = static_cast<int>(po.required("samples").integer(1, kMaxClockSamples));
    part.sm_clock_mhz = parse_range(po.required("sm_clock_mhz"), kClockMhz);
    part.memory_clock_mhz = parse_range(po.required("memory_clock_mhz"), kClockMhz);
    if (auto pw = po.optional("power_w")) part.power_w = parse_range(*pw, kBoardPowerW);
    for (const JsonValue& r : po.required("throttle_reasons").array()) part.throttle_reasons.push_back(r.string());
    po.finish();
    c.parts.push_back(part);
  }
  o.finish();
  return c;
}

ProfileProvenance parse_provenance(const JsonValue& v, ProfileKind kind) {
  JsonObject o = v.object();
  ProfileProvenance p;
  p.gpu = non_empty_string(o, "gpu");
  p.date = non_empty_string(o, "date");
  p.notes = optional_string(o, "notes");
  if (kind != ProfileKind::measured) {
    p.compiled_from = non_empty_string(o, "compiled_from");
  } else {
    p.command = non_empty_string(o, "command");
    p.sm_count = static_cast<int>(o.required("sm_count").integer(1, kMaxSmCount));
    p.sm_clock_mhz = o.required("sm_clock_mhz").number(kClockMhz.lo, kClockMhz.hi);
    p.memory_clock_mhz = o.required("memory_clock_mhz").number(kClockMhz.lo, kClockMhz.hi);
    p.memory_bytes = o.required("memory_bytes").number(kMemoryBytes.lo, kMemoryBytes.hi);
    p.driver = non_empty_string(o, "driver");
    p.cuda_runtime = non_empty_string(o, "cuda_runtime");
    p.cupti = non_empty_string(o, "cupti");
    p.cublaslt = optional_string(o, "cublaslt");
    p.cudnn = optional_string(o, "cudnn");
    p.host = optional_string(o, "host");
    if (auto clocks = o.optional("clocks")) p.clocks = parse_clocks(*clocks);
  }
  o.finish();
  return p;
}

ProfileCeilings parse_ceilings(const JsonValue& v) {
  JsonObject o = v.object();
  ProfileCeilings c;
  c.copy_bandwidth_Bps = parse_sourced(o.required("copy_bandwidth_Bps"), kCopyBandwidthBps);
  c.peak_flops = parse_peaks(o.required("peak_flops"), true);
  if (auto l = o.optional("launch_overhead_s")) c.launch_overhead_s = parse_sourced(*l, kLaunchOverheadS);
  o.finish();
  return c;
}

ProfileDatasheet parse_datasheet(const JsonValue& v) {
  JsonObject o = v.object();
  ProfileDatasheet d;
  if (auto x = o.optional("sm_count")) d.sm_count = parse_sourced(*x, kSmCount);
  if (auto x = o.optional("memory_bytes")) d.memory_bytes = parse_sourced(*x, kMemoryBytes);
  if (auto x = o.optional("dram_bandwidth_Bps")) d.dram_bandwidth_Bps = parse_sourced(*x, kCopyBandwidthBps);
  if (auto x = o.optional("peak_flops")) d.peak_flops = parse_peaks(*x, false);
  o.finish();
  return d;
}

// A merged profile's runs: each a full measured provenance of the same GPU as the file's.
std::vector<ProfilePart> parse_parts(const JsonValue& v, const ProfileProvenance& top) {
  std::vector<ProfilePart> parts;
  for (const JsonValue& item : v.non_empty_array()) {
    JsonObject o = item.object();
    ProfilePart part;
    part.file = non_empty_string(o, "file");
    JsonValue prov = o.required("provenance");
    part.provenance = parse_provenance(prov, ProfileKind::measured);
    JsonObject p = prov.object();
    if (part.provenance.gpu != top.gpu)
      p.required("gpu").fail("\"" + bounded(part.provenance.gpu) + "\" differs from /provenance/gpu \"" + bounded(top.gpu) +
                             "\" (the parts of a profile measure one GPU)");
    if (part.provenance.sm_count != top.sm_count)
      p.required("sm_count").fail(std::to_string(part.provenance.sm_count) + " differs from /provenance/sm_count " +
                                  std::to_string(top.sm_count) + " (the parts of a profile measure one GPU)");
    o.finish();
    parts.push_back(part);
  }
  return parts;
}

// `part_count`: how many parts the profile has; an entry of a merged profile names its part.
ProfileEntry parse_entry(const JsonValue& v, size_t part_count, bool published) {
  JsonObject o = v.object();
  ProfileEntry e;
  e.pointer = v.pointer();
  JsonValue kernel = o.required("kernel");
  e.kernel = kernel.string();
  auto family = kernel_family(e.kernel);
  if (!family) kernel.fail("unknown kernel \"" + bounded(e.kernel) + "\" (not in the kernel catalog nor a layer op)");
  e.family = *family;
  e.shape = parse_profile_shape(o.required("shape"), e.kernel, e.family);

  if (!published) {
    JsonObject time = o.required("time_s").object();
    e.seconds = time.required("median").number(kKernelSeconds.lo, kKernelSeconds.hi);
    e.seconds_min = time.required("min").number(kKernelSeconds.lo, kKernelSeconds.hi);
    e.seconds_max = time.required("max").number(kKernelSeconds.lo, kKernelSeconds.hi);
    e.runs = static_cast<int>(time.required("runs").integer(1, kMaxRuns));
    e.warmup = static_cast<int>(time.required("warmup").integer(0, kMaxRuns));
    e.input_sets = static_cast<int>(time.required("input_sets").integer(1, kMaxInputSets));
    if (!(e.seconds_min <= e.seconds && e.seconds <= e.seconds_max))
      time.required("median").fail("must lie between min and max");
    time.finish();
  }

  if (auto dram = o.optional("dram_bytes")) {
    JsonObject d = dram->object();
    e.dram_read_bytes = d.required("read").number(kLaunchBytes.lo, kLaunchBytes.hi);
    e.dram_write_bytes = d.required("write").number(kLaunchBytes.lo, kLaunchBytes.hi);
    d.finish();
  }
  JsonObject model = o.required("model").object();
  e.model_read_bytes = model.required("read_bytes").number(kLaunchBytes.lo, kLaunchBytes.hi);
  e.model_write_bytes = model.required("write_bytes").number(kLaunchBytes.lo, kLaunchBytes.hi);
  e.model_flops = model.required("flops").number(kLaunchFlops.lo, kLaunchFlops.hi);
  model.finish();
  if (published) {
    // A published rate and the FLOPs the publication counts for this call: the time it implies.
    JsonObject pub = o.required("published").object();
    e.published_flops_per_s = pub.required("flops_per_s").number(kPeakFlops.lo, kPeakFlops.hi);
    e.published_source = non_empty_string(pub, "source");
    pub.finish();
    if (e.model_flops <= 0) model.required("flops").fail("a published rate needs the FLOPs it was computed over (> 0)");
    e.seconds = e.seconds_min = e.seconds_max = e.model_flops / e.published_flops_per_s;
  }
  e.implementation = non_empty_string(o, "implementation");
  if (part_count > 0) {
    JsonValue part = o.required("part");
    e.part = static_cast<int>(part.integer(0, static_cast<int64_t>(part_count) - 1));  // an index into /parts
  }
  o.finish();
  return e;
}

}  // namespace

ProfileShape parse_profile_shape(const JsonValue& v, const std::string& kernel, KernelFamily family) {
  JsonObject o = v.object();
  ProfileShape s;
  switch (family) {
    case KernelFamily::mhc:
      s.n = static_cast<int>(o.required("n").integer(1, kMaxStreams));
      [[fallthrough]];
    case KernelFamily::residual:
    case KernelFamily::norm:
    case KernelFamily::elementwise:
      s.C = o.required("C").integer(1, kMaxWidth);
      s.tokens = o.required("tokens").integer(1, kMaxTokens);
      if (is_sinkhorn_kernel(kernel))
        s.sinkhorn_iters = static_cast<int>(o.required("sinkhorn_iters").integer(1, kMaxSinkhornIters));
      break;
    case KernelFamily::gemm:
      s.m = o.required("m").integer(1, kMaxGemmDim);
      s.gemm_n = o.required("n").integer(1, kMaxGemmDim);
      s.k = o.required("k").integer(1, kMaxGemmDim);
      s.groups = o.required("groups").integer(1, kMaxGroups);
      s.dtype = parse_dtype(o.required("dtype"));
      break;
    case KernelFamily::attention:
      s.tokens = o.required("tokens").integer(1, kMaxTokens);
      s.seq = o.required("seq").integer(1, kMaxSeq);
      s.heads = o.required("heads").integer(1, kMaxHeads);
      s.head_dim_qk = o.required("head_dim_qk").integer(1, kMaxHeadDim);
      s.head_dim_v = o.required("head_dim_v").integer(1, kMaxHeadDim);
      s.causal = o.required("causal").boolean();
      if (s.tokens % s.seq != 0) o.required("tokens").fail("must be a whole number of sequences of length seq");
      if (auto w = o.optional("window")) s.window = w->integer(1, kMaxSeq);
      if (auto k = o.optional("sparse_topk")) s.sparse_topk = k->integer(1, kMaxSeq);
      if (auto r = o.optional("compress_ratio")) s.compress_ratio = r->integer(2, kMaxSeq);
      if (auto k = o.optional("compressed_topk")) {
        s.compressed_topk = k->integer(1, kMaxSeq);
        if (s.compress_ratio == 0) k->fail("selected compressed entries need a compress_ratio");
      }
      break;
  }
  o.finish();
  return s;
}

Profile parse_profile(const JsonValue& root) {
  JsonObject o = root.object();
  Profile p;
  p.file = root.file();
  JsonValue schema = o.required("schema");
  if (schema.string() != kProfileSchemaName)
    schema.fail(std::string("expected \"") + kProfileSchemaName + "\" (not an mhcsim profile)");
  JsonValue version = o.required("schema_version");
  const int64_t schema_version = version.integer();
  if (schema_version < kProfileSchemaOldestVersion || schema_version > kProfileSchemaVersion)
    version.fail("unsupported schema version " + std::to_string(schema_version) + " (this mhcsim reads versions " +
                 std::to_string(kProfileSchemaOldestVersion) + " to " + std::to_string(kProfileSchemaVersion) + ")");
  JsonValue kind = o.required("kind");
  const std::string kind_name = kind.one_of({"measured", "reference", "published"});
  p.kind = kind_name == "measured" ? ProfileKind::measured : kind_name == "reference" ? ProfileKind::reference
                                                                                     : ProfileKind::published;
  if (p.kind == ProfileKind::published && schema_version < 3) kind.fail("the published kind needs schema_version 3");
  p.provenance = parse_provenance(o.required("provenance"), p.kind);
  // Version 2: a measured profile merged from several runs lists them (version 1 knows no `parts`, so
  // the key stays unread there and finish() rejects it as unknown).
  if (schema_version >= 2) {
    if (auto parts = o.optional("parts")) {
      if (p.kind == ProfileKind::reference) parts->fail("a reference profile is compiled, not merged from runs: no parts");
      p.parts = parse_parts(*parts, p.provenance);
    }
  }
  // A published part holds rates only; the measured (or reference) profile beside it gives the ceilings.
  if (p.kind != ProfileKind::published) p.ceilings = parse_ceilings(o.required("ceilings"));
  if (auto d = o.optional("datasheet")) p.datasheet = parse_datasheet(*d);
  JsonValue kernels = o.required("kernels");
  for (const JsonValue& item : kernels.array()) {
    p.entries.push_back(parse_entry(item, p.parts.size(), p.kind == ProfileKind::published));
    p.entries.back().file = p.file;
  }
  // Version 4: how kernels share the GPU (older versions leave the key unread: finish() rejects it).
  if (schema_version >= 4) {
    if (auto corun = o.optional("corun")) {
      if (p.kind != ProfileKind::measured) corun->fail("only a measured profile holds a co-run measurement");
      p.corun = parse_corun(*corun, p.provenance.sm_count, p.parts.size());
    }
  }
  if (p.kind == ProfileKind::reference && !p.entries.empty())
    kernels.fail("a reference profile holds device ceilings only, no kernel entries");
  if (p.kind == ProfileKind::published && p.entries.empty()) kernels.fail("a published part needs at least one entry");
  // The label names the kernel and every shape key of its family, so equal labels are equal entries.
  std::unordered_map<std::string, const ProfileEntry*> seen;
  for (const ProfileEntry& e : p.entries) {
    auto [it, fresh] = seen.emplace(e.label(), &e);
    if (!fresh) throw InputError(p.file, e.pointer, "duplicate entry: same kernel and shape as " + it->second->pointer);
  }
  o.finish();
  return p;
}

Profile load_profile(const std::string& path) {
  return read_guarded(path, [&] { return parse_profile(load_json_file(path)); });
}

Profile load_profile_parts(const std::string& main, const std::vector<std::string>& published) {
  Profile p = load_profile(main);
  if (p.kind == ProfileKind::published)
    throw InputError(main, "/kind", "a published part has no ceilings: list it after a measured or reference profile");
  for (const std::string& file : published) {
    Profile part = load_profile(file);
    if (part.kind != ProfileKind::published)
      throw InputError(file, "/kind", std::string("only published parts may follow the first profile, got \"") +
                                          to_string(part.kind) + "\"");
    for (ProfileEntry& e : part.entries) {
      for (const ProfileEntry& other : p.entries)
        if (other.kernel == e.kernel && other.shape == e.shape)
          throw InputError(file, e.pointer, "the same kernel and shape as " + other.file + " " + other.pointer);
      p.entries.push_back(std::move(e));
    }
    p.published.push_back({file, part.provenance});
  }
  return p;
}

}  // namespace mhc
