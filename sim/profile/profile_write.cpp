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

json provenance(const ProfileProvenance& v, ProfileKind kind) {
  json o{{"gpu", v.gpu}, {"date", v.date}};
  put_if(o, "notes", v.notes);
  if (kind == ProfileKind::reference) {
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
  return o;
}

json entry(const ProfileEntry& e) {
  json o{{"kernel", e.kernel},
         {"shape", profile_shape_json(e.shape, e.kernel, e.family)},
         {"time_s",
          {{"median", e.seconds},
           {"min", e.seconds_min},
           {"max", e.seconds_max},
           {"runs", e.runs},
           {"warmup", e.warmup},
           {"input_sets", e.input_sets}}},
         {"model", {{"read_bytes", e.model_read_bytes}, {"write_bytes", e.model_write_bytes}, {"flops", e.model_flops}}},
         {"implementation", e.implementation}};
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
    case KernelFamily::attention:
      return json{{"tokens", s.tokens}, {"seq", s.seq}, {"heads", s.heads}, {"head_dim_qk", s.head_dim_qk},
                  {"head_dim_v", s.head_dim_v}, {"causal", s.causal}};
    default: {
      json o{{"C", s.C}, {"tokens", s.tokens}};
      if (family == KernelFamily::mhc) o["n"] = s.n;
      if (is_sinkhorn_kernel(kernel)) o["sinkhorn_iters"] = s.sinkhorn_iters;
      return o;
    }
  }
}

nlohmann::json profile_to_json(const Profile& p) {
  // The lowest version that holds the file: 3 for a corun section, 2 for parts, else 1, so a single
  // run's file without corun stays readable by version-1 readers.
  const int version = p.corun ? 3 : !p.parts.empty() ? 2 : 1;
  json o{{"schema", kProfileSchemaName}, {"schema_version", version}, {"kind", to_string(p.kind)}};
  o["provenance"] = provenance(p.provenance, p.kind);
  if (!p.parts.empty()) {
    json parts = json::array();
    for (const ProfilePart& part : p.parts)
      parts.push_back(json{{"file", part.file}, {"provenance", provenance(part.provenance, ProfileKind::measured)}});
    o["parts"] = parts;
  }
  json ceilings{{"copy_bandwidth_Bps", sourced(p.ceilings.copy_bandwidth_Bps)},
                {"peak_flops", peaks(p.ceilings.peak_flops)}};
  if (p.ceilings.launch_overhead_s) ceilings["launch_overhead_s"] = sourced(*p.ceilings.launch_overhead_s);
  o["ceilings"] = ceilings;
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
