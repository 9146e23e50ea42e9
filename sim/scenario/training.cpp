#include "scenario/training.h"

#include <algorithm>

#include "scenario/input_limits.h"

namespace mhc {

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

RecomputeModule module_named(const std::string& n) {
  const auto& names = recompute_module_names();
  return static_cast<RecomputeModule>(std::find(names.begin(), names.end(), n) - names.begin());
}

}  // namespace

const std::vector<std::string>& recompute_module_names() {
  static const std::vector<std::string> names{"layernorm", "mla_up_proj", "core_attn",     "moe_act",
                                              "mlp",       "shared_experts", "moe_experts"};
  return names;
}

const char* to_string(RecomputeModule m) { return recompute_module_names().at(static_cast<size_t>(m)).c_str(); }

bool RecomputeSpec::has(RecomputeModule m) const { return std::find(modules.begin(), modules.end(), m) != modules.end(); }

const std::vector<std::string>& recompute_preset_names() {
  static const std::vector<std::string> names{"none", "selective", "full", "deepseek-v3"};
  return names;
}

std::optional<RecomputeSpec> recompute_preset(const std::string& name) {
  RecomputeSpec r;
  r.name = name;
  if (name == "none") return r;
  if (name == "selective") {
    r.modules = {RecomputeModule::core_attn};
    return r;
  }
  if (name == "full") {
    r.full_layers = -1;
    return r;
  }
  if (name == "deepseek-v3") {
    r.modules = {RecomputeModule::layernorm, RecomputeModule::mla_up_proj, RecomputeModule::moe_act};
    return r;
  }
  return std::nullopt;
}

std::optional<StorageFormat> builtin_storage_format(const std::string& name) {
  if (name == "bf16") return StorageFormat{"bf16", 16, 0, 0};
  if (name == "fp32") return StorageFormat{"fp32", 32, 0, 0};
  if (name == "fp8") return StorageFormat{"fp8", 8, 128, 32};
  if (name == "e5m6") return StorageFormat{"e5m6", 12, 128, 32};
  return std::nullopt;
}

const std::vector<std::string>& storage_role_names() {
  static const std::vector<std::string> names{"attention_output", "moe_activation_input", "mlp_activation_input",
                                              "logits"};
  return names;
}

const std::vector<std::string>& saved_activations_preset_names() {
  static const std::vector<std::string> names{"as-computed", "deepseek-v3"};
  return names;
}

std::optional<SavedActivationsSpec> saved_activations_preset(const std::string& name) {
  SavedActivationsSpec s;
  s.name = name;
  if (name == "as-computed") return s;
  if (name == "deepseek-v3") {
    s.formats["attention_output"] = *builtin_storage_format("e5m6");
    s.formats["moe_activation_input"] = *builtin_storage_format("fp8");
    return s;
  }
  return std::nullopt;
}

double OptimizerSpec::state_bytes(bool muon_matrix) const {
  return (master_weights ? 4.0 : 0.0) + double(moments(muon_matrix)) * dtype_bytes(states);
}

const std::vector<std::string>& optimizer_preset_names() {
  static const std::vector<std::string> names{"adamw", "deepseek-v3", "muon", "deepseek-v4"};
  return names;
}

std::optional<OptimizerSpec> optimizer_preset(const std::string& name) {
  OptimizerSpec o;
  o.name = name;
  if (name == "adamw") return o;
  if (name == "deepseek-v3") {
    o.states = DType::bf16;
    return o;
  }
  if (name == "muon" || name == "deepseek-v4") {
    o.kind = OptimizerSpec::Kind::muon;
    if (name == "deepseek-v4") o.newton_schulz_steps = 10;
    return o;
  }
  return std::nullopt;
}

