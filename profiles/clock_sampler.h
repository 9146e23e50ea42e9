// Samples the GPU's clocks while mhc-profile measures, through NVML (libnvidia-ml.so.1, which ships
// with the driver on every GPU machine). It is opened at run time, so building needs no NVML header or
// library; without it (or without permission) the sampler says why and the profile records that.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "clock_summary.h"

namespace mhc::profiler {

class ClockSampler {
 public:
  // `pci_bus_id` of the CUDA device measured (cudaDeviceGetPCIBusId), `period_ms` between samples.
  ClockSampler(const std::string& pci_bus_id, int period_ms);
  ~ClockSampler();
  ClockSampler(const ClockSampler&) = delete;
  ClockSampler& operator=(const ClockSampler&) = delete;

  bool available() const { return available_; }
  const std::string& status() const { return status_; }  // how it samples, or why it cannot

  // Samples from begin() until end(), which summarises them as one part of the run ("gemm", ...).
  void begin();
  ClockPart end(const std::string& part);

 private:
  void loop();
  bool sample(ClockSample& out);

  struct Nvml;
  std::unique_ptr<Nvml> nvml_;
  bool available_ = false;
  std::string status_;
  int period_ms_ = 10;
  std::atomic<bool> running_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<ClockSample> samples_;
};

}  // namespace mhc::profiler
