#include "engine/gpu_share.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace mhc {

std::vector<double> water_fill(double capacity, const std::vector<double>& demands) {
  std::vector<double> out(demands.size(), 0.0);
  std::vector<size_t> order(demands.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return demands[a] < demands[b]; });
  double left = std::max(0.0, capacity);
  for (size_t i = 0; i < order.size(); ++i) {
    const double fair = left / double(order.size() - i);
    const double give = std::min(std::max(0.0, demands[order[i]]), fair);
    out[order[i]] = give;
    left -= give;
  }
  return out;
}

std::vector<KernelShare> share_gpu(const GpuCapacity& gpu, double comm_sms, double comm_hbm_Bps,
                                   const std::vector<KernelLoad>& kernels) {
  const size_t n = kernels.size();
  std::vector<KernelShare> out(n);
  // 1. SMs: high-priority kernels first, then the others share what is left.
  double sms_left = std::max(0.0, gpu.sms - comm_sms);
  std::vector<double> sms(n, 0.0);
  for (bool high : {true, false}) {
    std::vector<size_t> who;
    std::vector<double> want;
    for (size_t k = 0; k < n; ++k)
      if (kernels[k].high_priority == high) who.push_back(k), want.push_back(kernels[k].sms);
    const std::vector<double> got = water_fill(sms_left, want);
    for (size_t i = 0; i < who.size(); ++i) sms[who[i]] = got[i], sms_left -= got[i];
  }
  // 2. HBM, fair among all, each asking for what its SMs let it draw.
  std::vector<double> sm_speed(n, 1.0), want(n, 0.0);
  for (size_t k = 0; k < n; ++k) {
    if (kernels[k].sms > 0) sm_speed[k] = std::min(1.0, sms[k] / kernels[k].sms);
    want[k] = kernels[k].hbm_Bps * sm_speed[k];
  }
  const bool hbm_limited = gpu.hbm_Bps > 0;
  const std::vector<double> hbm =
      hbm_limited ? water_fill(std::max(0.0, gpu.hbm_Bps - comm_hbm_Bps), want) : want;
  // 3. The scarcer resource sets the pace.
  for (size_t k = 0; k < n; ++k) {
    double x = sm_speed[k];
    if (kernels[k].hbm_Bps > 0) x = std::min(x, hbm[k] / kernels[k].hbm_Bps);
    out[k].speed = std::clamp(x, 0.0, 1.0);
    out[k].sms = sms[k];
    out[k].hbm_Bps = out[k].speed * kernels[k].hbm_Bps;
  }
  return out;
}

GpuTimeline::GpuTimeline(GpuCapacity capacity, bool record_segments) : cap_(capacity), record_(record_segments) {}

void GpuTimeline::advance(double now) {
  const double dt = now - last_;
  if (dt > 0) {
    for (Job& j : jobs_) {
      const double x = j.share.speed;
      j.remaining -= x * dt;
      const double comm = std::clamp(j.free_speed - x, 0.0, 1.0 - x);
      j.acc.lost_to_comm_s += comm * dt;
      j.acc.lost_to_corun_s += (1.0 - x - comm) * dt;
      j.acc.sm_seconds += j.share.sms * dt;
    }
  }
  last_ = std::max(last_, now);
}

void GpuTimeline::reshare(double now) {
  std::vector<KernelLoad> loads;
  loads.reserve(jobs_.size());
  for (const Job& j : jobs_) loads.push_back(j.load);
  const std::vector<KernelShare> shares = share_gpu(cap_, comm_sms_, comm_hbm_, loads);
  // The counterfactual without communication, to split lost time by cause.
  const bool comm = comm_sms_ > 0 || comm_hbm_ > 0;
  const std::vector<KernelShare> free = comm ? share_gpu(cap_, 0.0, 0.0, loads) : shares;
  for (size_t k = 0; k < jobs_.size(); ++k) {
    Job& j = jobs_[k];
    const bool changed = shares[k].sms != j.share.sms || shares[k].hbm_Bps != j.share.hbm_Bps;
    j.share = shares[k];
    j.free_speed = free[k].speed;
    if (record_ && (changed || j.acc.segments.empty())) {
      if (!j.acc.segments.empty() && j.acc.segments.back().start == now) j.acc.segments.pop_back();
      j.acc.segments.push_back({now, j.share.sms, j.share.hbm_Bps});
    }
  }
}

void GpuTimeline::add(size_t id, double seconds, const KernelLoad& load, double now) {
  Job j;
  j.id = id;
  j.seconds = seconds;
  j.remaining = seconds;
  j.load = load;
  j.load.sms = std::clamp(load.sms, 0.0, cap_.sms);
  j.acc.id = id;
  jobs_.push_back(std::move(j));
  reshare(now);
}

void GpuTimeline::set_comm(double sms, double hbm_Bps, double now) {
  sms = std::min(sms, cap_.sms);
  if (sms == comm_sms_ && hbm_Bps == comm_hbm_) return;
  comm_sms_ = sms;
  comm_hbm_ = hbm_Bps;
  if (record_) {
    if (!comm_segments_.empty() && comm_segments_.back().start == now) comm_segments_.pop_back();
    comm_segments_.push_back({now, comm_sms_, comm_hbm_});
  }
  reshare(now);
}

// A kernel is done when what remains would take it less than a picosecond-scale sliver relative to
// its length (the clock reaches the predicted end up to rounding).
std::vector<GpuTimeline::Finished> GpuTimeline::take_finished(double now) {
  std::vector<Finished> done;
  for (size_t k = 0; k < jobs_.size();) {
    Job& j = jobs_[k];
    if (j.remaining <= 1e-12 * std::max(1.0, j.seconds)) {
      done.push_back(std::move(j.acc));
      jobs_.erase(jobs_.begin() + static_cast<std::ptrdiff_t>(k));
    } else {
      ++k;
    }
  }
  if (!done.empty()) reshare(now);
  return done;
}

double GpuTimeline::next_finish() const {
  double best = std::numeric_limits<double>::infinity();
  for (const Job& j : jobs_)
    if (j.share.speed > 0) best = std::min(best, last_ + std::max(0.0, j.remaining) / j.share.speed);
  return best;
}

}  // namespace mhc
