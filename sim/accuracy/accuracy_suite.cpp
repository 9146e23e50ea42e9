#include "accuracy/accuracy_suite.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "core/json_input.h"
#include "engine/nccl_model.h"
#include "run/run.h"
#include "scenario/input_limits.h"
#include "scenario/scenario.h"

namespace mhc {

const char* to_string(Tier t) {
  switch (t) {
    case Tier::kernels: return "kernels";
    case Tier::collectives: return "collectives";
    default: return "steps";
  }
}

namespace {

// The ranges published measurements are read with (as a profile's: profiles/SCHEMA.md): rates from
// 0.1 TFLOP/s to 100 PFLOP/s, GEMM dimensions to 2^26, buffers to 1 TiB, bandwidths from 1 MB/s.
constexpr double kMinTflops = 0.1, kMaxTflops = 1e5;
constexpr int64_t kMaxGemmDim = int64_t{1} << 26;
constexpr double kMaxCollectiveBytes = 1024.0 * 1024 * 1024 * 1024;
constexpr double kMinMeasuredGBps = 1e-3;

std::string dir_of(const std::string& file) { return std::filesystem::path(file).parent_path().string(); }

std::string fmt_g(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

PublishedSource parse_source(JsonObject obj) {
  PublishedSource s;
  s.label = obj.required("label").string();
  s.citation = obj.required("citation").string();
  if (s.label.empty()) obj.required("label").fail("expected a short label for the table");
  if (s.citation.size() < 20)
    obj.required("citation").fail("expected an exact citation (paper + table or figure, or repository + file + commit)");
  obj.finish();
  return s;
}

std::string existing_file(JsonValue v, const std::string& base, const std::string& what) {
  std::string path = resolve_relative(base, v.string());
  if (!is_regular_file_path(path)) v.fail(what + " not found: " + bounded(path, 240));
  return path;
}

// The cases array of one tier file, with unique ids across the suite.
std::vector<JsonValue> cases_of(JsonObject& root) {
  if (auto notes = root.optional("notes")) notes->string();
  return root.required("cases").non_empty_array();
}

void check_id(JsonValue v, std::set<std::string>& ids, std::string& out) {
  out = v.string();
  if (out.empty() || out.find_first_of(", \t") != std::string::npos)
    v.fail("expected an id without spaces or commas (it is what --only names), got '" + bounded(out) + "'");
  if (!ids.insert(out).second) v.fail("id '" + bounded(out) + "' is used twice in the suite");
}

KernelCase parse_kernel_case(JsonValue v, const std::string& base, std::set<std::string>& ids) {
  JsonObject o = v.object();
  KernelCase c;
  c.file = v.file();
  c.pointer = v.pointer();
  check_id(o.required("id"), ids, c.id);
  const std::string kind = o.required("kind").one_of({"leave_one_out", "published"});
  c.profile = existing_file(o.required("profile"), base, "profile");
  c.source = parse_source(o.required("source").object());
  if (auto n = o.optional("notes")) c.notes = n->string();
  if (kind == "leave_one_out") {
    c.kind = KernelCase::Kind::leave_one_out;
    auto fam = o.required("family");
    const std::string f = fam.one_of({"mhc", "residual", "norm", "elementwise", "gemm", "attention"});
    for (KernelFamily k : {KernelFamily::mhc, KernelFamily::residual, KernelFamily::norm, KernelFamily::elementwise,
                           KernelFamily::gemm, KernelFamily::attention})
      if (f == to_string(k)) c.family = k;
    c.interior_only = o.required("entries").one_of({"interior", "all"}) == "interior";
  } else {
    c.kind = KernelCase::Kind::published;
    auto kv = o.required("kernel");
    c.kernel = kv.one_of({"attention_fwd", "attention_bwd", "gemm"});
    JsonObject sh = o.required("shape").object();
    JsonObject m = o.required("measured").object();
    c.measured_tflops = m.required("tflops").number(kMinTflops, kMaxTflops);
    c.flop_convention = m.required("flop_convention").one_of({"attention_fa", "gemm_2mnk"});
    if ((c.kernel == "gemm") != (c.flop_convention == "gemm_2mnk"))
      m.required("flop_convention").fail("a GEMM takes gemm_2mnk, attention takes attention_fa");
    m.finish();
    if (c.kernel == "gemm") {
      c.shape.m = sh.required("m").integer(1, kMaxGemmDim);
      c.shape.gemm_n = sh.required("n").integer(1, kMaxGemmDim);
      c.shape.k = sh.required("k").integer(1, kMaxGemmDim);
      c.shape.groups = sh.required("groups").integer(1, limits::kMaxExperts);
      c.shape.dtype = sh.required("dtype").one_of({"bf16", "fp8"}) == "fp8" ? DType::fp8 : DType::bf16;
    } else {
      c.batch = sh.required("batch").integer(1, limits::kMaxGlobalBatch);
      c.shape.seq = sh.required("seq").integer(1, limits::kMaxTokens);
      c.shape.heads = sh.required("heads").integer(1, limits::kMaxHeads);
      c.shape.head_dim_qk = c.shape.head_dim_v = sh.required("head_dim").integer(1, limits::kMaxHeadDim);
      c.shape.causal = sh.required("causal").boolean();
      c.shape.tokens = c.batch * c.shape.seq;
    }
    sh.finish();
  }
  o.finish();
  return c;
}

CollectiveCase parse_collective_case(JsonValue v, const std::string& base, std::set<std::string>& ids) {
  JsonObject o = v.object();
  CollectiveCase c;
  c.file = v.file();
  c.pointer = v.pointer();
  check_id(o.required("id"), ids, c.id);
  c.cluster = existing_file(o.required("cluster"), base, "cluster");
  c.op = o.required("op").one_of({"all_reduce", "reduce_scatter", "all_gather", "all_to_all", "sendrecv"});
  if (auto a = o.optional("algo")) c.algo = a->one_of({"ring", "tree", "nvls", "direct", "rail"});
  c.gpus = static_cast<int>(o.required("gpus").integer(2, limits::kMaxGpus));
  c.bytes = o.required("bytes").number(1, kMaxCollectiveBytes);
  JsonObject m = o.required("measured").object();
  if (m.has("busbw_GBps") == m.has("algbw_GBps")) m.fail("expected exactly one of busbw_GBps and algbw_GBps");
  if (auto b = m.optional("busbw_GBps")) {
    c.measure = CollectiveCase::Measure::busbw;
    c.measured_GBps = b->number(kMinMeasuredGBps, limits::kMaxLinkGBps);
    if (c.op == "sendrecv") b->fail("sendrecv has no bus factor: give algbw_GBps");
  } else {
    c.measure = CollectiveCase::Measure::algbw;
    c.measured_GBps = m.required("algbw_GBps").number(kMinMeasuredGBps, limits::kMaxLinkGBps);
  }
  m.finish();
  c.source = parse_source(o.required("source").object());
  c.notes = o.required("notes").string();
  o.finish();
  return c;
}

StepCase parse_step_case(JsonValue v, const std::string& base, std::set<std::string>& ids) {
  JsonObject o = v.object();
  StepCase c;
  c.file = v.file();
  c.pointer = v.pointer();
  check_id(o.required("id"), ids, c.id);
  c.source = parse_source(o.required("source").object());
  c.hardware = o.required("hardware").string();
  JsonObject m = o.required("measured").object();
  int kinds = 0;
  for (auto [key, measure] : {std::pair{"step_time_s", StepCase::Measure::step_time_s},
                              std::pair{"tokens_per_s_per_gpu", StepCase::Measure::tokens_per_s_per_gpu},
                              std::pair{"gpu_hours_per_trillion_tokens", StepCase::Measure::gpu_hours_per_trillion_tokens}})
    if (auto x = m.optional(key)) {
      ++kinds;
      c.measure = measure;
      c.measured_value = x->positive();
    }
  if (kinds != 1) m.fail("expected exactly one of step_time_s, tokens_per_s_per_gpu, gpu_hours_per_trillion_tokens");
  c.derivation = m.required("derivation").string();
  m.finish();
  if (auto mfu = o.optional("published_mfu")) {
    JsonObject mo = mfu->object();
    c.published_mfu = mo.required("value").in_range(0.0, 1.0);
    c.published_mfu_convention = mo.required("convention").string();
    mo.finish();
  }
  if (auto reason = o.optional("not_yet_expressible")) {
    c.expressible = false;
    c.not_expressible_reason = reason->string();
    if (o.has("scenario")) o.required("scenario").fail("a case that is not yet expressible has no scenario");
  } else {
    c.scenario = existing_file(o.required("scenario"), base, "scenario");
    for (const JsonValue& a : o.required("approximations").array()) c.approximations.push_back(a.string());
    c.ci = o.required("ci").boolean();
  }
  o.finish();
  return c;
}

}  // namespace

double published_kernel_flops(const KernelCase& c) {
  const ProfileShape& s = c.shape;
  if (c.flop_convention == "gemm_2mnk") return 2.0 * double(s.groups) * double(s.m) * double(s.gemm_n) * double(s.k);
  // FlashAttention's benchmark convention: two seq x seq x head_dim matmuls per head, 2 FLOPs each.
  double fwd = 4.0 * double(c.batch) * double(s.heads) * double(s.seq) * double(s.seq) * double(s.head_dim_qk);
  if (s.causal) fwd /= 2;
  return c.kernel == "attention_bwd" ? 2.5 * fwd : fwd;
}

double published_kernel_bytes(const KernelCase& c) {
  const ProfileShape& s = c.shape;
  if (c.kernel == "gemm") {
    const double in = dtype_bytes(s.dtype);
    // A (m x k) and B (n x k) in the GEMM's dtype, D (m x n) in bf16, per group.
    return double(s.groups) * (in * (double(s.m) * s.k + double(s.gemm_n) * s.k) + 2.0 * double(s.m) * s.gemm_n);
  }
  const double tensor = double(s.tokens) * double(s.heads) * double(s.head_dim_qk) * 2.0;  // one bf16 tensor
  // Forward reads q, k, v and writes o; backward reads q, k, v, o, do and writes dq, dk, dv.
  return c.kernel == "attention_fwd" ? 4 * tensor : 8 * tensor;
}

double CollectiveCase::measured_seconds() const {
  double algbw = measured_GBps * 1e9;
  if (measure == Measure::busbw) {
    CollectiveOp o = CollectiveOp::all_reduce;
    for (CollectiveOp k : {CollectiveOp::all_reduce, CollectiveOp::reduce_scatter, CollectiveOp::all_gather,
                           CollectiveOp::all_to_all})
      if (op == to_string(k)) o = k;
    algbw /= bus_bw_factor(o, gpus);
  }
  return bytes / algbw;
}

double StepCase::measured_step_s() const {
  switch (measure) {
    case Measure::step_time_s: return measured_value;
    case Measure::tokens_per_s_per_gpu: return tokens_per_step / (measured_value * gpus);
    default: {
      // GPU-hours per 10^12 tokens -> tokens per second per GPU.
      const double tokens_per_gpu_s = 1e12 / (measured_value * 3600.0);
      return tokens_per_step / (tokens_per_gpu_s * gpus);
    }
  }
}

std::string StepCase::measured_text() const {
  switch (measure) {
    case Measure::step_time_s: return fmt_g(measured_value) + " s/step";
    case Measure::tokens_per_s_per_gpu: return fmt_g(measured_value) + " tokens/s/GPU";
    default: return fmt_g(measured_value) + " GPU-h/T tokens";
  }
}

const PeakFlops& AccuracySuite::peak_for(const StepCase& c) const {
  auto g = peaks.find(c.gpu_kind);
  if (g != peaks.end()) {
    auto p = g->second.find(c.gemm_dtype);
    if (p != g->second.end()) return p->second;
  }
  throw InputError(c.file, c.pointer,
                   "steps.json /peaks has no " + std::string(to_string(c.gemm_dtype)) + " peak for GPU kind '" +
                       c.gpu_kind + "' (the MFU of a run is taken against the peak of its GEMMs' precision)");
}

AccuracySuite load_accuracy_suite(const std::string& dir) {
  AccuracySuite suite;
  suite.dir = dir;
  std::set<std::string> ids;

  const std::string kfile = dir + "/kernels.json";
  JsonObject k = load_json_file(kfile).object();
  for (const JsonValue& v : cases_of(k)) suite.kernels.push_back(parse_kernel_case(v, dir_of(kfile), ids));
  k.finish();

  const std::string cfile = dir + "/collectives.json";
  JsonObject c = load_json_file(cfile).object();
  for (const JsonValue& v : cases_of(c)) suite.collectives.push_back(parse_collective_case(v, dir_of(cfile), ids));
  c.finish();

  const std::string sfile = dir + "/steps.json";
  JsonObject s = load_json_file(sfile).object();
  JsonObject peaks = s.required("peaks").object();
  for (const std::string& gpu : peaks.keys()) {
    JsonObject per = peaks.required(gpu).object();
    for (const std::string& dt : per.keys()) {
      JsonValue pv = per.required(dt);
      if (dt != "bf16" && dt != "fp8") pv.fail("expected a bf16 or fp8 peak, got '" + bounded(dt) + "'");
      JsonObject po = pv.object();
      PeakFlops p;
      p.flops = po.required("tflops").number(kMinTflops, kMaxTflops) * 1e12;
      p.source = po.required("source").string();
      po.finish();
      suite.peaks[gpu][dt == "fp8" ? DType::fp8 : DType::bf16] = p;
    }
    per.finish();
  }
  peaks.finish();
  for (const JsonValue& v : cases_of(s)) {
    StepCase sc = parse_step_case(v, dir_of(sfile), ids);
    if (sc.expressible) {
      const Scenario scen = load_scenario(sc.scenario);
      if (scen.mhc.variant != ResidualVariant::residual)
        v.object().required("scenario").fail("a published run has a plain residual: its scenario's mhc.variant must be \"residual\"");
      sc.tokens_per_step = double(scen.parallel.global_batch) * double(scen.model.seq_len);
      sc.gpus = scen.cluster.total_gpus();
      sc.gpu_kind = scen.cluster.gpu;
      sc.gemm_dtype = scen.model.precision.gemm_dtype();
      // MFU is never above 100%: a conversion that says so is wrong, whatever the model predicts.
      const double mfu = model_flops_per_step(scen) / (sc.gpus * suite.peak_for(sc).flops * sc.measured_step_s());
      if (mfu > 1.0)
        throw InputError(sc.file, sc.pointer + "/measured",
                         "the measured figure gives one step of " + fmt_g(sc.measured_step_s()) + " s, an MFU of " +
                             fmt_g(100 * mfu) + "% against the " + to_string(sc.gemm_dtype) +
                             " peak: check the conversion");
    }
    suite.steps.push_back(std::move(sc));
  }
  s.finish();
  return suite;
}

void keep_only(AccuracySuite& suite, const std::vector<std::string>& ids, const std::string& flag) {
  std::set<std::string> want(ids.begin(), ids.end()), found;
  auto keep = [&](auto& cases) {
    std::erase_if(cases, [&](const auto& c) { return !want.count(c.id); });
    for (const auto& c : cases) found.insert(c.id);
  };
  keep(suite.kernels);
  keep(suite.collectives);
  keep(suite.steps);
  for (const std::string& id : want)
    if (!found.count(id)) throw InputError("mhcsim accuracy", flag, "no case '" + id + "' in " + suite.dir);
}

}  // namespace mhc
