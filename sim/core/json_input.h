// Reading user-supplied JSON (scenarios, clusters, models, profiles) with errors that name the file,
// the JSON path (RFC 6901 pointer) and what was expected. Unknown keys are errors, never ignored.
//
// Every document goes through one checked parser: duplicate keys, nesting deeper than kMaxJsonDepth,
// a NUL byte, numbers beyond double's range and invalid UTF-8 are InputErrors, as is every other
// nlohmann exception. Every number goes through one checked reader with the field's range:
// integer(lo, hi) or number(lo, hi). Messages never print an unbounded value (see bounded()).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mhc {

// The deepest mhcsim document nests 5 levels (a profile entry's time_s); 64 leaves room and keeps
// every recursive walk of a document (copy, dump, compare) far from the stack's end.
inline constexpr int kMaxJsonDepth = 64;
// The largest committed file is a 0.6 MB profile; a file over 64 MiB is a mistake, not input.
inline constexpr std::size_t kMaxJsonFileBytes = std::size_t{64} << 20;
// The implicit upper bound of integer_at_least(): every such field fits an int without narrowing.
inline constexpr int64_t kMaxImplicitInteger = 2147483647;

// The one error type for bad input anywhere (files and command flags). what() is the full line:
// "<file>: <json path>: <message>" (path omitted when empty); file and path are bounded().
class InputError : public std::runtime_error {
 public:
  InputError(std::string file, std::string path, std::string message);
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_, path_, message_;
};

// User text made safe for a one-line message: at most `max` characters (longer text is cut and
// says how long it was), control characters and bytes that are not UTF-8 written as \xNN.
std::string bounded(const std::string& text, std::size_t max = 60);
bool is_valid_utf8(const std::string& text);

class JsonObject;

// A JSON value together with where it came from.
class JsonValue {
 public:
  JsonValue(std::shared_ptr<const nlohmann::json> root, const nlohmann::json* value, std::string file,
            std::string pointer);

  const std::string& file() const { return file_; }
  const std::string& pointer() const { return pointer_; }
  const nlohmann::json& raw() const { return *value_; }
  const std::shared_ptr<const nlohmann::json>& root() const { return root_; }
  [[noreturn]] void fail(const std::string& message) const;

  std::string type_name() const;  // "a number", "a string", ... for messages
  std::string describe() const;   // type and a bounded prefix of the value, e.g. `a string "abc..."`
  bool is_string() const { return value_->is_string(); }
  bool is_number() const { return value_->is_number(); }
  bool is_object() const { return value_->is_object(); }
  bool is_array() const { return value_->is_array(); }

  // The checked readers: a whole number (int64, never narrowed) or a finite number, lo <= v <= hi.
  int64_t integer(int64_t lo, int64_t hi) const;
  double number(double lo, double hi) const;

  // Older readers, kept working: prefer integer(lo, hi) / number(lo, hi) with the field's range.
  double number() const;                        // any finite number
  double positive() const;                      // finite, > 0
  double non_negative() const;                  // finite, >= 0
  double in_range(double lo, double hi) const;  // = number(lo, hi)
  int64_t integer() const;                      // any whole number in int64
  int64_t integer_at_least(int64_t lo) const;   // = integer(lo, kMaxImplicitInteger)

  std::string string() const;
  std::string one_of(const std::vector<std::string>& choices) const;
  bool boolean() const;
  std::vector<JsonValue> array() const;
  std::vector<JsonValue> non_empty_array() const;
  JsonObject object() const;

 private:
  std::shared_ptr<const nlohmann::json> root_;  // keeps the document alive
  const nlohmann::json* value_;
  std::string file_, pointer_;
};

// A JSON object that remembers which keys were read; finish() rejects the rest as unknown.
class JsonObject {
 public:
  explicit JsonObject(JsonValue value);

  JsonValue required(const std::string& key);
  std::optional<JsonValue> optional(const std::string& key);
  bool has(const std::string& key) const;
  std::vector<std::string> keys() const;
  const JsonValue& value() const { return value_; }
  [[noreturn]] void fail(const std::string& message) const { value_.fail(message); }

  // Throws InputError for the first key never read, listing the accepted keys.
  void finish() const;

 private:
  JsonValue value_;
  std::shared_ptr<std::set<std::string>> read_;
};

// Parses a file; a missing file, a syntax error or a broken limit becomes an InputError naming the file.
JsonValue load_json_file(const std::string& path);
JsonValue parse_json_text(const std::string& text, const std::string& origin);

// The value of a command-line edit (--set /PTR=VALUE): VALUE parsed as JSON under the same checks, or,
// when it is not JSON at all, VALUE as a string (a bare word). `origin` and `path` name it in errors.
nlohmann::json json_from_flag(const std::string& text, const std::string& origin, const std::string& path);

// Runs a reader over `file`. The readers never let an nlohmann exception out; should one slip
// through, it is still bad input in `file`, never an internal error.
template <class Reader>
auto read_guarded(const std::string& file, Reader&& reader) -> decltype(reader()) {
  try {
    return reader();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, "", "unexpected JSON error: " + bounded(e.what(), 160));
  }
}

// Whether `path` is a regular file, without throwing (an over-long or unreadable path is "no").
bool is_regular_file_path(const std::string& path);

// A file named inside another file is relative to that file's folder (`base_dir`); absolute stays.
std::string resolve_relative(const std::string& base_dir, const std::string& path);

// Appends a key or index to a JSON pointer, escaping per RFC 6901.
std::string json_pointer_join(const std::string& pointer, const std::string& key);

}  // namespace mhc
