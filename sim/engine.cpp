// simulate(): SimGrid in a fork()ed child, the result back over a pipe; exposed-communication
// accounting; the result's binary form.
#include "engine.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "json_input.h"

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

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t w = ::write(fd, s.data() + off, s.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    off += static_cast<size_t>(w);
  }
}

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
    if (g[v].kind != NodeKind::compute) continue;
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
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("engine: pipe: ") + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(std::string("engine: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    Writer w;
    try {
      EngineResult r = simulate_here(cluster, graph, options);
      w.out = "R" + serialize_result(r);
    } catch (const InputError& e) {
      w.out = "I";
      w.str(e.file()), w.str(e.path()), w.str(e.message());
    } catch (const std::exception& e) {
      w.out = "E";
      w.str(e.what());
    } catch (...) {
      w.out = "E";
      w.str("unknown error in the simulation process");
    }
    write_all(fds[1], w.out);
    ::close(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string data;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (data.empty()) {
    std::string why = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                          : "exit status " + std::to_string(WEXITSTATUS(status));
    throw std::runtime_error("engine: the simulation process died (" + why + ")");
  }
  char tag = data[0];
  std::string body = data.substr(1);
  if (tag == 'I') {
    Reader rd(body);
    std::string file = rd.str(), path = rd.str(), message = rd.str();
    throw InputError(file, path, message);
  }
  if (tag == 'E') throw std::runtime_error("engine: " + Reader(body).str());
  EngineResult r = deserialize_result(body);
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace mhc
