// Measuring one op: CUPTI activity durations (median after warm-up, inputs rotated) and, when the
// range profiler is available, its DRAM bytes; the result is a profile entry.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "cupti_dram.h"
#include "cupti_timer.h"
#include "profile_builder.h"

namespace mhc::profiler {

struct OpUnderTest {
  std::string kernel;
  ProfileShape shape;
  std::function<void(cudaStream_t)> launch;
  std::function<void()> rotate;
  double model_read_bytes = 0.0, model_write_bytes = 0.0, model_flops = 0.0;
  std::string implementation;
  int input_sets = 0;  // how many input sets the op rotates over (see Measurer::input_sets_for)
};

class Measurer {
 public:
  Measurer(int device, RunSettings settings, bool count_dram);
  ~Measurer();

  ProfileEntry measure(const OpUnderTest& op);
  // Input sets for an op that touches `bytes_per_set` per launch: at least --input-sets, and enough
  // that together they exceed 4x the L2 cache (at most 64), so rotated inputs are never L2-resident.
  int input_sets_for(double bytes_per_set) const;
  const RunSettings& settings() const { return settings_; }
  ActivityTimer& timer() { return timer_; }
  cudaStream_t stream() const { return stream_; }
  bool counts_dram() const { return static_cast<bool>(dram_); }
  const std::string& dram_status() const { return dram_status_; }  // why DRAM counts are missing, if they are

  // Runs before each entry is timed (mhc-profile --sustained: a burst of load that keeps the GPU at
  // its power limit between entries, so each is timed at the clocks of a sustained run).
  void set_before_each(std::function<void()> f) { before_each_ = std::move(f); }

  // A wall-clock budget for the sweeps (0: none); the sweeps stop when it is spent.
  void set_time_limit(double seconds) { time_limit_s_ = seconds; }
  bool out_of_time() const;

 private:
  RunSettings settings_;
  cudaStream_t stream_ = nullptr;
  ActivityTimer timer_;
  std::unique_ptr<DramCounter> dram_;
  std::string dram_status_;
  double time_limit_s_ = 0.0;
  std::function<void()> before_each_;
  double l2_bytes_ = 0.0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// The mHC kernels of kernels/kernel_catalog.h over the sweep (needs the mhc_kernels library).
struct MhcSweep;
void measure_mhc_kernels(Measurer& measurer, const MhcSweep& sweep, std::vector<ProfileEntry>& out);

}  // namespace mhc::profiler
