#include "core/cli_args.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/json_input.h"

namespace mhc {

CliArgs::CliArgs(std::string command, const std::vector<std::string>& args,
                 const std::set<std::string>& value_flags, const std::set<std::string>& switches)
    : command_(std::move(command)) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      positional_.push_back(a);
      continue;
    }
    std::string name = a, value;
    bool has_inline = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_inline = true;
    }
    if (switches.count(name)) {
      if (has_inline) fail(name, "takes no value");
      values_.emplace(name, "");
    } else if (value_flags.count(name)) {
      if (!has_inline) {
        if (i + 1 >= args.size()) fail(name, "expects a value");
        value = args[++i];
      }
      values_.emplace(name, value);
    } else {
      std::string known;
      for (const auto& f : value_flags) known += " " + f;
      for (const auto& f : switches) known += " " + f;
      fail(bounded(name), "unknown flag (known:" + known + ")");
    }
  }
}

void CliArgs::fail(const std::string& flag, const std::string& message) const {
  throw InputError(command_, flag, message);
}

bool CliArgs::has(const std::string& flag) const { return values_.count(flag) > 0; }

std::optional<std::string> CliArgs::get(const std::string& flag) const {
  auto range = values_.equal_range(flag);
  if (range.first == range.second) return std::nullopt;
  auto last = range.second;
  --last;
  return last->second;
}

std::string CliArgs::required(const std::string& flag) const {
  auto v = get(flag);
  if (!v) fail(flag, "is required");
  return *v;
}

std::vector<std::string> CliArgs::all(const std::string& flag) const {
  std::vector<std::string> out;
  auto range = values_.equal_range(flag);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

double CliArgs::parse_number(const std::string& flag, const std::string& text) const {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
    fail(flag, "expected a number, got '" + bounded(text) + "'");
  return v;
}

namespace {
std::string shown(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
}  // namespace

double CliArgs::number(const std::string& flag, double lo, double hi) const {
  const std::string text = required(flag);
  const double v = parse_number(flag, text);
  if (v < lo || v > hi) fail(flag, "must be between " + shown(lo) + " and " + shown(hi) + ", got '" + bounded(text) + "'");
  return v;
}

double CliArgs::number_or(const std::string& flag, double fallback, double lo, double hi) const {
  return has(flag) ? number(flag, lo, hi) : fallback;
}

double CliArgs::number(const std::string& flag, double fallback) const {
  auto v = get(flag);
  return v ? parse_number(flag, *v) : fallback;
}

double CliArgs::positive(const std::string& flag) const {
  double v = parse_number(flag, required(flag));
  if (!(v > 0)) fail(flag, "must be > 0, got '" + bounded(*get(flag)) + "'");
  return v;
}

int64_t CliArgs::integer(const std::string& flag, int64_t lo, int64_t hi) const {
  const std::string text = required(flag);
  const double v = parse_number(flag, text);
  if (std::floor(v) != v) fail(flag, "expected an integer, got '" + bounded(text) + "'");
  // Compared as doubles: a value beyond int64 is out of every range, never cast.
  if (v < static_cast<double>(lo) || v > static_cast<double>(hi))
    fail(flag, "must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got '" + bounded(text) + "'");
  return static_cast<int64_t>(v);
}

int64_t CliArgs::integer_or(const std::string& flag, int64_t fallback, int64_t lo, int64_t hi) const {
  return has(flag) ? integer(flag, lo, hi) : fallback;
}

int64_t CliArgs::integer(const std::string& flag) const {
  return integer(flag, -kMaxImplicitInteger, kMaxImplicitInteger);
}

int64_t CliArgs::integer_or(const std::string& flag, int64_t fallback) const {
  return has(flag) ? integer(flag) : fallback;
}

std::string CliArgs::positional_at(size_t i, const std::string& what) const {
  if (i >= positional_.size()) throw InputError(command_, "", "missing argument: " + what);
  return positional_[i];
}

void CliArgs::expect_positional(size_t count, const std::string& what) const {
  if (positional_.size() < count) throw InputError(command_, "", "missing argument: " + what);
  if (positional_.size() > count)
    throw InputError(command_, "", "unexpected argument '" + bounded(positional_[count]) + "'");
}

std::vector<double> CliArgs::number_list(const std::string& flag) const {
  std::vector<double> out;
  std::string text = required(flag);
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(parse_number(flag, text.substr(start, comma - start)));
    start = comma + 1;
  }
  return out;
}

std::map<std::string, double> CliArgs::key_values(const std::string& flag) const {
  std::map<std::string, double> out;
  std::string text = required(flag);
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) fail(flag, "expected NAME=VALUE items, got '" + bounded(item) + "'");
    out[item.substr(0, eq)] = parse_number(flag, item.substr(eq + 1));
    start = comma + 1;
  }
  return out;
}

}  // namespace mhc
