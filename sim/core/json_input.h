// Reading user-supplied JSON (scenarios, clusters, models, profiles) with errors that name the file,
// the JSON path (RFC 6901 pointer) and what was expected. Unknown keys are errors, never ignored.
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

// The one error type for bad input anywhere (files and command flags). what() is the full line:
// "<file>: <json path>: <message>" (path omitted when empty).
class InputError : public std::runtime_error {
 public:
  InputError(std::string file, std::string path, std::string message);
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_, path_, message_;
};

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

  std::string type_name() const;  // "number", "string", ... for messages
  bool is_string() const { return value_->is_string(); }
  bool is_number() const { return value_->is_number(); }
  bool is_object() const { return value_->is_object(); }
  bool is_array() const { return value_->is_array(); }

  double number() const;                      // any finite number
  double positive() const;                    // > 0
  double non_negative() const;                // >= 0
  double in_range(double lo, double hi) const;  // lo <= v <= hi
  int64_t integer() const;                    // a whole number
  int64_t integer_at_least(int64_t lo) const;
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

// Parses a file; a missing file or a syntax error becomes an InputError naming the file.
JsonValue load_json_file(const std::string& path);
JsonValue parse_json_text(const std::string& text, const std::string& origin);

// A file named inside another file is relative to that file's folder (`base_dir`); absolute stays.
std::string resolve_relative(const std::string& base_dir, const std::string& path);

// Appends a key or index to a JSON pointer, escaping per RFC 6901.
std::string json_pointer_join(const std::string& pointer, const std::string& key);

}  // namespace mhc
