// Command-line flags for the mhcsim sub-commands: "--name value" or "--name=value", and bare switches.
// Every mistake (unknown flag, missing value, bad number) is an InputError naming the flag.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mhc {

class CliArgs {
 public:
  // `command` names the sub-command in messages ("mhcsim schedule"). `value_flags` take a value,
  // `switches` do not. Positional arguments are kept in order.
  CliArgs(std::string command, const std::vector<std::string>& args,
          const std::set<std::string>& value_flags, const std::set<std::string>& switches);

  bool has(const std::string& flag) const;
  bool flag(const std::string& name) const { return has(name); }
  std::optional<std::string> get(const std::string& flag) const;
  std::string required(const std::string& flag) const;
  std::vector<std::string> all(const std::string& flag) const;  // repeatable flags (--set)
  // The checked readers: the flag's value as a finite number or a whole number in [lo, hi].
  double number(const std::string& flag, double lo, double hi) const;          // required
  double number_or(const std::string& flag, double fallback, double lo, double hi) const;
  int64_t integer(const std::string& flag, int64_t lo, int64_t hi) const;      // required
  int64_t integer_or(const std::string& flag, int64_t fallback, int64_t lo, int64_t hi) const;
  // Older readers, kept working: prefer the ranged ones above. integer() is bounded to
  // +-kMaxImplicitInteger (core/json_input.h), so it always fits an int.
  double number(const std::string& flag, double fallback) const;
  double positive(const std::string& flag) const;
  int64_t integer(const std::string& flag) const;
  int64_t integer_or(const std::string& flag, int64_t fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }
  std::string positional_at(size_t i, const std::string& what) const;
  void expect_positional(size_t count, const std::string& what) const;
  [[noreturn]] void fail(const std::string& flag, const std::string& message) const;

  // Parses "a,b,c" or "F=1,B=2" lists (each number finite).
  std::vector<double> number_list(const std::string& flag) const;
  std::map<std::string, double> key_values(const std::string& flag) const;

 private:
  double parse_number(const std::string& flag, const std::string& text) const;
  std::string command_;
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace mhc
