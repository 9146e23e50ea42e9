#include "engine/result_codec.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace mhc {
namespace {

class Writer {
 public:
  void u64(uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void f64(double v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void str(const std::string& s) {
    u64(s.size());
    out += s;
  }
  void map(const std::map<std::string, double>& m) {
    u64(m.size());
    for (const auto& [k, v] : m) str(k), f64(v);
  }
  std::string out;
};

class Reader {
 public:
  explicit Reader(const std::string& s) : s_(s) {}
  uint64_t u64() { return take<uint64_t>(); }
  double f64() { return take<double>(); }
  std::string str() {
    uint64_t n = u64();
    need(n);
    std::string r = s_.substr(pos_, n);
    pos_ += n;
    return r;
  }
  std::map<std::string, double> map() {
    std::map<std::string, double> m;
    for (uint64_t i = 0, n = u64(); i < n; ++i) {
      std::string k = str();
      m[k] = f64();
    }
    return m;
  }
  bool at_end() const { return pos_ == s_.size(); }

 private:
  template <class T>
  T take() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, s_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  void need(uint64_t n) const {
    if (pos_ + n > s_.size()) throw std::runtime_error("engine: truncated result from the simulation process");
  }
  const std::string& s_;
  size_t pos_ = 0;
};

}  // namespace

std::string serialize_result(const EngineResult& r) {
  Writer w;
  w.u64(r.timings.size());
  for (const TaskTiming& t : r.timings) w.f64(t.start), w.f64(t.end);
  w.f64(r.makespan_s);
  w.map(r.bytes_by_category);
  w.map(r.bytes_by_link_class);
  w.map(r.bytes_by_category_link_class);
  w.map(r.exposed_comm_s_by_category);
  auto segments = [&w](const std::vector<GpuTimeline::Segment>& v) {
    w.u64(v.size());
    for (const auto& s : v) w.f64(s.start), w.f64(s.sms), w.f64(s.hbm_Bps);
  };
  w.u64(r.shares.size());
  for (const TaskShare& s : r.shares) {
    w.f64(s.lost_to_comm_s), w.f64(s.lost_to_corun_s), w.f64(s.sm_seconds);
    segments(s.segments);
  }
  w.u64(r.comm_segments.size());
  for (const auto& [gpu, v] : r.comm_segments) {
    w.u64(static_cast<uint64_t>(gpu));
    segments(v);
  }
  w.f64(r.wall_seconds);
  w.u64(static_cast<uint64_t>(r.activities));
  w.u64(static_cast<uint64_t>(r.simulated_gpus));
  return w.out;
}

EngineResult deserialize_result(const std::string& bytes) {
  Reader rd(bytes);
  EngineResult r;
  r.timings.resize(rd.u64());
  for (TaskTiming& t : r.timings) t.start = rd.f64(), t.end = rd.f64();
  r.makespan_s = rd.f64();
  r.bytes_by_category = rd.map();
  r.bytes_by_link_class = rd.map();
  r.bytes_by_category_link_class = rd.map();
  r.exposed_comm_s_by_category = rd.map();
  auto segments = [&rd] {
    std::vector<GpuTimeline::Segment> v(rd.u64());
    for (auto& s : v) s.start = rd.f64(), s.sms = rd.f64(), s.hbm_Bps = rd.f64();
    return v;
  };
  r.shares.resize(rd.u64());
  for (TaskShare& s : r.shares) {
    s.lost_to_comm_s = rd.f64(), s.lost_to_corun_s = rd.f64(), s.sm_seconds = rd.f64();
    s.segments = segments();
  }
  for (uint64_t i = 0, n = rd.u64(); i < n; ++i) {
    const int gpu = static_cast<int>(rd.u64());
    r.comm_segments[gpu] = segments();
  }
  r.wall_seconds = rd.f64();
  r.activities = static_cast<long>(rd.u64());
  r.simulated_gpus = static_cast<int>(rd.u64());
  if (!rd.at_end()) throw std::runtime_error("engine: malformed result from the simulation process");
  return r;
}

}  // namespace mhc
