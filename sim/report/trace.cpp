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

}  // namespace

std::string chrome_trace_json(const TaskGraph& g, const std::vector<TaskTiming>& timings, double unit_to_us) {
  std::string out;
  out.reserve(boost::num_vertices(g) * 160 + 256);
  out += "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  std::map<std::pair<int, int>, std::string> tracks;  // (pid, tid) -> name
  std::set<int> processes;
  bool first = true;
  auto event = [&](const TaskNode& n, const TaskTiming& t, int pid, int tid) {
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
    }
    out += "}}";
    processes.insert(pid);
  };
  for (TaskId v = 0; v < boost::num_vertices(g); ++v) {
    const TaskNode& n = g[v];
    switch (n.kind) {
      case NodeKind::compute:
        event(n, timings[v], n.gpu, stream_tid(n.stream));
        tracks[{n.gpu, stream_tid(n.stream)}] = to_string(n.stream);
        break;
      case NodeKind::transfer:
        event(n, timings[v], n.src_gpu, kSendTrackBase + n.dst_gpu);
        tracks[{n.src_gpu, kSendTrackBase + n.dst_gpu}] = "send to GPU " + std::to_string(n.dst_gpu);
        break;
      case NodeKind::collective:
        for (int gpu : n.group) {
          event(n, timings[v], gpu, kCollectiveTrack);
          tracks[{gpu, kCollectiveTrack}] = std::string("collectives");
        }
        break;
    }
  }
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
                        double unit_to_us) {
  if (timings.size() != boost::num_vertices(g)) throw std::invalid_argument("write_chrome_trace: timings do not match the graph");
  if (!(unit_to_us > 0)) throw std::invalid_argument("write_chrome_trace: time_unit_to_us must be > 0");
  std::ofstream f(path, std::ios::binary);
  if (!f) throw InputError(path, "", "cannot open the trace file for writing");
  const std::string doc = chrome_trace_json(g, timings, unit_to_us);
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
