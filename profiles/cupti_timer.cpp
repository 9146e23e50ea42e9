#include "cupti_timer.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include <cupti.h>

#include "cuda_check.h"

namespace mhc::profiler {

namespace {

constexpr size_t kBufferBytes = 8 << 20;
constexpr size_t kAlign = 8;

struct Span {
  uint64_t start = 0, end = 0;
};

// What the CUPTI worker thread delivers; read after cuptiActivityFlushAll.
struct Records {
  std::mutex mutex;
  std::multimap<uint32_t, Span> kernels;            // correlation id -> kernel span
  std::map<uint32_t, uint64_t> external_by_correlation;
  std::vector<std::pair<uint64_t, Span>> memcpys;  // bytes, span (device to device only)
  size_t dropped = 0;
};
Records& records() {
  static Records r;
  return r;
}

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *buffer = static_cast<uint8_t*>(std::aligned_alloc(kAlign, kBufferBytes));
  *size = kBufferBytes;
  *max_records = 0;
}

void CUPTIAPI buffer_completed(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid) {
  Records& r = records();
  std::lock_guard<std::mutex> lock(r.mutex);
  CUpti_Activity* record = nullptr;
  while (cuptiActivityGetNextRecord(buffer, valid, &record) == CUPTI_SUCCESS) {
    switch (record->kind) {
      case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
      case CUPTI_ACTIVITY_KIND_KERNEL: {
        auto* k = reinterpret_cast<CUpti_ActivityKernel10*>(record);
        const uint32_t correlation = k->correlationId;  // records are packed: copy the fields out
        r.kernels.emplace(correlation, Span{k->start, k->end});
        break;
      }
      case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION: {
        auto* e = reinterpret_cast<CUpti_ActivityExternalCorrelation*>(record);
        const uint32_t correlation = e->correlationId;
        const uint64_t external = e->externalId;
        if (e->externalKind == CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0) r.external_by_correlation[correlation] = external;
        break;
      }
      case CUPTI_ACTIVITY_KIND_MEMCPY: {
        auto* m = reinterpret_cast<CUpti_ActivityMemcpy6*>(record);
        const uint64_t bytes = m->bytes;
        if (m->copyKind == CUPTI_ACTIVITY_MEMCPY_KIND_DTOD) r.memcpys.push_back({bytes, Span{m->start, m->end}});
        break;
      }
      default: break;
    }
  }
  size_t dropped = 0;
  cuptiActivityGetNumDroppedRecords(nullptr, 0, &dropped);
  r.dropped += dropped;
  std::free(buffer);
}

void clear_records() {
  Records& r = records();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.kernels.clear();
  r.external_by_correlation.clear();
  r.memcpys.clear();
  r.dropped = 0;
}

void flush(cudaStream_t stream) {
  MHC_CUDA_CHECK(cudaStreamSynchronize(stream));
  MHC_CUPTI_CHECK(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED));
  if (records().dropped) throw std::runtime_error("CUPTI dropped " + std::to_string(records().dropped) + " records");
}

}  // namespace

ActivityTimer::ActivityTimer() {
  MHC_CUPTI_CHECK(cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed));
  MHC_CUPTI_CHECK(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL));
  MHC_CUPTI_CHECK(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMCPY));
  // External correlation records map each runtime/driver call to the id pushed around it.
  MHC_CUPTI_CHECK(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_RUNTIME));
  MHC_CUPTI_CHECK(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_DRIVER));
  MHC_CUPTI_CHECK(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION));
}

ActivityTimer::~ActivityTimer() {
  cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  for (auto kind : {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_MEMCPY, CUPTI_ACTIVITY_KIND_RUNTIME,
                    CUPTI_ACTIVITY_KIND_DRIVER, CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION})
    cuptiActivityDisable(kind);
}

std::vector<double> ActivityTimer::time_calls(const std::function<void(cudaStream_t)>& launch,
                                              const std::function<void()>& rotate, cudaStream_t stream, int warmup,
                                              int runs) {
  MHC_CUDA_CHECK(cudaStreamSynchronize(stream));
  MHC_CUPTI_CHECK(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED));
  clear_records();
  const int total = warmup + runs;
  for (int i = 0; i < total; ++i) {
    rotate();
    MHC_CUPTI_CHECK(cuptiActivityPushExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, i + 1));
    launch(stream);
    uint64_t popped = 0;
    MHC_CUPTI_CHECK(cuptiActivityPopExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, &popped));
  }
  MHC_CUDA_CHECK(cudaGetLastError());
  flush(stream);

  Records& r = records();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::map<uint64_t, Span> per_call;  // external id -> first kernel start, last kernel end
  for (const auto& [corr, span] : r.kernels) {
    auto ext = r.external_by_correlation.find(corr);
    if (ext == r.external_by_correlation.end()) continue;  // a kernel outside the timed calls
    auto [it, fresh] = per_call.emplace(ext->second, span);
    if (!fresh) {
      it->second.start = std::min(it->second.start, span.start);
      it->second.end = std::max(it->second.end, span.end);
    }
  }
  std::vector<double> out;
  for (int i = warmup; i < total; ++i) {
    auto it = per_call.find(static_cast<uint64_t>(i + 1));
    if (it == per_call.end())
      throw std::runtime_error("CUPTI delivered no kernel record for timed call " + std::to_string(i));
    out.push_back(static_cast<double>(it->second.end - it->second.start) * 1e-9);  // timestamps in ns
  }
  return out;
}

