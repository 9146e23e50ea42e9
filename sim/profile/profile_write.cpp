// Writing a profile in the schema load_profile reads (profiles/SCHEMA.md). mhc-profile uses this, so
// the profiler and the simulator can never disagree about the format.
#include <fstream>

#include "core/json_input.h"
#include "profile/profile.h"
#include "profile/profile_corun.h"

namespace mhc {

namespace {

using json = nlohmann::json;

json sourced(const SourcedValue& v) { return json{{"value", v.value}, {"source", v.source}}; }

json peaks(const std::map<DType, SourcedValue>& m) {
  json out = json::object();
  for (const auto& [dtype, v] : m) out[to_string(dtype)] = sourced(v);
  return out;
}

void put_if(json& o, const char* key, const std::string& value) {
  if (!value.empty()) o[key] = value;
}

json range(const SampledRange& r) { return json{{"min", r.min}, {"median", r.median}, {"max", r.max}}; }

json clocks(const ClockRecord& c) {
  json parts = json::array();
  for (const ClockPart& p : c.parts) {
    json o{{"part", p.part},
           {"samples", p.samples},
           {"sm_clock_mhz", range(p.sm_clock_mhz)},
           {"memory_clock_mhz", range(p.memory_clock_mhz)},
           {"throttle_reasons", p.throttle_reasons}};
    if (p.power_w) o["power_w"] = range(*p.power_w);
    parts.push_back(o);
  }
  json o{{"mode", c.mode}, {"source", c.source}, {"parts", parts}};
  if (c.mode == "sustained") o["sustained_load_s"] = c.sustained_load_s;
  return o;
}

json provenance(const ProfileProvenance& v, ProfileKind kind) {
  json o{{"gpu", v.gpu}, {"date", v.date}};
  put_if(o, "notes", v.notes);
  if (kind != ProfileKind::measured) {
    o["compiled_from"] = v.compiled_from;
    return o;
  }
  o["command"] = v.command;
  o["sm_count"] = v.sm_count;
  o["sm_clock_mhz"] = v.sm_clock_mhz;
  o["memory_clock_mhz"] = v.memory_clock_mhz;
  o["memory_bytes"] = v.memory_bytes;
  o["driver"] = v.driver;
  o["cuda_runtime"] = v.cuda_runtime;
  o["cupti"] = v.cupti;
  put_if(o, "cublaslt", v.cublaslt);
  put_if(o, "cudnn", v.cudnn);
  put_if(o, "host", v.host);
  if (v.clocks) o["clocks"] = clocks(*v.clocks);
  return o;
}

json entry(const ProfileEntry& e) {
  json o{{"kernel", e.kernel},
         {"shape", profile_shape_json(e.shape, e.kernel, e.family)},
         {"model", {{"read_bytes", e.model_read_bytes}, {"write_bytes", e.model_write_bytes}, {"flops", e.model_flops}}},
         {"implementation", e.implementation}};
  if (e.published())
    o["published"] = json{{"flops_per_s", e.published_flops_per_s}, {"source", e.published_source}};
  else
    o["time_s"] = json{{"median", e.seconds}, {"min", e.seconds_min}, {"max", e.seconds_max},
                       {"runs", e.runs},     {"warmup", e.warmup},   {"input_sets", e.input_sets}};
  if (e.dram_read_bytes && e.dram_write_bytes)
    o["dram_bytes"] = json{{"read", *e.dram_read_bytes}, {"write", *e.dram_write_bytes}};
  if (e.part >= 0) o["part"] = e.part;
  return o;
}

}  // namespace

nlohmann::json profile_shape_json(const ProfileShape& s, const std::string& kernel, KernelFamily family) {
  switch (family) {
    case KernelFamily::gemm:
      return json{{"m", s.m}, {"n", s.gemm_n}, {"k", s.k}, {"groups", s.groups}, {"dtype", to_string(s.dtype)}};
    case KernelFamily::attention: {
      json o{{"tokens", s.tokens}, {"seq", s.seq}, {"heads", s.heads}, {"head_dim_qk", s.head_dim_qk},
             {"head_dim_v", s.head_dim_v}, {"causal", s.causal}};
      if (s.window) o["window"] = s.window;
      if (s.sparse_topk) o["sparse_topk"] = s.sparse_topk;
      if (s.compress_ratio) o["compress_ratio"] = s.compress_ratio;
      if (s.compressed_topk) o["compressed_topk"] = s.compressed_topk;
      return o;
    }
    default: {
      json o{{"C", s.C}, {"tokens", s.tokens}};
      if (family == KernelFamily::mhc) o["n"] = s.n;
      if (is_sinkhorn_kernel(kernel)) o["sinkhorn_iters"] = s.sinkhorn_iters;
      return o;
    }
  }
}

nlohmann::json profile_to_json(const Profile& p) {
  // The lowest version that holds the profile: 4 for a corun section; 3 for the published kind,
  // sampled clocks or windowed attention shapes; 2 for a merged profile; 1 otherwise (readable by
  // every reader).
  bool needs_3 = p.kind == ProfileKind::published || p.provenance.clocks.has_value();
  for (const ProfilePart& part : p.parts) needs_3 |= part.provenance.clocks.has_value();
  for (const ProfileEntry& e : p.entries)
    needs_3 |= e.shape.window > 0 || e.shape.sparse_topk > 0 || e.shape.compress_ratio > 0;
  const int version = p.corun ? 4 : needs_3 ? 3 : p.parts.empty() ? 1 : 2;
  json o{{"schema", kProfileSchemaName}, {"schema_version", version}, {"kind", to_string(p.kind)}};
  o["provenance"] = provenance(p.provenance, p.kind);
  if (!p.parts.empty()) {
    json parts = json::array();
    for (const ProfilePart& part : p.parts)
      parts.push_back(json{{"file", part.file}, {"provenance", provenance(part.provenance, ProfileKind::measured)}});
    o["parts"] = parts;
  }
  if (p.kind != ProfileKind::published) {
    json ceilings{{"copy_bandwidth_Bps", sourced(p.ceilings.copy_bandwidth_Bps)},
                  {"peak_flops", peaks(p.ceilings.peak_flops)}};
    if (p.ceilings.launch_overhead_s) ceilings["launch_overhead_s"] = sourced(*p.ceilings.launch_overhead_s);
    o["ceilings"] = ceilings;
  }
  const ProfileDatasheet& d = p.datasheet;
  if (d.sm_count || d.memory_bytes || d.dram_bandwidth_Bps || !d.peak_flops.empty()) {
    json ds = json::object();
    if (d.sm_count) ds["sm_count"] = sourced(*d.sm_count);
    if (d.memory_bytes) ds["memory_bytes"] = sourced(*d.memory_bytes);
    if (d.dram_bandwidth_Bps) ds["dram_bandwidth_Bps"] = sourced(*d.dram_bandwidth_Bps);
    if (!d.peak_flops.empty()) ds["peak_flops"] = peaks(d.peak_flops);
    o["datasheet"] = ds;
  }
  json kernels = json::array();
  for (const ProfileEntry& e : p.entries) kernels.push_back(entry(e));
  o["kernels"] = kernels;
  if (p.corun) o["corun"] = corun_to_json(*p.corun);
  // Refuse to emit what load_profile would reject: validate the document by the reader's rules.
  parse_profile(parse_json_text(o.dump(), p.file.empty() ? std::string("profile") : p.file));
  return o;
}

void write_profile(const Profile& profile, const std::string& path) {
  json doc = profile_to_json(profile);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw InputError(path, "", "cannot open file for writing");
  out << doc.dump(2) << "\n";
  if (!out) throw InputError(path, "", "write failed");
}

}  // namespace mhc
