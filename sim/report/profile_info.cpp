#include "report/profile_info.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "cost/profile_checks.h"
#include "run/corun_check.h"

namespace mhc {

namespace {

std::string num(double v, int precision = 4) {
  std::ostringstream s;
  s << std::setprecision(precision) << v;
  return s.str();
}

template <class T>
std::string set_text(const std::set<T>& values) {
  std::ostringstream out;
  out << '{';
  bool first = true;
  for (const T& v : values) {
    if (!first) out << ',';
    out << num(static_cast<double>(v), 10);
    first = false;
  }
  out << '}';
  return out.str();
}

void sourced_line(std::ostream& os, const std::string& name, const SourcedValue& v, double scale,
                  const std::string& unit) {
  os << "  " << std::left << std::setw(20) << name << num(v.value / scale) << " " << unit << "\n"
     << "  " << std::setw(20) << "" << "source: " << v.source << "\n";
}

void provenance(std::ostream& os, const Profile& p) {
  const ProfileProvenance& v = p.provenance;
  os << "profile: " << p.file << "\nkind: " << to_string(p.kind) << "\nprovenance:\n  gpu: " << v.gpu
     << "\n  date: " << v.date << "\n";
  if (p.kind == ProfileKind::reference) {
    os << "  compiled from: " << v.compiled_from << "\n";
  } else {
    os << "  command: " << v.command << "\n  SMs: " << v.sm_count << ", SM clock " << num(v.sm_clock_mhz)
       << " MHz, memory clock " << num(v.memory_clock_mhz) << " MHz, memory " << num(v.memory_bytes / 1e9)
       << " GB\n  driver " << v.driver << ", CUDA runtime " << v.cuda_runtime << ", CUPTI " << v.cupti;
    if (!v.cublaslt.empty()) os << ", cuBLASLt " << v.cublaslt;
    if (!v.cudnn.empty()) os << ", cuDNN " << v.cudnn;
    if (!v.host.empty()) os << ", host " << v.host;
    os << "\n";
  }
  if (!v.notes.empty()) os << "  notes: " << v.notes << "\n";
  if (p.parts.empty()) return;
  std::vector<size_t> entries_of(p.parts.size(), 0);
  for (const ProfileEntry& e : p.entries) ++entries_of.at(static_cast<size_t>(e.part));
  os << "parts (runs this profile was merged from):\n";
  for (size_t i = 0; i < p.parts.size(); ++i) {
    const ProfileProvenance& r = p.parts[i].provenance;
    os << "  " << i << ": " << p.parts[i].file << ", " << entries_of[i] << " entries, " << r.date << "\n     command: "
       << r.command << "\n     SM clock " << num(r.sm_clock_mhz) << " MHz, memory clock " << num(r.memory_clock_mhz)
       << " MHz, driver " << r.driver << ", CUDA runtime " << r.cuda_runtime << ", CUPTI " << r.cupti;
    if (!r.cublaslt.empty()) os << ", cuBLASLt " << r.cublaslt;
    if (!r.cudnn.empty()) os << ", cuDNN " << r.cudnn;
    os << "\n";
    if (!r.notes.empty()) os << "     notes: " << r.notes << "\n";
  }
}

void ceilings(std::ostream& os, const Profile& p) {
  os << "ceilings (the roofline prices on these):\n";
  sourced_line(os, "copy bandwidth", p.ceilings.copy_bandwidth_Bps, 1e12, "TB/s (read + write)");
  for (const auto& [dtype, v] : p.ceilings.peak_flops)
    sourced_line(os, std::string("peak ") + to_string(dtype), v, 1e12, "TFLOP/s");
  if (p.ceilings.launch_overhead_s) sourced_line(os, "launch overhead", *p.ceilings.launch_overhead_s, 1e-6, "us");
  else os << "  launch overhead     none measured (the roofline adds none)\n";
  const ProfileDatasheet& d = p.datasheet;
  if (d.sm_count || d.memory_bytes || d.dram_bandwidth_Bps || !d.peak_flops.empty()) {
    os << "datasheet (for reference, never used to price):\n";
    if (d.sm_count) sourced_line(os, "SMs", *d.sm_count, 1, "");
    if (d.memory_bytes) sourced_line(os, "memory", *d.memory_bytes, 1e9, "GB");
    if (d.dram_bandwidth_Bps) sourced_line(os, "DRAM bandwidth", *d.dram_bandwidth_Bps, 1e12, "TB/s");
    for (const auto& [dtype, v] : d.peak_flops) sourced_line(os, std::string("peak ") + to_string(dtype), v, 1e12, "TFLOP/s");
  }
}

// Bytes a launch moved: CUPTI's DRAM counts when measured, else the I/O model's minimum.
double moved_bytes(const ProfileEntry& e) {
  if (e.dram_read_bytes && e.dram_write_bytes) return *e.dram_read_bytes + *e.dram_write_bytes;
  return e.model_read_bytes + e.model_write_bytes;
}

void kernels(std::ostream& os, const Profile& p) {
  if (p.entries.empty()) {
    os << "kernels: none; every op is priced by roofline on the ceilings above\n";
    return;
  }
  std::map<std::string, std::vector<const ProfileEntry*>> by_kernel;
  for (const ProfileEntry& e : p.entries) by_kernel[e.kernel].push_back(&e);
  const double bw = p.ceilings.copy_bandwidth_Bps.value;
  os << "kernels: " << p.entries.size() << " entries, " << by_kernel.size() << " kernels\n";
  for (const auto& [kernel, list] : by_kernel) {
    std::set<int64_t> ns, Cs, tokens, ms, gn, ks, groups, seqs, heads;
    std::set<std::string> dtypes;
    double best_bw = 0;
    for (const ProfileEntry* e : list) {
      const ProfileShape& s = e->shape;
      if (e->family == KernelFamily::gemm) {
        ms.insert(s.m), gn.insert(s.gemm_n), ks.insert(s.k), groups.insert(s.groups), dtypes.insert(to_string(s.dtype));
      } else {
        tokens.insert(s.tokens);
        if (e->family == KernelFamily::mhc) ns.insert(s.n);
        if (e->family == KernelFamily::attention) seqs.insert(s.seq), heads.insert(s.heads);
        else Cs.insert(s.C);
      }
      best_bw = std::max(best_bw, moved_bytes(*e) / e->seconds);
    }
    os << "  " << std::left << std::setw(28) << kernel << std::setw(4) << list.size() << " shapes:";
    if (!ns.empty()) os << " n" << set_text(ns);
    if (!Cs.empty()) os << " C" << set_text(Cs);
    if (!seqs.empty()) os << " seq" << set_text(seqs) << " heads" << set_text(heads);
    if (!tokens.empty()) os << " tokens" << set_text(tokens);
    if (!ms.empty()) {
      os << " m" << set_text(ms) << " n" << set_text(gn) << " k" << set_text(ks) << " groups" << set_text(groups) << " {";
      for (const auto& d : dtypes) os << d << (d == *dtypes.rbegin() ? "" : ",");
      os << "}";
    }
    os << "; best achieved " << num(best_bw / 1e9) << " GB/s = " << num(100 * best_bw / bw, 3) << "% of copy\n";
  }
}

void entries(std::ostream& os, const Profile& p) {
  const double bw = p.ceilings.copy_bandwidth_Bps.value;
  os << "entries (time = CUPTI median; bandwidth from " << "DRAM counts where measured, else the I/O model):\n";
  for (const ProfileEntry& e : p.entries) {
    const double moved = moved_bytes(e);
    os << "  " << std::left << std::setw(12) << e.pointer << e.label() << ": " << num(e.seconds * 1e6) << " us, "
       << num(moved / e.seconds / 1e9) << " GB/s (" << num(100 * moved / e.seconds / bw, 3) << "% of copy"
       << (e.dram_read_bytes ? ", DRAM" : ", model bytes") << ")";
    if (e.model_flops > 0) os << ", " << num(e.model_flops / e.seconds / 1e12) << " TFLOP/s";
    os << "\n";
  }
}

void byte_table(std::ostream& os, const Profile& p, const ExpectedBytesFn& expected) {
  auto checks = byte_checks(p, expected);
  if (checks.empty()) {
    os << "bytes per token vs I/O model: no entry has both CUPTI DRAM counts and an I/O model\n";
    return;
  }
  os << "bytes per token, measured (CUPTI DRAM) vs I/O model (read / write):\n";
  for (const ByteCheck& c : checks) {
    os << "  " << std::left << std::setw(52) << c.entry->label() << num(c.measured.read, 6) << " / "
       << num(c.measured.write, 6) << "  vs  " << num(c.expected.read, 6) << " / " << num(c.expected.write, 6)
       << "  (x" << num(c.read_ratio(), 3) << " / x" << num(c.write_ratio(), 3) << ")";
    if (byte_check_required(c.entry->kernel) && (std::fabs(c.read_ratio() - 1) > kByteCheckTolerance ||
                                                 std::fabs(c.write_ratio() - 1) > kByteCheckTolerance))
      os << "  OFF BY MORE THAN " << num(100 * kByteCheckTolerance) << "%";
    os << "\n";
  }
}

// "worst W%, p95 P%" of |relative errors| (p95 by nearest rank); "none" when there are none.
std::string error_summary(std::vector<double> errors) {
  if (errors.empty()) return "none";
  std::sort(errors.begin(), errors.end());
  const size_t rank = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(errors.size())));
  return "worst " + num(100 * errors.back(), 3) + "%, p95 " + num(100 * errors[rank - 1], 3) + "%";
}

