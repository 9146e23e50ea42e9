#include "report/trace.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/json_input.h"

namespace mhc {
namespace {

constexpr int kCollectiveTrack = 3;
constexpr int kSendTrackBase = 100;  // tid of "send to GPU d" = base + d

void escape_into(std::string& out, const std::string& s) {
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
}

void number_into(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  out += buf;
}

int stream_tid(Stream s) { return s == Stream::compute ? 0 : s == Stream::comm ? 1 : 2; }

// An argument at nine significant digits (seconds and SM counts need more than six decimals).
void field(std::string& out, const char* key, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  out += ",\"";
  out += key;
  out += "\":";
  out += buf;
}

// Counter events ("ph":"C") per GPU: SMs held and HBM GB/s by stream, from the recorded segments.
void counters_into(std::string& out, const TaskGraph& g, const std::vector<TaskTiming>& timings, double unit_to_us,
                   const TraceShares& sh) {
  struct Change {
    double t;
    int series;  // stream tid of a compute task, or 3: communication
    size_t key;  // which task (or the GPU's communication)
    double sms, hbm;
  };
  std::map<int, std::vector<Change>> by_gpu;
  const size_t comm_key = boost::num_vertices(g);
  for (TaskId v = 0; v < boost::num_vertices(g) && v < sh.tasks->size(); ++v) {
    const TaskNode& n = g[v];
    const auto& segs = (*sh.tasks)[v].segments;
    if (n.kind != NodeKind::compute || segs.empty()) continue;
    auto& list = by_gpu[n.gpu];
    for (const auto& s : segs) list.push_back({s.start, stream_tid(n.stream), v, s.sms, s.hbm_Bps});
    list.push_back({timings[v].end, stream_tid(n.stream), v, 0.0, 0.0});
  }
  if (sh.comm)
    for (const auto& [gpu, segs] : *sh.comm)
      for (const auto& s : segs) by_gpu[gpu].push_back({s.start, 3, comm_key, s.sms, s.hbm_Bps});
  static const char* names[4] = {"compute", "comm", "high_priority", "communication kernels"};
  for (auto& [gpu, list] : by_gpu) {
    std::stable_sort(list.begin(), list.end(), [](const Change& a, const Change& b) { return a.t < b.t; });
    std::map<size_t, std::pair<int, std::pair<double, double>>> now;  // key -> (series, (sms, hbm))
    for (size_t i = 0; i < list.size(); ++i) {
      now[list[i].key] = {list[i].series, {list[i].sms, list[i].hbm}};
      if (i + 1 < list.size() && list[i + 1].t == list[i].t) continue;  // one event per instant
      double sms[4] = {0, 0, 0, 0}, hbm[4] = {0, 0, 0, 0};
      for (const auto& [key, v] : now) sms[v.first] += v.second.first, hbm[v.first] += v.second.second;
      for (int counter = 0; counter < 2; ++counter) {
        out += ",\n{\"ph\":\"C\",\"name\":\"";
        out += counter == 0 ? "SMs held" : "HBM GB/s";
        out += "\",\"pid\":" + std::to_string(gpu) + ",\"ts\":";
        number_into(out, list[i].t * unit_to_us);
        out += ",\"args\":{";
        bool first = true;
        for (int k : {0, 2, 3}) {
          if (!first) out += ",";
          first = false;
          out += "\"";
          out += names[k];
          out += "\":";
          number_into(out, counter == 0 ? sms[k] : hbm[k] / 1e9);
        }
        out += "}}";
      }
    }
  }
}

}  // namespace

std::string chrome_trace_json(const TaskGraph& g, const std::vector<TaskTiming>& timings, double unit_to_us,
                              const TraceShares* shares) {
  std::string out;
  out.reserve(boost::num_vertices(g) * 160 + 256);
  out += "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  std::map<std::pair<int, int>, std::string> tracks;  // (pid, tid) -> name
  std::set<int> processes;
  bool first = true;
  auto event = [&](TaskId v, int pid, int tid) {
    const TaskNode& n = g[v];
    const TaskTiming& t = timings[v];
    if (!first) out += ",\n";
    first = false;
    out += "{\"ph\":\"X\",\"name\":\"";
    escape_into(out, n.name);
    out += "\",\"cat\":\"";
    escape_into(out, n.category);
    out += "\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) + ",\"ts\":";
    number_into(out, t.start * unit_to_us);
    out += ",\"dur\":";
    number_into(out, (t.end - t.start) * unit_to_us);
    out += ",\"args\":{\"phase\":\"";
    out += to_string(n.phase);
    out += "\",\"rank\":" + std::to_string(n.rank) + ",\"micro\":" + std::to_string(n.micro) +
           ",\"chunk\":" + std::to_string(n.chunk);
    if (n.phase == Phase::FB) out += ",\"micro2\":" + std::to_string(n.micro2) + ",\"chunk2\":" + std::to_string(n.chunk2);
    if (n.kind != NodeKind::compute) {
      out += ",\"bytes\":";
      number_into(out, n.bytes);
    } else if (shares && shares->tasks) {
      const double dur = t.end - t.start;
      if (v < shares->tasks->size() && dur > 0) {
        const TaskShare& sh = (*shares->tasks)[v];
        field(out, "seconds_alone", n.seconds);
        field(out, "speed", n.seconds / dur);
        field(out, "mean_sms", sh.sm_seconds / dur);
        field(out, "mean_hbm_GBps", n.hbm_bytes / dur / 1e9);
        field(out, "lost_to_comm_s", sh.lost_to_comm_s);
        field(out, "lost_to_corun_s", sh.lost_to_corun_s);
      }
    }
    out += "}}";
    processes.insert(pid);
  };
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
    const TaskNode& n = g[v];
    switch (n.kind) {
      case NodeKind::compute:
        event(v, n.gpu, stream_tid(n.stream));
        tracks[{n.gpu, stream_tid(n.stream)}] = to_string(n.stream);
        break;
      case NodeKind::transfer:
        event(v, n.src_gpu, kSendTrackBase + n.dst_gpu);
        tracks[{n.src_gpu, kSendTrackBase + n.dst_gpu}] = "send to GPU " + std::to_string(n.dst_gpu);
        break;
      case NodeKind::collective:
        for (int gpu : n.group) {
          event(v, gpu, kCollectiveTrack);
          tracks[{gpu, kCollectiveTrack}] = std::string("collectives");
        }
        break;
    }
  }
  if (shares && shares->tasks) counters_into(out, g, timings, unit_to_us, *shares);
  for (int pid : processes) {
    out += ",\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + std::to_string(pid) +
           ",\"args\":{\"name\":\"GPU " + std::to_string(pid) + "\"}}";
    out += ",\n{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":" + std::to_string(pid) +
           ",\"args\":{\"sort_index\":" + std::to_string(pid) + "}}";
  }
  for (const auto& [key, name] : tracks) {
    out += ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + std::to_string(key.first) +
           ",\"tid\":" + std::to_string(key.second) + ",\"args\":{\"name\":\"";
    escape_into(out, name);
    out += "\"}}";
  }
  out += "\n]}\n";
  return out;
}