namespace {

RecomputeSpec parse_recompute(const JsonValue& v) {
  if (v.is_string()) return *recompute_preset(v.one_of(recompute_preset_names()));
  if (!v.is_object())
    v.fail("expected a preset (" + joined(recompute_preset_names()) + ") or an object {modules, full_layers}, got " +
           v.type_name());
  JsonObject o = v.object();
  RecomputeSpec r;
  r.name = "custom";
  for (const auto& m : o.required("modules").array()) {
    const RecomputeModule mod = module_named(m.one_of(recompute_module_names()));
    if (r.has(mod)) m.fail(std::string("listed twice: ") + to_string(mod));
    r.modules.push_back(mod);
  }
  if (auto f = o.optional("full_layers")) r.full_layers = f->integer(0, limits::kMaxLayers);
  o.finish();
  return r;
}

StorageFormat parse_format(const JsonValue& v, const std::map<std::string, StorageFormat>& custom) {
  const std::string name = v.string();
  if (auto b = builtin_storage_format(name)) return *b;
  if (auto it = custom.find(name); it != custom.end()) return it->second;
  std::string known = "bf16, fp8, e5m6";
  for (const auto& [n, f] : custom) known += ", " + n;
  v.fail("unknown storage format \"" + name + "\": expected one of " + known + " (custom ones go in \"formats\")");
}

SavedActivationsSpec parse_saved_activations(const JsonValue& v) {
  if (v.is_string()) return *saved_activations_preset(v.one_of(saved_activations_preset_names()));
  if (!v.is_object())
    v.fail("expected a preset (" + joined(saved_activations_preset_names()) +
           ") or an object {preset, tensors, formats, fold_routing_weights}, got " + v.type_name());
  JsonObject o = v.object();
  // An object starts from a preset (none: as-computed) and changes what it lists.
  SavedActivationsSpec s;
  if (auto preset = o.optional("preset")) s = *saved_activations_preset(preset->one_of(saved_activations_preset_names()));
  s.name = s.name == "as-computed" ? "custom" : s.name + ", modified";
  std::map<std::string, StorageFormat> custom;
  if (auto formats = o.optional("formats")) {
    JsonObject fo = formats->object();
    for (const auto& key : fo.keys()) {
      JsonValue fv = fo.required(key);
      if (builtin_storage_format(key)) fv.fail("\"" + key + "\" is a built-in format; give a custom one another name");
      JsonObject f = fv.object();
      StorageFormat sf;
      sf.name = key;
      sf.bits = f.required("bits").number(1, 64);
      // A scale per block of values: 1x128 tiles in DeepSeek-V3 (3.3.2); a block wider than a row of
      // the widest FFN is no block.
      if (auto b = f.optional("block")) sf.block = b->integer(1, limits::kMaxFfnWidth);
      if (auto sb = f.optional("scale_bits")) {
        sf.scale_bits = sb->number(1, 64);
        if (sf.block == 0) sb->fail("a scale needs the \"block\" of values it scales");
      } else if (sf.block > 0) {
        f.required("scale_bits");
      }
      f.finish();
      custom[key] = sf;
    }
    fo.finish();
  }
  if (auto tensors = o.optional("tensors")) {
    JsonObject to = tensors->object();
    for (const auto& key : to.keys()) {
      JsonValue tv = to.required(key);
      const auto& roles = storage_role_names();
      if (std::find(roles.begin(), roles.end(), key) == roles.end())
        tv.fail("unknown saved tensor \"" + key + "\": expected one of " + joined(roles));
      s.formats[key] = parse_format(tv, custom);
    }
    to.finish();
  }
  if (auto fold = o.optional("fold_routing_weights")) s.fold_routing_weights = fold->boolean();
  o.finish();
  return s;
}

OptimizerSpec parse_optimizer(const JsonValue& v) {
  if (v.is_string()) return *optimizer_preset(v.one_of(optimizer_preset_names()));
  if (!v.is_object())
    v.fail("expected a preset (" + joined(optimizer_preset_names()) +
           ") or an object {kind, params, gradients, master_weights, states, newton_schulz_steps}, got " +
           v.type_name());
  JsonObject o = v.object();
  OptimizerSpec opt;
  opt.name = "custom";
  opt.kind = o.required("kind").one_of({"adamw", "muon"}) == "muon" ? OptimizerSpec::Kind::muon
                                                                     : OptimizerSpec::Kind::adamw;
  auto dtype = [&](const char* key) {
    return o.required(key).one_of({"bf16", "fp32"}) == "bf16" ? DType::bf16 : DType::fp32;
  };
  opt.params = dtype("params");
  opt.gradients = dtype("gradients");
  opt.master_weights = o.required("master_weights").boolean();
  opt.states = dtype("states");
  if (opt.params == DType::fp32 && opt.master_weights)
    o.required("master_weights").fail("fp32 parameters are their own master copy: master_weights must be false");
  if (auto ns = o.optional("newton_schulz_steps")) {
    if (opt.kind != OptimizerSpec::Kind::muon) ns->fail("Newton-Schulz iterations are Muon's: kind is adamw");
    opt.newton_schulz_steps = static_cast<int>(ns->integer(1, 100));
  }
  o.finish();
  return opt;
}

}  // namespace

TrainingSpec parse_training(JsonObject obj) {
  TrainingSpec t;
  t.recompute = parse_recompute(obj.required("recompute"));
  t.saved_activations = parse_saved_activations(obj.required("saved_activations"));
  t.optimizer = parse_optimizer(obj.required("optimizer"));
  if (auto f = obj.optional("framework_overhead_GiB")) {
    t.framework_overhead_bytes = f->number(0, limits::kMaxGpuMemoryGB) * double(1ull << 30);
    t.framework_overhead_given = true;
  }
  obj.finish();
  return t;
}

}  // namespace mhc
