#include "profile_builder.h"

#include <algorithm>
#include <regex>
#include <stdexcept>

#include "core/command_stamp.h"

namespace mhc::profiler {

TimingStats summarize(std::vector<double> samples_s) {
  if (samples_s.empty()) throw std::invalid_argument("no timing samples");
  for (double s : samples_s)
    if (!(s > 0)) throw std::invalid_argument("non-positive kernel duration " + std::to_string(s));
  std::sort(samples_s.begin(), samples_s.end());
  const size_t n = samples_s.size();
  TimingStats t;
  t.median = n % 2 ? samples_s[n / 2] : 0.5 * (samples_s[n / 2 - 1] + samples_s[n / 2]);
  t.min = samples_s.front();
  t.max = samples_s.back();
  t.runs = static_cast<int>(n);
  return t;
}

ProfileEntry make_entry(const std::string& kernel, const ProfileShape& shape, const TimingStats& timing,
                        const RunSettings& settings, std::optional<DramBytes> dram, double model_read_bytes,
                        double model_write_bytes, double model_flops, const std::string& implementation) {
  auto family = kernel_family(kernel);
  if (!family) throw std::invalid_argument("kernel id not known to the profile schema: " + kernel);
  ProfileEntry e;
  e.kernel = kernel;
  e.family = *family;
  e.shape = shape;
  e.seconds = timing.median;
  e.seconds_min = timing.min;
  e.seconds_max = timing.max;
  e.runs = timing.runs;
  e.warmup = settings.warmup;
  e.input_sets = settings.input_sets;
  if (dram) {
    e.dram_read_bytes = dram->read;
    e.dram_write_bytes = dram->write;
  }
  e.model_read_bytes = model_read_bytes;
  e.model_write_bytes = model_write_bytes;
  e.model_flops = model_flops;
  e.implementation = implementation;
  return e;
}

ProfileCorun make_corun(const CorunSamples& s) {
  auto median = [](const std::vector<double>& v) { return summarize(v).median; };
  auto times = [&](const std::vector<CorunSamples::Pair>& runs) {
    std::vector<double> a, b, span;
    for (const auto& r : runs) a.push_back(r.first), b.push_back(r.second), span.push_back(r.span);
    return CorunTimes{median(a), median(b), median(span)};
  };
  ProfileCorun c;
  c.method = s.method;
  for (const auto& [sms, durations] : s.copy_by_sms) c.copy_by_sms.push_back({sms, 2.0 * s.copy_bytes / median(durations)});
  c.gemm_shape = s.gemm_shape;
  c.gemm_alone_s = median(s.gemm_alone);
  c.post_res_shape = s.post_res_shape;
  c.post_res_alone_s = median(s.post_res_alone);
  c.same_priority = times(s.same_priority);
  c.post_res_high_priority = times(s.post_res_high_priority);
  c.copy_sms = s.copy_sms;
  c.copy_alone_Bps = 2.0 * s.paced_copy_bytes / median(s.paced_copy_alone);
  const CorunTimes beside = times(s.gemm_beside_copy);
  c.gemm_beside_copy_s = beside.gemm_s;
  c.copy_beside_gemm_Bps = 2.0 * s.paced_copy_bytes / beside.post_res_s;
  return c;
}

std::string command_line(int argc, char** argv) { return shell_command_line({argv, argv + argc}); }

std::string driver_version_from_proc(const std::string& proc_text) {
  // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.159.03  Thu ..." or
  // "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build ..."
  std::smatch m;
  static const std::regex re(R"(NVRM version:.*?\s([0-9]+\.[0-9]+(\.[0-9]+)*)\s)");
  if (std::regex_search(proc_text, m, re)) return m[1].str();
  return "";
}

}  // namespace mhc::profiler
