// Kernels: the cost stage against measured kernel times.
#include <chrono>
#include <cmath>
#include <map>
#include <sstream>

#include "accuracy/accuracy_tiers.h"
#include "core/json_input.h"
#include "cost/cost.h"

namespace mhc {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string describe_shape(const KernelCase& c) {
  std::ostringstream s;
  if (c.kernel == "gemm") {
    s << to_string(c.shape.dtype) << " GEMM " << c.shape.m << "x" << c.shape.gemm_n << "x" << c.shape.k;
    if (c.shape.groups > 1) s << " x" << c.shape.groups << " groups";
  } else {
    s << c.kernel << (c.shape.causal ? " causal" : "") << " b" << c.batch << " s" << c.shape.seq << " h"
      << c.shape.heads << " d" << c.shape.head_dim_qk;
  }
  return s.str();
}

CaseResult leave_one_out_group(const KernelCase& c, const Profile& profile) {
  CaseResult r = case_result(Tier::kernels, c.id, c.source, c.notes, Unit::entries);
  int n = 0;
  double sum_abs = 0, sum_signed = 0;
  std::map<std::string, int> methods;
  for (const LeaveOneOutResult& e : leave_one_out(profile)) {
    if (e.entry->family != c.family || (c.interior_only && !e.interior)) continue;
    ++n;
    sum_abs += std::fabs(e.relative_error());
    sum_signed += e.relative_error();
    ++methods[to_string(e.predicted.method)];
  }
  if (n == 0)
    throw InputError(c.file, c.pointer, "the profile " + c.profile + " has no " +
                                            (c.interior_only ? std::string("interior ") : std::string()) +
                                            to_string(c.family) + " entries to leave out");
  r.comparisons = n;
  r.measured = n;
  r.signed_error = sum_signed / n;
  r.abs_error = sum_abs / n;
  r.what = std::string(to_string(c.family)) + " entries, " + (c.interior_only ? "interior" : "all") + ", each left out";
  r.measured_text = std::to_string(n) + " entries measured by CUPTI";
  std::ostringstream rel;
  rel << profile.file << " without the entry (";
  bool first = true;
  for (const auto& [m, k] : methods) {
    rel << (first ? "" : ", ") << k << " " << m;
    first = false;
  }
  rel << ")";
  r.relied_on = rel.str();
  return r;
}

CaseResult published_kernel(const KernelCase& c, Profile profile) {
  CaseResult r = case_result(Tier::kernels, c.id, c.source, c.notes, Unit::microseconds);
  r.what = describe_shape(c);
  PriceQuery q;
  q.kernel = c.kernel;
  q.family = kernel_family(c.kernel);
  q.shape = c.shape;
  q.flops = published_kernel_flops(c);
  q.bytes = published_kernel_bytes(c);
  q.compute_dtype = compute_dtype_of(c.kernel, *q.family, c.shape.dtype);
  // Leave-one-out where the figure is the profile's own: price it without that entry.
  const size_t before = profile.entries.size();
  std::erase_if(profile.entries, [&](const ProfileEntry& e) { return e.kernel == c.kernel && e.shape == c.shape; });
  const bool left_out = profile.entries.size() != before;
  const PricedOp p = CostModel(profile).price(q);
  r.measured = q.flops / (c.measured_tflops * 1e12) * 1e6;
  r.predicted = p.seconds * 1e6;
  r.signed_error = (r.predicted - r.measured) / r.measured;
  r.abs_error = std::fabs(r.signed_error);
  std::ostringstream m;
  m << c.measured_tflops << " TFLOP/s";
  r.measured_text = m.str();
  r.relied_on = std::string(to_string(p.method)) + (left_out ? " (its own entry left out)" : "") + ": " + p.source;
  return r;
}

}  // namespace

std::vector<CaseResult> run_kernel_cases(const std::vector<KernelCase>& cases) {
  std::vector<CaseResult> out;
  std::map<std::string, Profile> profiles;
  for (const KernelCase& c : cases) {
    const auto t0 = std::chrono::steady_clock::now();
    auto it = profiles.find(c.profile);
    if (it == profiles.end()) it = profiles.emplace(c.profile, load_profile(c.profile)).first;
    out.push_back(c.kind == KernelCase::Kind::leave_one_out ? leave_one_out_group(c, it->second)
                                                            : published_kernel(c, it->second));
    out.back().wall_seconds = seconds_since(t0);
  }
  return out;
}

}  // namespace mhc
