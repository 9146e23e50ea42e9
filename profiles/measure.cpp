#include "measure.h"

#include <algorithm>
#include <cmath>
#include <iostream>

#include "cuda_check.h"

namespace mhc::profiler {

Measurer::Measurer(int device, RunSettings settings, bool count_dram) : settings_(settings) {
  MHC_CUDA_CHECK(cudaSetDevice(device));
  MHC_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  int l2 = 0;
  MHC_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
  l2_bytes_ = l2;
  if (!count_dram) {
    dram_status_ = "DRAM byte counting switched off (--no-dram)";
    return;
  }
  try {
    dram_ = std::make_unique<DramCounter>(device);
  } catch (const std::exception& e) {
    // Typically CUPTI_ERROR_INSUFFICIENT_PRIVILEGES (profiling counters restricted to admin users).
    dram_status_ = std::string("CUPTI range profiler unavailable, no DRAM byte counts: ") + e.what();
    std::cerr << "mhc-profile: " << dram_status_ << "\n";
  }
}

Measurer::~Measurer() {
  dram_.reset();
  if (stream_) cudaStreamDestroy(stream_);
}

int Measurer::input_sets_for(double bytes_per_set) const {
  constexpr int kMaxSets = 64;
  int sets = settings_.input_sets;
  if (bytes_per_set > 0) sets = std::max(sets, static_cast<int>(std::ceil(4.0 * l2_bytes_ / bytes_per_set)));
  return std::min(sets, std::max(kMaxSets, settings_.input_sets));
}

bool Measurer::out_of_time() const {
  if (time_limit_s_ <= 0) return false;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count() > time_limit_s_;
}

ProfileEntry Measurer::measure(const OpUnderTest& op) {
  if (before_each_) before_each_();
  std::vector<double> samples = timer_.time_calls(op.launch, op.rotate, stream_, settings_.warmup, settings_.runs);
  std::optional<DramBytes> dram;
  if (dram_) {
    op.rotate();
    dram = dram_->measure(op.launch, stream_);
  }
  RunSettings used = settings_;
  if (op.input_sets > 0) used.input_sets = op.input_sets;
  ProfileEntry e = make_entry(op.kernel, op.shape, summarize(samples), used, dram, op.model_read_bytes,
                              op.model_write_bytes, op.model_flops, op.implementation);
  std::cerr << "  " << e.label() << ": " << e.seconds * 1e6 << " us";
  if (dram) std::cerr << ", DRAM " << dram->read / 1e6 << " MB read, " << dram->write / 1e6 << " MB written";
  std::cerr << "\n";
  return e;
}

}  // namespace mhc::profiler