void write_chrome_trace(const std::string& path, const TaskGraph& g, const std::vector<TaskTiming>& timings,
                        double unit_to_us, const TraceShares* shares) {
  if (timings.size() != boost::num_vertices(g)) throw std::invalid_argument("write_chrome_trace: timings do not match the graph");
  if (!(unit_to_us > 0)) throw std::invalid_argument("write_chrome_trace: time_unit_to_us must be > 0");
  std::ofstream f(path, std::ios::binary);
  if (!f) throw InputError(path, "", "cannot open the trace file for writing");
  const std::string doc = chrome_trace_json(g, timings, unit_to_us, shares);
  f.write(doc.data(), static_cast<std::streamsize>(doc.size()));
  if (!f) throw InputError(path, "", "writing the trace file failed");
}

std::string ascii_timeline(const TaskGraph& g, const std::vector<TaskTiming>& timings, int ranks, int max_columns) {
  if (ranks < 1 || ranks > 64 || max_columns < 1) return "";
  double makespan = 0.0, shortest = 0.0;
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
    const TaskNode& n = g[v];
    if (n.kind != NodeKind::compute || n.rank < 0 || n.rank >= ranks) continue;
    double d = timings[v].end - timings[v].start;
    if (d > 0 && (shortest == 0.0 || d < shortest)) shortest = d;
    makespan = std::max(makespan, timings[v].end);
  }
  if (makespan <= 0.0) return "";
  double column = shortest;
  int columns = static_cast<int>(std::ceil(makespan / column - 1e-9));
  if (columns > max_columns) {
    columns = max_columns;
    column = makespan / columns;
  }
  std::vector<std::string> rows(ranks, std::string(columns, '.'));
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
    const TaskNode& n = g[v];
    if (n.kind != NodeKind::compute || n.rank < 0 || n.rank >= ranks) continue;
    char c = n.phase == Phase::F ? 'F' : n.phase == Phase::B ? 'b' : n.phase == Phase::W ? 'W'
           : n.phase == Phase::BW ? 'B' : n.phase == Phase::FB ? 'X' : '#';
    // Columns whose midpoint falls inside the task.
    int from = static_cast<int>(std::ceil(timings[v].start / column - 0.5 - 1e-9));
    int to = static_cast<int>(std::ceil(timings[v].end / column - 0.5 - 1e-9));
    for (int k = std::max(from, 0); k < std::min(to, columns); ++k) rows[n.rank][k] = c;
  }
  std::ostringstream os;
  os << "timeline (1 column = " << column << " time units; F forward, b input-gradient backward, W weight gradient,"
     << " B full backward, X overlapped F&B pair, . idle)\n";
  for (int r = 0; r < ranks; ++r) os << "r" << r << (r < 10 ? "  " : " ") << "|" << rows[r] << "|\n";
  return os.str();
}

}  // namespace mhc
