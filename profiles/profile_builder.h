// The CPU side of mhc-profile: turns raw measurements (per-launch durations from CUPTI activity
// records, DRAM byte counts from the range profiler) into profile entries, and assembles the
// profile's provenance and ceilings. No CUDA here, so it is unit-tested on any machine.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "profile/profile.h"

namespace mhc::profiler {

struct TimingStats {
  double median = 0.0, min = 0.0, max = 0.0;
  int runs = 0;
};
// Median (mean of the two middle values for an even count), min and max of `samples_s`.
// Throws std::invalid_argument for an empty list or a non-positive sample.
TimingStats summarize(std::vector<double> samples_s);

struct RunSettings {
  int warmup = 10;
  int runs = 50;
  int input_sets = 4;
};

struct DramBytes {
  double read = 0.0, write = 0.0;
};

// One profile entry from a kernel's measurements.
ProfileEntry make_entry(const std::string& kernel, const ProfileShape& shape, const TimingStats& timing,
                        const RunSettings& settings, std::optional<DramBytes> dram, double model_read_bytes,
                        double model_write_bytes, double model_flops, const std::string& implementation);

// The raw measurements of the co-run microbenchmark (corun.cpp), per run, in seconds.
struct CorunSamples {
  std::string method;
  double copy_bytes = 0.0;                                     // copied per call (read once, written once)
  std::vector<std::pair<int, std::vector<double>>> copy_by_sms;  // SMs -> durations
  ProfileShape gemm_shape;
  std::vector<double> gemm_alone;
  ProfileShape post_res_shape;
  std::vector<double> post_res_alone;
  struct Pair {
    double first = 0.0, second = 0.0, span = 0.0;
  };
  std::vector<Pair> same_priority;           // (GEMM, post-res, span)
  std::vector<Pair> post_res_high_priority;  // (GEMM, post-res, span)
  int copy_sms = 0;
  double paced_copy_bytes = 0.0;
  std::vector<double> paced_copy_alone;
  std::vector<Pair> gemm_beside_copy;  // (GEMM, copy, span)
};
// Medians of each, copy bandwidth as bytes read + written per second. Throws std::invalid_argument
// for an empty series or a non-positive sample.
ProfileCorun make_corun(const CorunSamples& samples);

// Joins argv into one shell-quoted command line, for the provenance (sim/core/command_stamp.h).
std::string command_line(int argc, char** argv);
// The driver version string from /proc/driver/nvidia/version's text ("580.159.03"), or "" if absent.
std::string driver_version_from_proc(const std::string& proc_text);

}  // namespace mhc::profiler