void interpolation(std::ostream& os, const Profile& p) {
  if (p.entries.size() < 2) return;
  struct Errors {
    std::vector<double> interior, end;  // |relative error|
    size_t over = 0;
  };
  std::map<KernelFamily, Errors> by_family;
  for (const auto& r : leave_one_out(p)) {
    Errors& f = by_family[r.entry->family];
    const double err = std::fabs(r.relative_error());
    if (r.interior) {
      f.interior.push_back(err);
      auto tol = leave_one_out_tolerance(r.entry->family);
      f.over += tol && err > *tol;
    } else {
      f.end.push_back(err);
    }
  }
  os << "leave-one-out (each entry priced with itself removed), |error| per family:\n";
  for (const auto& [family, f] : by_family) {
    os << "  " << std::left << std::setw(12) << to_string(family) << "interpolated " << error_summary(f.interior)
       << " over " << f.interior.size() << " entries";
    if (auto tol = leave_one_out_tolerance(family))
      os << " (target " << num(100 * *tol) << "%, " << f.over << " over it)";
    os << "; extrapolated (ends of ranges) " << error_summary(f.end) << " over " << f.end.size() << "\n";
  }
}

// The corun section, each measurement next to the GPU model's prediction from the same kernels'
// demands and times alone (run/corun_check.h).
void corun(std::ostream& os, const Profile& p) {
  if (!p.corun) return;
  const ProfileCorun& c = *p.corun;
  os << "co-run (" << c.pointer << "; " << c.method << "):\n  copy bandwidth against SMs:";
  for (const CorunCopyPoint& pt : c.copy_by_sms) os << " " << pt.sms << ": " << num(pt.bandwidth_Bps / 1e9) << " GB/s;";
  os << "\n  alone: GEMM " << c.gemm_shape.describe(KernelFamily::gemm) << " " << num(c.gemm_alone_s * 1e6)
     << " us, post-res " << c.post_res_shape.describe(KernelFamily::mhc) << " " << num(c.post_res_alone_s * 1e6)
     << " us\n";
  const auto check = check_corun(p);
  auto row = [&](const char* what, const CorunTimes& m, const CorunTimes* model) {
    os << "  " << what << ": GEMM " << num(m.gemm_s * 1e6) << " us, post-res " << num(m.post_res_s * 1e6)
       << " us, span " << num(m.span_s * 1e6) << " us";
    if (model)
      os << " | GPU model " << num(model->gemm_s * 1e6) << ", " << num(model->post_res_s * 1e6) << ", "
         << num(model->span_s * 1e6) << " us";
    os << "\n";
  };
  row("at once, equal priority", c.same_priority, check ? &check->same_priority : nullptr);
  row("at once, post-res high priority", c.post_res_high_priority, check ? &check->post_res_high_priority : nullptr);
  os << "  GEMM beside a copy on " << c.copy_sms << " SMs (" << num(c.copy_alone_Bps / 1e9) << " GB/s alone, "
     << num(c.copy_beside_gemm_Bps / 1e9) << " beside): GEMM " << num(c.gemm_beside_copy_s * 1e6) << " us";
  if (check) os << " | GPU model " << num(check->gemm_beside_copy_s * 1e6) << " us";
  os << "\n";
  if (check)
    os << "  (GPU model demands: GEMM " << num(check->gemm_sm_share * 100, 3) << "% of the SMs, post-res "
       << num(check->post_res_sm_share * 100, 3) << "%)\n";
}

}  // namespace

void write_profile_info(std::ostream& os, const Profile& profile, const ProfileInfoOptions& options) {
  provenance(os, profile);
  ceilings(os, profile);
  corun(os, profile);
  kernels(os, profile);
  if (profile.entries.empty()) return;
  if (options.list_entries) entries(os, profile);
  byte_table(os, profile, options.expected_bytes);
  interpolation(os, profile);
}

}  // namespace mhc
