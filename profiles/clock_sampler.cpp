#include "clock_sampler.h"

#include <dlfcn.h>

#include <chrono>

namespace mhc::profiler {

// The few NVML entry points used, as the NVML API reference declares them (nvml.h): every call
// returns nvmlReturn_t (0 = NVML_SUCCESS); a device is an opaque handle; clock types NVML_CLOCK_SM = 1
// and NVML_CLOCK_MEM = 2; power in milliwatts.
struct ClockSampler::Nvml {
  using Device = void*;
  void* lib = nullptr;
  Device device = nullptr;
  int (*init)() = nullptr;
  int (*shutdown)() = nullptr;
  int (*by_pci)(const char*, Device*) = nullptr;
  int (*clock)(Device, int, unsigned int*) = nullptr;
  int (*power)(Device, unsigned int*) = nullptr;
  int (*reasons)(Device, unsigned long long*) = nullptr;
  ~Nvml() {
    if (lib && shutdown) shutdown();
    if (lib) dlclose(lib);
  }
};

namespace {
template <typename F>
bool bind(void* lib, const char* name, F& out) {
  out = reinterpret_cast<F>(dlsym(lib, name));
  return out != nullptr;
}
constexpr int kClockSm = 1, kClockMem = 2;
}  // namespace

ClockSampler::ClockSampler(const std::string& pci_bus_id, int period_ms)
    : nvml_(std::make_unique<Nvml>()), period_ms_(period_ms) {
  Nvml& n = *nvml_;
  n.lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!n.lib) {
    status_ = "clocks not sampled: libnvidia-ml.so.1 (NVML) not found";
    return;
  }
  if (!bind(n.lib, "nvmlInit_v2", n.init) || !bind(n.lib, "nvmlShutdown", n.shutdown) ||
      !bind(n.lib, "nvmlDeviceGetHandleByPciBusId_v2", n.by_pci) || !bind(n.lib, "nvmlDeviceGetClockInfo", n.clock)) {
    status_ = "clocks not sampled: NVML lacks nvmlInit_v2 / nvmlDeviceGetHandleByPciBusId_v2 / nvmlDeviceGetClockInfo";
    return;
  }
  bind(n.lib, "nvmlDeviceGetPowerUsage", n.power);
  // Renamed in recent drivers; the bits are the same.
  if (!bind(n.lib, "nvmlDeviceGetCurrentClocksEventReasons", n.reasons))
    bind(n.lib, "nvmlDeviceGetCurrentClocksThrottleReasons", n.reasons);
  if (n.init() != 0) {
    status_ = "clocks not sampled: nvmlInit_v2 failed";
    n.shutdown = nullptr;
    return;
  }
  if (n.by_pci(pci_bus_id.c_str(), &n.device) != 0) {
    status_ = "clocks not sampled: NVML has no device at PCI bus " + pci_bus_id;
    return;
  }
  ClockSample probe;
  if (!sample(probe)) {
    status_ = "clocks not sampled: nvmlDeviceGetClockInfo failed";
    return;
  }
  available_ = true;
  status_ = "NVML (libnvidia-ml.so.1): nvmlDeviceGetClockInfo SM and memory clocks, nvmlDeviceGetPowerUsage, clocks-event "
            "reasons, sampled every " + std::to_string(period_ms_) + " ms on a host thread while each part ran";
}

ClockSampler::~ClockSampler() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
}

bool ClockSampler::sample(ClockSample& out) {
  Nvml& n = *nvml_;
  unsigned int sm = 0, mem = 0, mw = 0;
  if (n.clock(n.device, kClockSm, &sm) != 0 || n.clock(n.device, kClockMem, &mem) != 0) return false;
  out.sm_mhz = sm;
  out.memory_mhz = mem;
  out.power_w = n.power && n.power(n.device, &mw) == 0 ? mw / 1000.0 : -1.0;
  unsigned long long bits = 0;
  out.event_reasons = n.reasons && n.reasons(n.device, &bits) == 0 ? bits : 0;
  return true;
}

void ClockSampler::loop() {
  while (running_) {
    ClockSample s;
    if (sample(s)) {
      std::lock_guard<std::mutex> lock(mutex_);
      samples_.push_back(s);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(period_ms_));
  }
}

void ClockSampler::begin() {
  if (!available_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    samples_.clear();
  }
  running_ = true;
  thread_ = std::thread([this] { loop(); });
}

ClockPart ClockSampler::end(const std::string& part) {
  running_ = false;
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  if (samples_.empty()) {  // a part shorter than one period: one sample now
    ClockSample s;
    if (available_ && sample(s)) samples_.push_back(s);
  }
  return summarize_clocks(part, samples_);
}

}  // namespace mhc::profiler