std::vector<ActivityTimer::PairTiming> ActivityTimer::time_pairs(const std::function<void(cudaStream_t)>& gate,
                                                                 const std::function<void(cudaStream_t)>& a,
                                                                 cudaStream_t stream_a,
                                                                 const std::function<void(cudaStream_t)>& b,
                                                                 cudaStream_t stream_b,
                                                                 const std::function<void()>& rotate, int warmup,
                                                                 int runs) {
  MHC_CUDA_CHECK(cudaDeviceSynchronize());
  MHC_CUPTI_CHECK(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED));
  clear_records();
  cudaEvent_t opened = nullptr;
  MHC_CUDA_CHECK(cudaEventCreateWithFlags(&opened, cudaEventDisableTiming));
  const int total = warmup + runs;
  auto tagged = [](uint64_t id, const std::function<void(cudaStream_t)>& call, cudaStream_t s) {
    MHC_CUPTI_CHECK(cuptiActivityPushExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, id));
    call(s);
    uint64_t popped = 0;
    MHC_CUPTI_CHECK(cuptiActivityPopExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, &popped));
  };
  for (int i = 0; i < total; ++i) {
    rotate();
    gate(stream_a);
    MHC_CUDA_CHECK(cudaEventRecord(opened, stream_a));
    MHC_CUDA_CHECK(cudaStreamWaitEvent(stream_b, opened, 0));
    tagged(2 * uint64_t(i) + 1, a, stream_a);
    tagged(2 * uint64_t(i) + 2, b, stream_b);
    MHC_CUDA_CHECK(cudaDeviceSynchronize());  // runs do not overlap one another
  }
  MHC_CUDA_CHECK(cudaGetLastError());
  cudaEventDestroy(opened);
  flush(stream_a);

  Records& r = records();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::map<uint64_t, Span> per_call;
  for (const auto& [corr, span] : r.kernels) {
    auto ext = r.external_by_correlation.find(corr);
    if (ext == r.external_by_correlation.end()) continue;  // the gate kernels
    auto [it, fresh] = per_call.emplace(ext->second, span);
    if (!fresh) {
      it->second.start = std::min(it->second.start, span.start);
      it->second.end = std::max(it->second.end, span.end);
    }
  }
  std::vector<PairTiming> out;
  for (int i = warmup; i < total; ++i) {
    auto x = per_call.find(2 * uint64_t(i) + 1), y = per_call.find(2 * uint64_t(i) + 2);
    if (x == per_call.end() || y == per_call.end())
      throw std::runtime_error("CUPTI delivered no kernel record for co-run " + std::to_string(i));
    PairTiming t;
    t.a_s = double(x->second.end - x->second.start) * 1e-9;
    t.b_s = double(y->second.end - y->second.start) * 1e-9;
    t.span_s = double(std::max(x->second.end, y->second.end) - std::min(x->second.start, y->second.start)) * 1e-9;
    out.push_back(t);
  }
  return out;
}

std::vector<double> ActivityTimer::time_device_copies(void* dst, const void* src, size_t bytes, cudaStream_t stream,
                                                      int warmup, int runs) {
  MHC_CUDA_CHECK(cudaStreamSynchronize(stream));
  MHC_CUPTI_CHECK(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED));
  clear_records();
  for (int i = 0; i < warmup + runs; ++i)
    MHC_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream));
  flush(stream);
  Records& r = records();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::sort(r.memcpys.begin(), r.memcpys.end(),
            [](const auto& a, const auto& b) { return a.second.start < b.second.start; });
  if (r.memcpys.size() != static_cast<size_t>(warmup + runs))
    throw std::runtime_error("expected " + std::to_string(warmup + runs) + " CUPTI memcpy records, got " +
                             std::to_string(r.memcpys.size()));
  std::vector<double> out;
  for (size_t i = warmup; i < r.memcpys.size(); ++i)
    out.push_back(static_cast<double>(r.memcpys[i].second.end - r.memcpys[i].second.start) * 1e-9);
  return out;
}

}  // namespace mhc::profiler
