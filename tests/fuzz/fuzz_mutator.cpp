#include "fuzz_mutator.h"

#include <cmath>

#include "core/json_input.h"

namespace mhc::fuzz {

namespace {

using json = nlohmann::json;

// Integers at the edges of int, int64 and double's exact range, and the small values every
// divisibility and count check meets.
const std::vector<std::string> kRawNumbers = {
    "0", "1", "-1", "2", "3", "7", "8", "16", "17", "64", "65", "1023", "1024", "1025", "65536", "65537",
    "2147483647", "2147483648", "-2147483648", "4294967295", "4294967296", "4294967297", "9007199254740993",
    "4611686018427387904", "9223372036854775807", "-9223372036854775808", "18446744073709551615",
    "18446744073709551616", "0.5", "-0.0", "1e-300", "1e-30", "1e-9", "4.9e-324", "1e300",
    "1.7976931348623157e308", "1e400", "-1e400", "1e-400", "3.5", "1e15", "1e19", "2.0", "1E3"};

// Texts that are not JSON, or JSON no mhcsim file holds.
std::vector<std::string> hostile_raw() {
  return {"NaN", "Infinity", "-", "01", "0x10", "\"\xff\xfe\"", "\"\xc3\"", "\"a\\u0000b\"", "\"\\ud800\"",
          "\"" + std::string(100000, 'x') + "\"", deep_array(63), deep_array(64), deep_array(65), deep_array(50000),
          "{\"a\":1,\"a\":2}", "[1,2,", "{", "\"\x01\x7f\"", "true", "null", "[]", "{}"};
}

}  // namespace

File Mutator::pick_file() {
  const uint64_t r = below(100);
  if (r < 35) return File::scenario;
  if (r < 55) return File::model;
  if (r < 80) return File::cluster;
  return File::profile;
}

// A random value's pointer (each value equally likely); "" for the root.
std::string Mutator::pick_pointer(const json& doc, bool leaves_only) {
  std::vector<std::string> all;
  std::vector<std::pair<const json*, std::string>> stack{{&doc, ""}};
  while (!stack.empty()) {
    auto [v, p] = stack.back();
    stack.pop_back();
    const bool leaf = !v->is_object() && !v->is_array();
    if (leaf || !leaves_only) all.push_back(p);
    if (v->is_object())
      for (auto it = v->begin(); it != v->end(); ++it) stack.push_back({&*it, json_pointer_join(p, it.key())});
    if (v->is_array())
      for (size_t i = 0; i < v->size(); ++i) stack.push_back({&(*v)[i], p + "/" + std::to_string(i)});
  }
  return all.empty() ? std::string() : all[below(all.size())];
}

json Mutator::interesting_value() {
  switch (below(8)) {
    case 0: return json::parse(kRawNumbers[below(kRawNumbers.size())], nullptr, false);  // 1e400 etc.: discarded
    case 1: return std::ldexp(1.0, static_cast<int>(below(140)) - 70);
    case 2: return static_cast<int64_t>(rng_());
    case 3: return std::string(below(3) == 0 ? 5000 : below(12), "abc/../~x"[below(9)]);
    case 4: return below(2) == 0;
    case 5: return json::array({1, "x", nullptr});
    case 6: return json::object({{"unknown", 1}});
    default: return nullptr;
  }
}

std::string Mutator::interesting_raw() {
  if (chance(0.6)) return kRawNumbers[below(kRawNumbers.size())];
  const auto hostile = hostile_raw();
  return hostile[below(hostile.size())];
}

void Mutator::mutate_file(InputWorkspace& ws, Mutation& m) {
  const File f = pick_file();
  json& doc = ws.doc(f);
  if (f == File::profile) m.profile_touched = true;
  const std::string where = file_name(f);
  switch (below(10)) {
    case 0:
    case 1: {  // a value becomes something else
      const std::string p = pick_pointer(doc, true);
      if (p.empty()) break;
      doc[json::json_pointer(p)] = interesting_value();
      m.notes.push_back(where + " " + p + " = " + doc[json::json_pointer(p)].dump().substr(0, 60));
      break;
    }
    case 2:
    case 3: {  // raw text at a value: numbers out of range, hostile texts
      const std::string p = pick_pointer(doc, below(3) != 0);
      const std::string raw = interesting_raw();
      if (!p.empty() && ws.set_raw(f, p, raw)) m.notes.push_back(where + " " + p + " = raw " + raw.substr(0, 60));
      break;
    }
    case 4: {  // a number nudged, scaled, negated
      const std::string p = pick_pointer(doc, true);
      if (p.empty()) break;
      json& v = doc[json::json_pointer(p)];
      if (!v.is_number()) break;
      const double d = v.get<double>();
      const double options[] = {d + 1, d - 1, -d, 0, d * 2, d / 2, d * 1e10, d / 1e10, std::floor(d / 3), d + 0.5};
      v = options[below(10)];
      if (v.get<double>() == std::floor(v.get<double>()) && std::fabs(v.get<double>()) < 9e18)
        v = static_cast<int64_t>(v.get<double>());
      m.notes.push_back(where + " " + p + " = " + v.dump());
      break;
    }
    case 5: {  // a key removed
      const std::string p = pick_pointer(doc, false);
      if (p.empty()) break;
      json::json_pointer ptr(p);
      json& parent = doc[ptr.parent_pointer()];
      if (parent.is_object()) parent.erase(ptr.back());
      m.notes.push_back(where + " remove " + p);
      break;
    }
    case 6: {  // an unknown key added
      const std::string p = pick_pointer(doc, false);
      json& v = doc[json::json_pointer(p)];
      if (v.is_object()) v["unknown_key"] = 1;
      m.notes.push_back(where + " add " + p + "/unknown_key");
      break;
    }
    case 7: {  // a key written twice
      const std::string p = pick_pointer(doc, false);
      if (p.empty()) break;
      const std::string key = json::json_pointer(p).back();
      ws.edit({TextEdit::Kind::replace, f, "\"" + key + "\": ", "\"" + key + "\": " + interesting_raw() + ", \"" + key + "\": ", 0});
      m.notes.push_back(where + " duplicate key " + key);
      break;
    }
    case 8: {  // the text cut short, or garbage after it
      if (chance(0.5)) {
        ws.edit({TextEdit::Kind::truncate, f, "", "", below(4000)});
        m.notes.push_back(where + " truncated");
      } else {
        const std::string tails[] = {std::string("\0", 1), "}", " x", "\xff", std::string("\0{}", 3), "\n\n"};
        ws.edit({TextEdit::Kind::append, f, tails[below(6)], "", 0});
        m.notes.push_back(where + " garbage appended");
      }
      break;
    }
    default: {  // references to other files broken
      json& s = ws.doc(File::scenario);
      const std::string targets[] = {"nope.json", ".", "profile.json", "cluster.json", "model.json",
                                     std::string(5000, 'd') + ".json", "/dev/null", ""};
      const char* keys[] = {"model", "cluster", "profile"};
      const std::string key = keys[below(3)];
      if (key == "profile" && chance(0.5)) {
        ws.doc(File::cluster)["gpu"]["profile"] = targets[below(8)];
      } else {
        s[key] = targets[below(8)];
      }
      m.notes.push_back("reference " + key + " broken");
      break;
    }
  }
}

std::string Mutator::set_flag(InputWorkspace& ws) {
  std::string pointer;
  switch (below(6)) {
    case 0: pointer = "/model" + pick_pointer(ws.doc(File::model), true); break;
    case 1: pointer = "/cluster" + pick_pointer(ws.doc(File::cluster), true); break;
    case 2: {
      const std::string junk[] = {"/", "//", "/~2", "/a~", "/parallelism/stage_layers/99999999999999999999",
                                  "/x/y/z", "/mhc/n/0", "/\xff", "/cluster/gpu/profile", "/model/attention/kind"};
      pointer = junk[below(10)];
      break;
    }
    default: pointer = pick_pointer(ws.doc(File::scenario), true);
  }
  if (pointer.empty()) pointer = "/";
  std::string value;
  switch (below(4)) {
    case 0: value = interesting_raw(); break;
    case 1: value = interesting_value().dump(-1, ' ', false, json::error_handler_t::replace); break;
    case 2: {
      const std::string words[] = {"dualpipe", "auto", "rail", "gelu", "\xc3\x28", "a=b", "", "fp8", "mla", "moe"};
      value = words[below(10)];
      break;
    }
    default: value = std::to_string(static_cast<int64_t>(below(70)) - 3);
  }
  return pointer + "=" + value;
}

std::string Mutator::plausible_set_flag() {
  struct Choice {
    const char* pointer;
    std::vector<std::string> values;
  };
  static const std::vector<Choice> choices = {
      {"/mhc/n", {"1", "2", "3", "4", "6", "8", "12", "16"}},
      {"/mhc/variant", {"residual", "hc", "mhc"}},
      {"/mhc/fused", {"true", "false"}},
      {"/mhc/recompute", {"true", "false"}},
      {"/mhc/recompute_block", {"auto", "1", "2", "3", "8"}},
      {"/mhc/high_priority_stream", {"true", "false"}},
      {"/mhc/sinkhorn_iters", {"1", "5", "20", "100"}},
      {"/schedule/kind", {"gpipe", "1f1b", "interleaved", "zb1p", "zbh2", "dualpipe", "dualpipev"}},
      {"/schedule/virtual_stages", {"1", "2", "3", "4"}},
      {"/parallelism/tp", {"1", "2", "4", "8"}},
      {"/parallelism/pp", {"1", "2", "3", "4", "8", "16"}},
      {"/parallelism/ep", {"1", "2", "4", "8", "64"}},
      {"/parallelism/dp", {"1", "2", "4", "8", "32", "128"}},
      {"/parallelism/zero_stage", {"0", "1", "2", "3"}},
      {"/parallelism/micro_batch", {"1", "2", "4"}},
      {"/parallelism/global_batch", {"8", "16", "64", "512", "1024", "4096"}},
      {"/parallelism/ep_all_to_all", {"direct", "rail"}},
      {"/parallelism/fsdp_reshard_after_forward", {"default", "always", "never", "sometimes"}},
      {"/parallelism/dp_overlap_grad_reduce", {"true", "false", "1"}},
      {"/parallelism/dp_bucket_params", {"1", "1000000", "40000000", "0", "1099511627777"}},
      {"/parallelism/stage_layers", {"[1,1,1,5]", "[2,2,2,2]", "[8]", "[10,10,10,10]"}},
      {"/model/layers", {"2", "8", "16", "40", "61", "1024"}},
      {"/model/hidden", {"8", "1024", "2560", "7168", "131072"}},
      {"/model/seq_len", {"1", "2048", "4096", "16777216"}},
      {"/model/attention/kind", {"mha", "gqa", "mla"}},
      {"/model/ffn/kind", {"dense", "moe"}},
      {"/model/gemm_dtype", {"bf16", "fp8"}},
      {"/cluster/nodes", {"1", "2", "4", "16", "256"}},
      {"/cluster/gpus_per_node", {"1", "2", "4", "8"}},
      {"/cluster/nics/per_node", {"1", "2", "4", "8"}},
      {"/cluster/fabric/topology", {"fat_tree", "rail_optimized", "multi_plane"}},
      {"/cluster/fabric/nodes_per_leaf", {"1", "2", "16", "1000"}},
      {"/cluster/fabric/oversubscription", {"1", "2", "64"}},
      {"/cluster/gpu/comm_sms", {"0", "20", "131"}},
  };
  const Choice& c = choices[below(choices.size())];
  return std::string(c.pointer) + "=" + c.values[below(c.values.size())];
}

Mutation Mutator::mutate(InputWorkspace& ws) {
  Mutation m;
  if (below(10) < 3) {
    const uint64_t flags = 1 + below(4);
    for (uint64_t i = 0; i < flags; ++i) m.set_flags.push_back(plausible_set_flag());
    return m;
  }
  const uint64_t edits = 1 + below(4);
  // An earlier mutation may have changed a document's shape under a later one (the root made a
  // string, "gpu" an array): such a mutation does nothing.
  for (uint64_t i = 0; i < edits; ++i) {
    try {
      mutate_file(ws, m);
    } catch (const json::exception&) {
      m.notes.push_back("(a mutation did not apply)");
    }
  }
  const uint64_t flags = below(4);
  for (uint64_t i = 0; i < flags; ++i) {
    try {
      m.set_flags.push_back(set_flag(ws));
    } catch (const json::exception&) {
    }
  }
  return m;
}

}  // namespace mhc::fuzz
