#include "cost/profile_checks.h"

#include <cmath>
#include <sstream>

namespace mhc {

std::optional<double> leave_one_out_tolerance(KernelFamily family) {
  switch (family) {
    case KernelFamily::mhc:
    case KernelFamily::residual: return 0.05;
    case KernelFamily::gemm: return 0.10;
    default: return std::nullopt;
  }
}

std::string LeaveOneOutViolation::describe() const {
  std::ostringstream s;
  s << result.entry->pointer << " " << result.entry->label() << ": measured " << result.measured_s
    << " s, priced without it " << result.predicted.seconds << " s (" << 100.0 * result.relative_error()
    << "%, limit " << 100.0 * tolerance << "%) via " << result.predicted.source;
  return s.str();
}

std::vector<LeaveOneOutViolation> leave_one_out_violations(const Profile& profile) {
  std::vector<LeaveOneOutViolation> out;
  for (const LeaveOneOutResult& r : leave_one_out(profile)) {
    auto tol = leave_one_out_tolerance(r.entry->family);
    if (tol && r.interior && std::fabs(r.relative_error()) > *tol) out.push_back({r, *tol});
  }
  return out;
}

std::vector<ByteCheck> byte_checks(const Profile& profile, const ExpectedBytesFn& expected) {
  std::vector<ByteCheck> out;
  for (const ProfileEntry& e : profile.entries) {
    if (!e.dram_read_bytes || !e.dram_write_bytes || e.shape.tokens <= 0) continue;
    auto exp = expected(e);
    if (!exp) continue;
    const double t = static_cast<double>(e.shape.tokens);
    out.push_back({&e, {*e.dram_read_bytes / t, *e.dram_write_bytes / t}, *exp});
  }
  return out;
}

bool byte_check_required(const std::string& kernel) {
  return kernel == "mhc_fused.post_res_fwd" || kernel == "residual.merge_fwd" ||
         (kernel.rfind("mhc_unfused.", 0) == 0 && kernel.size() > 4 && kernel.compare(kernel.size() - 4, 4, "_fwd") == 0);
}

std::vector<std::string> byte_check_violations(const Profile& profile, const ExpectedBytesFn& expected) {
  std::vector<std::string> out;
  for (const ByteCheck& c : byte_checks(profile, expected)) {
    if (!byte_check_required(c.entry->kernel)) continue;
    for (auto [what, ratio, m, x] : {std::tuple{"read", c.read_ratio(), c.measured.read, c.expected.read},
                                     std::tuple{"written", c.write_ratio(), c.measured.write, c.expected.write}}) {
      if (std::fabs(ratio - 1.0) <= kByteCheckTolerance) continue;
      std::ostringstream s;
      s << profile.file << " " << c.entry->pointer << " " << c.entry->label() << ": DRAM bytes " << what
        << " per token " << m << " vs I/O model " << x << " (ratio " << ratio << ", limit +-"
        << 100 * kByteCheckTolerance << "%)";
      out.push_back(s.str());
    }
  }
  return out;
}

}  // namespace mhc
