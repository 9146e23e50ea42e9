#include "device_info.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core/command_stamp.h"

#include <cudnn.h>
#include <cupti.h>

#include "cuda_check.h"
#include "gemm_lt.h"
#include "profile_builder.h"

namespace mhc::profiler {

namespace {
std::string cuda_version_text(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }
}  // namespace

ProfileProvenance collect_provenance(int device, const std::string& command) {
  ProfileProvenance p;
  cudaDeviceProp prop{};
  MHC_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  p.gpu = prop.name;
  p.sm_count = prop.multiProcessorCount;
  p.memory_bytes = static_cast<double>(prop.totalGlobalMem);
  int sm_khz = 0, mem_khz = 0;
  MHC_CUDA_CHECK(cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, device));
  MHC_CUDA_CHECK(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device));
  p.sm_clock_mhz = sm_khz / 1000.0;
  p.memory_clock_mhz = mem_khz / 1000.0;

  std::ifstream proc("/proc/driver/nvidia/version");
  std::stringstream text;
  text << proc.rdbuf();
  p.driver = driver_version_from_proc(text.str());
  int driver_api = 0, runtime = 0;
  MHC_CUDA_CHECK(cudaDriverGetVersion(&driver_api));
  MHC_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  if (p.driver.empty()) p.driver = "CUDA driver API " + cuda_version_text(driver_api);
  else p.driver += " (CUDA driver API " + cuda_version_text(driver_api) + ")";
  p.cuda_runtime = cuda_version_text(runtime);
  uint32_t cupti = 0;
  MHC_CUPTI_CHECK(cuptiGetVersion(&cupti));
  p.cupti = std::to_string(cupti);
  p.cublaslt = LtGemm::library_version();
  p.cudnn = std::to_string(cudnnGetVersion());
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0) p.host = host;
  p.date = utc_now_iso8601();
  p.command = command;
  p.notes = "sm_clock_mhz and memory_clock_mhz are the device attributes' peak clocks; the clocks sampled during "
            "each part are in provenance.clocks";
  return p;
}

}  // namespace mhc::profiler
