#include "profile/profile_corun.h"

#include <string>

#include "core/json_input.h"

namespace mhc {

double ProfileCorun::sms_for_bandwidth(double bandwidth_Bps) const {
  if (copy_by_sms.empty()) return 0.0;
  double s0 = 0.0, b0 = 0.0;
  for (const CorunCopyPoint& p : copy_by_sms) {
    if (p.bandwidth_Bps >= bandwidth_Bps) {
      if (p.bandwidth_Bps <= b0) return s0;
      return s0 + (p.sms - s0) * (bandwidth_Bps - b0) / (p.bandwidth_Bps - b0);
    }
    if (p.bandwidth_Bps > b0) s0 = p.sms, b0 = p.bandwidth_Bps;
  }
  return copy_by_sms.back().sms;
}

namespace {

CorunTimes parse_times(const JsonValue& v) {
  JsonObject o = v.object();
  CorunTimes t;
  t.gemm_s = o.required("gemm_s").positive();
  t.post_res_s = o.required("post_res_s").positive();
  JsonValue span = o.required("span_s");
  t.span_s = span.positive();
  // The span runs from the first start to the last end: at least as long as either kernel.
  if (t.span_s < std::max(t.gemm_s, t.post_res_s) * (1 - 1e-9))
    span.fail("must be at least the longer kernel's duration (first start to last end)");
  o.finish();
  return t;
}

// `what` names the kernel: its shape keys and its time alone.
double parse_kernel(const JsonValue& v, const std::string& kernel, KernelFamily family, ProfileShape& shape) {
  JsonObject o = v.object();
  shape = parse_profile_shape(o.required("shape"), kernel, family);
  const double alone = o.required("alone_s").positive();
  o.finish();
  return alone;
}

nlohmann::json times_json(const CorunTimes& t) {
  return {{"gemm_s", t.gemm_s}, {"post_res_s", t.post_res_s}, {"span_s", t.span_s}};
}

}  // namespace

ProfileCorun parse_corun(const JsonValue& v, int sm_count, size_t part_count) {
  JsonObject o = v.object();
  ProfileCorun c;
  c.pointer = v.pointer();
  c.method = o.required("method").string();
  if (c.method.empty()) o.required("method").fail("must say how the co-run was measured");
  for (const JsonValue& item : o.required("copy_by_sms").non_empty_array()) {
    JsonObject p = item.object();
    JsonValue sms = p.required("sms");
    CorunCopyPoint point{static_cast<int>(sms.integer_at_least(1)), p.required("bandwidth_Bps").positive()};
    if (!c.copy_by_sms.empty() && point.sms <= c.copy_by_sms.back().sms)
      sms.fail("SM counts must increase from one point to the next");
    if (sm_count > 0 && point.sms > sm_count)
      sms.fail("more than the GPU's " + std::to_string(sm_count) + " SMs (/provenance/sm_count)");
    p.finish();
    c.copy_by_sms.push_back(point);
  }
  if (sm_count > 0 && c.copy_by_sms.back().sms != sm_count)
    o.required("copy_by_sms").fail("the last point must be the whole GPU (" + std::to_string(sm_count) +
                                   " SMs, /provenance/sm_count), the ceiling the curve rises to");
  c.gemm_alone_s = parse_kernel(o.required("gemm"), "gemm", KernelFamily::gemm, c.gemm_shape);
  c.post_res_alone_s =
      parse_kernel(o.required("post_res"), "mhc_fused.post_res_fwd", KernelFamily::mhc, c.post_res_shape);
  c.same_priority = parse_times(o.required("same_priority"));
  c.post_res_high_priority = parse_times(o.required("post_res_high_priority"));
  JsonObject b = o.required("gemm_beside_copy").object();
  JsonValue copy_sms = b.required("copy_sms");
  c.copy_sms = static_cast<int>(copy_sms.integer_at_least(1));
  if (sm_count > 0 && c.copy_sms >= sm_count) copy_sms.fail("must leave SMs to the GEMM (fewer than the GPU's)");
  c.copy_alone_Bps = b.required("copy_alone_Bps").positive();
  c.copy_beside_gemm_Bps = b.required("copy_Bps").positive();
  c.gemm_beside_copy_s = b.required("gemm_s").positive();
  b.finish();
  if (part_count > 0) {
    JsonValue part = o.required("part");
    c.part = static_cast<int>(part.integer_at_least(0));
    if (static_cast<size_t>(c.part) >= part_count)
      part.fail("must index /parts (0 to " + std::to_string(part_count - 1) + "), got " + std::to_string(c.part));
  }
  o.finish();
  return c;
}

nlohmann::json corun_to_json(const ProfileCorun& c) {
  nlohmann::json curve = nlohmann::json::array();
  for (const CorunCopyPoint& p : c.copy_by_sms) curve.push_back({{"sms", p.sms}, {"bandwidth_Bps", p.bandwidth_Bps}});
  nlohmann::json o{
      {"method", c.method},
      {"copy_by_sms", curve},
      {"gemm", {{"shape", profile_shape_json(c.gemm_shape, "gemm", KernelFamily::gemm)}, {"alone_s", c.gemm_alone_s}}},
      {"post_res",
       {{"shape", profile_shape_json(c.post_res_shape, "mhc_fused.post_res_fwd", KernelFamily::mhc)},
        {"alone_s", c.post_res_alone_s}}},
      {"same_priority", times_json(c.same_priority)},
      {"post_res_high_priority", times_json(c.post_res_high_priority)},
      {"gemm_beside_copy",
       {{"copy_sms", c.copy_sms},
        {"copy_alone_Bps", c.copy_alone_Bps},
        {"copy_Bps", c.copy_beside_gemm_Bps},
        {"gemm_s", c.gemm_beside_copy_s}}}};
  if (c.part >= 0) o["part"] = c.part;
  return o;
}

}  // namespace mhc
