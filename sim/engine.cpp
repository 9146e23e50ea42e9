// simulate(): SimGrid in a fork()ed child (child_process.h), the result back in binary; exposed-communication
// accounting; the result's binary form.
#include "engine.h"

#include <chrono>
#include <cstring>
#include <stdexcept>

#include "child_process.h"

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
  w.map(r.exposed_comm_s_by_category);
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
  r.exposed_comm_s_by_category = rd.map();
  r.wall_seconds = rd.f64();
  r.activities = static_cast<long>(rd.u64());
  r.simulated_gpus = static_cast<int>(rd.u64());
  if (!rd.at_end()) throw std::runtime_error("engine: malformed result from the simulation process");
  return r;
}

void compute_exposed_comm(const TaskGraph& g, EngineResult& r) {
  r.exposed_comm_s_by_category.clear();
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
    // High-priority kernels wait alongside the compute task of their pair: counting them too would
    // count one wait twice.
    if (g[v].kind != NodeKind::compute || g[v].stream == Stream::high_priority) continue;
    double local_ready = 0.0, comm_end = -1.0;
    const std::string* category = nullptr;
    for (auto [e, end] = boost::in_edges(v, g); e != end; ++e) {
      TaskId u = boost::source(*e, g);
      double t = r.timings[u].end;
      if (g[u].kind == NodeKind::compute) {
        local_ready = std::max(local_ready, t);
      } else if (t > comm_end) {
        comm_end = t;
        category = &g[u].category;
      }
    }
    double wait = r.timings[v].start - local_ready;
    if (category && comm_end > local_ready && wait > 0) r.exposed_comm_s_by_category[*category] += wait;
  }
}

EngineResult simulate(const ClusterSpec& cluster, const TaskGraph& graph, const EngineOptions& options) {
  if (options.in_process) return simulate_here(cluster, graph, options);
  auto t0 = std::chrono::steady_clock::now();
  EngineResult r = deserialize_result(
      run_in_child([&] { return serialize_result(simulate_here(cluster, graph, options)); }, "engine"));
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace mhc
