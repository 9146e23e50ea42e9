#include "cupti_dram.h"

#include <algorithm>
#include <vector>

#include <cuda.h>
#include <cupti_profiler_host.h>
#include <cupti_profiler_target.h>
#include <cupti_range_profiler.h>
#include <cupti_target.h>

#include "cuda_check.h"
#include "layer_kernels.h"

namespace mhc::profiler {

namespace {
const char* kMetrics[] = {"dram__bytes_read.sum", "dram__bytes_write.sum"};
constexpr size_t kNumMetrics = 2;
}  // namespace

struct DramCounter::State {
  CUcontext ctx = nullptr;
  CUpti_Profiler_Host_Object* host = nullptr;
  CUpti_RangeProfiler_Object* range = nullptr;
  std::vector<uint8_t> config_image;
  std::vector<uint8_t> counter_data;
  void* flush_a = nullptr;  // two buffers of twice the L2 size, read to flush it
  void* flush_b = nullptr;
  float* sink = nullptr;
  size_t flush_bytes = 0;
};

DramCounter::DramCounter(int device) : state_(std::make_unique<State>()) {
  State& s = *state_;
  MHC_CUDA_CHECK(cudaSetDevice(device));
  MHC_CUDA_CHECK(cudaFree(nullptr));  // make the primary context current
  if (cuCtxGetCurrent(&s.ctx) != CUDA_SUCCESS || !s.ctx) throw std::runtime_error("no current CUDA context");

  CUpti_Profiler_Initialize_Params init{};

  init.structSize = CUpti_Profiler_Initialize_Params_STRUCT_SIZE;
  MHC_CUPTI_CHECK(cuptiProfilerInitialize(&init));

  CUpti_Device_GetChipName_Params chip{};

  chip.structSize = CUpti_Device_GetChipName_Params_STRUCT_SIZE;
  chip.deviceIndex = static_cast<size_t>(device);
  MHC_CUPTI_CHECK(cuptiDeviceGetChipName(&chip));

  CUpti_Profiler_GetCounterAvailability_Params avail{};

  avail.structSize = CUpti_Profiler_GetCounterAvailability_Params_STRUCT_SIZE;
  avail.ctx = s.ctx;
  MHC_CUPTI_CHECK(cuptiProfilerGetCounterAvailability(&avail));
  std::vector<uint8_t> availability(avail.counterAvailabilityImageSize);
  avail.pCounterAvailabilityImage = availability.data();
  MHC_CUPTI_CHECK(cuptiProfilerGetCounterAvailability(&avail));

  CUpti_Profiler_Host_Initialize_Params host{};

  host.structSize = CUpti_Profiler_Host_Initialize_Params_STRUCT_SIZE;
  host.profilerType = CUPTI_PROFILER_TYPE_RANGE_PROFILER;
  host.pChipName = chip.pChipName;
  host.pCounterAvailabilityImage = availability.data();
  MHC_CUPTI_CHECK(cuptiProfilerHostInitialize(&host));
  s.host = host.pHostObject;

  CUpti_Profiler_Host_ConfigAddMetrics_Params add{};

  add.structSize = CUpti_Profiler_Host_ConfigAddMetrics_Params_STRUCT_SIZE;
  add.pHostObject = s.host;
  add.ppMetricNames = kMetrics;
  add.numMetrics = kNumMetrics;
  MHC_CUPTI_CHECK(cuptiProfilerHostConfigAddMetrics(&add));
  CUpti_Profiler_Host_GetConfigImageSize_Params size{};
  size.structSize = CUpti_Profiler_Host_GetConfigImageSize_Params_STRUCT_SIZE;
  size.pHostObject = s.host;
  MHC_CUPTI_CHECK(cuptiProfilerHostGetConfigImageSize(&size));
  s.config_image.resize(size.configImageSize);
  CUpti_Profiler_Host_GetConfigImage_Params image{};
  image.structSize = CUpti_Profiler_Host_GetConfigImage_Params_STRUCT_SIZE;
  image.pHostObject = s.host;
  image.configImageSize = s.config_image.size();
  image.pConfigImage = s.config_image.data();
  MHC_CUPTI_CHECK(cuptiProfilerHostGetConfigImage(&image));

  CUpti_RangeProfiler_Enable_Params enable{};

  enable.structSize = CUpti_RangeProfiler_Enable_Params_STRUCT_SIZE;
  enable.ctx = s.ctx;
  MHC_CUPTI_CHECK(cuptiRangeProfilerEnable(&enable));
  s.range = enable.pRangeProfilerObject;

  CUpti_RangeProfiler_GetCounterDataSize_Params data{};

  data.structSize = CUpti_RangeProfiler_GetCounterDataSize_Params_STRUCT_SIZE;
  data.pRangeProfilerObject = s.range;
  data.pMetricNames = kMetrics;
  data.numMetrics = kNumMetrics;
  data.maxNumOfRanges = 1;
  data.maxNumRangeTreeNodes = 1;
  MHC_CUPTI_CHECK(cuptiRangeProfilerGetCounterDataSize(&data));
  s.counter_data.resize(data.counterDataSize);

  int l2 = 0;
  MHC_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
  s.flush_bytes = 2 * static_cast<size_t>(l2);
  MHC_CUDA_CHECK(cudaMalloc(&s.flush_a, s.flush_bytes));
  MHC_CUDA_CHECK(cudaMalloc(&s.flush_b, s.flush_bytes));
  MHC_CUDA_CHECK(cudaMalloc(&s.sink, sizeof(float)));
  MHC_CUDA_CHECK(cudaMemset(s.flush_a, 1, s.flush_bytes));
  MHC_CUDA_CHECK(cudaMemset(s.flush_b, 1, s.flush_bytes));
  MHC_CUDA_CHECK(cudaDeviceSynchronize());

  flush_baseline_ = measure_raw([](cudaStream_t) {}, nullptr);
}

DramCounter::~DramCounter() {
  State& s = *state_;
  if (s.range) {
    CUpti_RangeProfiler_Disable_Params p{};
    p.structSize = CUpti_RangeProfiler_Disable_Params_STRUCT_SIZE;
    p.pRangeProfilerObject = s.range;
    cuptiRangeProfilerDisable(&p);
  }
  if (s.host) {
    CUpti_Profiler_Host_Deinitialize_Params p{};
    p.structSize = CUpti_Profiler_Host_Deinitialize_Params_STRUCT_SIZE;
    p.pHostObject = s.host;
    cuptiProfilerHostDeinitialize(&p);
  }
  CUpti_Profiler_DeInitialize_Params de{};
  de.structSize = CUpti_Profiler_DeInitialize_Params_STRUCT_SIZE;
  cuptiProfilerDeInitialize(&de);
  cudaFree(s.flush_a);
  cudaFree(s.flush_b);
  cudaFree(s.sink);
}

DramBytes DramCounter::measure_raw(const std::function<void(cudaStream_t)>& launch, cudaStream_t stream) {
  State& s = *state_;
  CUpti_RangeProfiler_CounterDataImage_Initialize_Params init{};
  init.structSize = CUpti_RangeProfiler_CounterDataImage_Initialize_Params_STRUCT_SIZE;
  init.pRangeProfilerObject = s.range;
  init.counterDataSize = s.counter_data.size();
  init.pCounterData = s.counter_data.data();
  MHC_CUPTI_CHECK(cuptiRangeProfilerCounterDataImageInitialize(&init));

  CUpti_RangeProfiler_SetConfig_Params config{};

  config.structSize = CUpti_RangeProfiler_SetConfig_Params_STRUCT_SIZE;
  config.pRangeProfilerObject = s.range;
  config.configSize = s.config_image.size();
  config.pConfig = s.config_image.data();
  config.counterDataImageSize = s.counter_data.size();
  config.pCounterDataImage = s.counter_data.data();
  config.range = CUPTI_UserRange;
  config.replayMode = CUPTI_UserReplay;
  config.maxRangesPerPass = 1;
  config.numNestingLevels = 1;
  config.minNestingLevel = 1;
  config.passIndex = 0;
  config.targetNestingLevel = 1;
  MHC_CUPTI_CHECK(cuptiRangeProfilerSetConfig(&config));

  // User replay: one run of the op per pass until CUPTI has every pass it needs.
  for (int pass = 0;; ++pass) {
    if (pass > 16) throw std::runtime_error("range profiler needed more than 16 passes for 2 DRAM metrics");
    launch_l2_flush_read(s.flush_a, s.flush_bytes, s.sink, stream);  // clean L2 without the op's inputs
    MHC_CUDA_CHECK(cudaStreamSynchronize(stream));
    CUpti_RangeProfiler_Start_Params start{};
    start.structSize = CUpti_RangeProfiler_Start_Params_STRUCT_SIZE;
    start.pRangeProfilerObject = s.range;
    MHC_CUPTI_CHECK(cuptiRangeProfilerStart(&start));
    CUpti_RangeProfiler_PushRange_Params push{};
    push.structSize = CUpti_RangeProfiler_PushRange_Params_STRUCT_SIZE;
    push.pRangeProfilerObject = s.range;
    push.pRangeName = "op";
    MHC_CUPTI_CHECK(cuptiRangeProfilerPushRange(&push));
    launch(stream);
    launch_l2_flush_read(s.flush_b, s.flush_bytes, s.sink, stream);  // evicts the op's dirty lines to DRAM
    MHC_CUDA_CHECK(cudaStreamSynchronize(stream));
    CUpti_RangeProfiler_PopRange_Params pop{};
    pop.structSize = CUpti_RangeProfiler_PopRange_Params_STRUCT_SIZE;
    pop.pRangeProfilerObject = s.range;
    MHC_CUPTI_CHECK(cuptiRangeProfilerPopRange(&pop));
    CUpti_RangeProfiler_Stop_Params stop{};
    stop.structSize = CUpti_RangeProfiler_Stop_Params_STRUCT_SIZE;
    stop.pRangeProfilerObject = s.range;
    MHC_CUPTI_CHECK(cuptiRangeProfilerStop(&stop));
    if (stop.isAllPassSubmitted) break;
  }
  CUpti_RangeProfiler_DecodeData_Params decode{};
  decode.structSize = CUpti_RangeProfiler_DecodeData_Params_STRUCT_SIZE;
  decode.pRangeProfilerObject = s.range;
  MHC_CUPTI_CHECK(cuptiRangeProfilerDecodeData(&decode));
  if (decode.numOfRangeDropped) throw std::runtime_error("range profiler dropped the measured range");

  double values[kNumMetrics] = {0, 0};
  CUpti_Profiler_Host_EvaluateToGpuValues_Params eval{};
  eval.structSize = CUpti_Profiler_Host_EvaluateToGpuValues_Params_STRUCT_SIZE;
  eval.pHostObject = s.host;
  eval.pCounterDataImage = s.counter_data.data();
  eval.counterDataImageSize = s.counter_data.size();
  eval.rangeIndex = 0;
  eval.ppMetricNames = kMetrics;
  eval.numMetrics = kNumMetrics;
  eval.pMetricValues = values;
  MHC_CUPTI_CHECK(cuptiProfilerHostEvaluateToGpuValues(&eval));
  return DramBytes{values[0], values[1]};
}

DramBytes DramCounter::measure(const std::function<void(cudaStream_t)>& launch, cudaStream_t stream) {
  DramBytes raw = measure_raw(launch, stream);
  return DramBytes{std::max(0.0, raw.read - flush_baseline_.read), std::max(0.0, raw.write - flush_baseline_.write)};
}

}  // namespace mhc::profiler
