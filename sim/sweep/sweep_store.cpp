#include "sweep/sweep_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "scenario/input_limits.h"

namespace mhc {

namespace fs = std::filesystem;

namespace {

std::string host_name() {
  char buf[256] = {};
  return ::gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("host");
}

std::vector<std::string> strings(const JsonValue& v) {
  std::vector<std::string> out;
  for (const auto& s : v.array()) out.push_back(s.string());
  return out;
}

// The lines of a JSON-lines file, each parsed with its origin ("FILE line K") for messages.
std::vector<JsonValue> json_lines(const std::string& path) {
  std::vector<JsonValue> out;
  auto text = read_file_if_exists(path);
  if (!text) return out;
  std::stringstream lines(*text);
  size_t number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (line.empty()) continue;
    out.push_back(parse_json_text(line, path + " line " + std::to_string(number)));
  }
  return out;
}

// Appends whole lines with one write() under O_APPEND, after the lock taken by the caller.
void append_lines(const std::string& path, const std::string& lines) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(path, "", std::string("cannot open for appending: ") + std::strerror(errno));
  const ssize_t n = ::write(fd, lines.data(), lines.size());
  const bool ok = n == static_cast<ssize_t>(lines.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw InputError(path, "", "cannot append to the file");
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& text) {
  const fs::path target(path);
  // Unique per host and process: several array tasks (on several hosts) may write the same result.
  std::string name = ".";
  name.append(target.filename().string()).append(".tmp.").append(host_name()).append(".").append(std::to_string(::getpid()));
  const std::string temp = (target.parent_path() / name).string();
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(path, "", std::string("cannot write: ") + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == text.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(temp.c_str());
    throw InputError(path, "", "cannot write: " + why);
  }
}

std::optional<std::string> read_file_if_exists(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

SweepStore::SweepStore(std::string dir) : dir_(fs::absolute(dir).lexically_normal().string()) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

std::string SweepStore::log_file(const std::string& job, size_t task) const {
  return logs_dir() + "/" + job + "_" + std::to_string(task) + ".out";
}

void SweepStore::create() const {
  for (const char* sub : {"", "/points", "/profiles", "/results", "/logs"}) {
    std::error_code ec;
    fs::create_directories(dir_ + sub, ec);
    if (ec) throw InputError(dir_ + sub, "", "cannot create the directory: " + ec.message());
  }
}

std::vector<PlannedPoint> SweepStore::points() const {
  std::vector<PlannedPoint> out;
  for (const JsonValue& line : json_lines(points_file())) {
    JsonObject o = line.object();
    PlannedPoint p;
    p.index = static_cast<size_t>(o.required("index").integer_at_least(0));
    if (p.index != out.size()) o.required("index").fail("expected " + std::to_string(out.size()) + " (the line's place)");
    p.key = o.required("key").string();
    p.n = static_cast<int>(o.required("n").integer(1, limits::kMaxExpansionRate));
    p.settings = strings(o.required("settings"));
    p.scenario = o.required("scenario").string();
    p.overrides = strings(o.required("overrides"));
    o.finish();
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<size_t> SweepStore::add_points(const std::vector<PlannedPoint>& points) const {
  std::map<std::string, size_t> index_of;
  size_t count = 0;
  for (const PlannedPoint& p : this->points()) index_of[p.key] = p.index, ++count;
  std::string lines;
  std::vector<size_t> indices;
  for (const PlannedPoint& p : points) {
    auto [it, added] = index_of.emplace(p.key, count);
    if (added) {
      lines += nlohmann::json{{"index", count}, {"key", p.key},          {"n", p.n},
                              {"settings", p.settings}, {"scenario", p.scenario}, {"overrides", p.overrides}}
                   .dump() +
               "\n";
      ++count;
    }
    indices.push_back(it->second);
  }
  if (!lines.empty()) append_lines(points_file(), lines);
  return indices;
}

nlohmann::json request_json(const SweepRequest& r) {
  nlohmann::json vary = nlohmann::json::array();
  for (const auto& a : r.vary) vary.push_back({{"pointer", a.pointer}, {"values", a.values}});
  return {{"scenario", r.scenario},
          {"n", r.n_values},
          {"overrides", r.overrides},
          {"vary", vary},
          {"max_overhead_pct", r.max_overhead_pct ? nlohmann::json(*r.max_overhead_pct) : nlohmann::json(nullptr)},
          {"max_memory_bytes", r.max_memory_bytes ? nlohmann::json(*r.max_memory_bytes) : nlohmann::json(nullptr)}};
}

SweepRequest request_from_json(const JsonValue& value) {
  JsonObject o = value.object();
  SweepRequest r;
  r.scenario = o.required("scenario").string();
  for (const auto& n : o.required("n").non_empty_array())
    r.n_values.push_back(static_cast<int>(n.integer(1, limits::kMaxExpansionRate)));
  r.overrides = strings(o.required("overrides"));
  for (const auto& a : o.required("vary").array()) {
    JsonObject ao = a.object();
    r.vary.push_back({ao.required("pointer").string(), strings(ao.required("values"))});
    ao.finish();
  }
  auto overhead = o.required("max_overhead_pct");
  // The ranges of sweep's --max-overhead (percent) and --max-memory (1e-3 to 1e6 GB).
  if (!overhead.raw().is_null()) r.max_overhead_pct = overhead.number(-100, 1e6);
  auto memory = o.required("max_memory_bytes");
  if (!memory.raw().is_null()) r.max_memory_bytes = memory.number(1e6, 1e15);
  o.finish();
  return r;
}

void SweepStore::write_sweep(const StoredSweep& s) const {
  nlohmann::json configs = nlohmann::json::array();
  for (size_t c = 0; c < s.configs.size(); ++c)
    configs.push_back({{"settings", s.configs[c].settings}, {"invalid", s.configs[c].invalid}, {"points", s.point_indices[c]}});
  const nlohmann::json j = {{"request", request_json(s.request)}, {"configurations", configs}, {"mhcsim", s.mhcsim}};
  write_file_atomically(sweep_file(), j.dump(2) + "\n");
}

StoredSweep SweepStore::read_sweep() const {
  if (!fs::exists(sweep_file()))
    throw InputError(sweep_file(), "", "not found: " + dir_ + " holds no sweep (plan one with mhcsim sweep ... --slurm DIR)");
  JsonObject o = load_json_file(sweep_file()).object();
  StoredSweep s;
  s.request = request_from_json(o.required("request"));
  for (const auto& c : o.required("configurations").array()) {
    JsonObject co = c.object();
    SweepConfig config;
    config.settings = strings(co.required("settings"));
    config.invalid = co.required("invalid").string();
    std::vector<size_t> indices;
    for (const auto& i : co.required("points").array()) indices.push_back(static_cast<size_t>(i.integer_at_least(0)));
    if (config.invalid.empty() && indices.size() != s.request.n_values.size())
      co.required("points").fail("expected one point per n (" + std::to_string(s.request.n_values.size()) + ")");
    co.finish();
    s.configs.push_back(std::move(config));
    s.point_indices.push_back(std::move(indices));
  }
  s.mhcsim = o.required("mhcsim").string();
  o.finish();
  return s;
}

std::vector<Submission> SweepStore::submissions() const {
  std::vector<Submission> out;
  for (const JsonValue& line : json_lines(jobs_file())) {
    JsonObject o = line.object();
    Submission s;
    s.job = o.required("job").string();
    s.offset = static_cast<size_t>(o.required("offset").integer_at_least(0));
    for (const auto& i : o.required("indices").array()) s.indices.push_back(static_cast<size_t>(i.integer_at_least(0)));
    o.finish();
    out.push_back(std::move(s));
  }
  return out;
}

void SweepStore::add_submission(const Submission& s) const {
  append_lines(jobs_file(), nlohmann::json{{"job", s.job}, {"offset", s.offset}, {"indices", s.indices}}.dump() + "\n");
}

SweepStore::Lock::Lock(const std::string& file) {
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(file, "", std::string("cannot open the lock file: ") + std::strerror(errno));
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  while (::fcntl(fd_, F_SETLKW, &lock) != 0) {
    if (errno == EINTR) continue;
    const std::string why = std::strerror(errno);
    ::close(fd_);
    throw InputError(file, "", "cannot lock: " + why);
  }
}

SweepStore::Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace mhc
