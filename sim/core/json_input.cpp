#include "core/json_input.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace mhc {

namespace {

// File names and JSON pointers in a message: long enough for any real path, bounded for any input.
constexpr std::size_t kMaxShownPath = 240;

std::string format_error(const std::string& file, const std::string& path, const std::string& message) {
  std::string out = file.empty() ? std::string("input") : bounded(file, kMaxShownPath);
  if (!path.empty()) out += ": " + bounded(path, kMaxShownPath);
  return out + ": " + message;
}

// Length of the UTF-8 sequence starting at text[i], or 0 if the bytes there are not UTF-8
// (overlong forms, surrogates and code points beyond U+10FFFF included).
std::size_t utf8_length(const std::string& text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t len;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
  else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
  else return 0;
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// A value for a message: scalars in full (numbers are short, strings bounded), containers by size.
std::string value_text(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::string: return "\"" + bounded(v.get_ref<const std::string&>()) + "\"";
    case nlohmann::json::value_t::array: return "of " + std::to_string(v.size()) + (v.size() == 1 ? " item" : " items");
    case nlohmann::json::value_t::object: return "of " + std::to_string(v.size()) + (v.size() == 1 ? " key" : " keys");
    case nlohmann::json::value_t::number_float: return format_number(v.get<double>());
    case nlohmann::json::value_t::number_integer: return std::to_string(v.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return std::to_string(v.get<uint64_t>());
    case nlohmann::json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    default: return "";
  }
}

}  // namespace

std::string bounded(const std::string& text, std::size_t max) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t len = utf8_length(text, i);
    const unsigned char c = static_cast<unsigned char>(text[i]);
    std::string piece;
    if (len == 0 || (len == 1 && (c < 0x20 || c == 0x7F))) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02X", c);
      piece = esc;
      len = 1;
    } else {
      piece = text.substr(i, len);
    }
    if (out.size() + piece.size() > max) break;
    out += piece;
    i += len;
  }
  if (i < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

bool is_valid_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t len = utf8_length(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

InputError::InputError(std::string file, std::string path, std::string message)
    : std::runtime_error(format_error(file, path, message)),
      file_(std::move(file)),
      path_(std::move(path)),
      message_(std::move(message)) {}

std::string resolve_relative(const std::string& base_dir, const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p(path);
  if (p.is_absolute() || base_dir.empty()) return p.lexically_normal().string();
  return (fs::path(base_dir) / p).lexically_normal().string();
}

std::string json_pointer_join(const std::string& pointer, const std::string& key) {
  std::string escaped;
  for (char c : key) {
    if (c == '~') escaped += "~0";
    else if (c == '/') escaped += "~1";
    else escaped += c;
  }
  return pointer + "/" + escaped;
}

JsonValue::JsonValue(std::shared_ptr<const nlohmann::json> root, const nlohmann::json* value,
                     std::string file, std::string pointer)
    : root_(std::move(root)), value_(value), file_(std::move(file)), pointer_(std::move(pointer)) {}

void JsonValue::fail(const std::string& message) const {
  throw InputError(file_, pointer_.empty() ? "/" : pointer_, message);
}

std::string JsonValue::type_name() const {
  switch (value_->type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

std::string JsonValue::describe() const {
  std::string v = value_text(*value_);
  return v.empty() ? type_name() : type_name() + " " + v;
}

double JsonValue::number() const {
  if (!value_->is_number()) fail("expected a number, got " + describe());
  double v = value_->get<double>();
  if (!std::isfinite(v)) fail("expected a finite number");
  return v;
}

double JsonValue::number(double lo, double hi) const {
  double v = number();
  if (v < lo || v > hi)
    fail("must be between " + format_number(lo) + " and " + format_number(hi) + ", got " + value_text(*value_));
  return v;
}

double JsonValue::in_range(double lo, double hi) const { return number(lo, hi); }

double JsonValue::positive() const {
  double v = number();
  if (!(v > 0)) fail("must be > 0, got " + value_text(*value_));
  return v;
}

double JsonValue::non_negative() const {
  double v = number();
  if (v < 0) fail("must be >= 0, got " + value_text(*value_));
  return v;
}

int64_t JsonValue::integer() const { return integer(INT64_MIN, INT64_MAX); }

int64_t JsonValue::integer(int64_t lo, int64_t hi) const {
  if (!value_->is_number()) fail("expected an integer, got " + describe());
  const std::string range = "must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got ";
  int64_t v;
  if (value_->is_number_float()) {
    const double d = value_->get<double>();
    if (!std::isfinite(d) || std::floor(d) != d) fail("expected an integer, got " + value_text(*value_));
    // Every double beyond +-2^63 is outside int64 (and so outside any range).
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) fail(range + value_text(*value_));
    v = static_cast<int64_t>(d);
  } else if (value_->is_number_unsigned() && value_->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    fail(range + value_text(*value_));
  } else {
    v = value_->get<int64_t>();
  }
  if (v < lo || v > hi) fail(range + std::to_string(v));
  return v;
}

int64_t JsonValue::integer_at_least(int64_t lo) const {
  int64_t v = integer();
  if (v < lo) fail("must be an integer >= " + std::to_string(lo) + ", got " + std::to_string(v));
  return integer(lo, kMaxImplicitInteger);
}

std::string JsonValue::string() const {
  if (!value_->is_string()) fail("expected a string, got " + describe());
  return value_->get<std::string>();
}

std::string JsonValue::one_of(const std::vector<std::string>& choices) const {
  std::string s = string();
  for (const auto& c : choices)
    if (c == s) return s;
  std::string list;
  for (size_t i = 0; i < choices.size(); ++i) list += (i ? ", " : "") + ("\"" + choices[i] + "\"");
  fail("expected one of " + list + ", got \"" + bounded(s) + "\"");
}

bool JsonValue::boolean() const {
  if (!value_->is_boolean()) fail("expected true or false, got " + describe());
  return value_->get<bool>();
}

std::vector<JsonValue> JsonValue::array() const {
  if (!value_->is_array()) fail("expected an array, got " + type_name());
  std::vector<JsonValue> out;
  for (size_t i = 0; i < value_->size(); ++i)
    out.emplace_back(root_, &(*value_)[i], file_, pointer_ + "/" + std::to_string(i));
  return out;
}

std::vector<JsonValue> JsonValue::non_empty_array() const {
  auto out = array();
  if (out.empty()) fail("expected a non-empty array");
  return out;
}

JsonObject JsonValue::object() const {
  if (!value_->is_object()) fail("expected an object, got " + type_name());
  return JsonObject(*this);
}

JsonObject::JsonObject(JsonValue value)
    : value_(std::move(value)), read_(std::make_shared<std::set<std::string>>()) {}

JsonValue JsonObject::required(const std::string& key) {
  auto v = optional(key);
  if (!v) value_.fail("missing required key \"" + key + "\"");
  return *v;
}

std::optional<JsonValue> JsonObject::optional(const std::string& key) {
  read_->insert(key);
  const auto& obj = value_.raw();
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  return JsonValue(value_.root(), &*it, value_.file(), json_pointer_join(value_.pointer(), key));
}

bool JsonObject::has(const std::string& key) const { return value_.raw().contains(key); }

std::vector<std::string> JsonObject::keys() const {
  std::vector<std::string> out;
  for (auto it = value_.raw().begin(); it != value_.raw().end(); ++it) out.push_back(it.key());
  return out;
}

void JsonObject::finish() const {
  for (auto it = value_.raw().begin(); it != value_.raw().end(); ++it) {
    if (read_->count(it.key())) continue;
    std::string accepted;
    for (const auto& k : *read_) accepted += (accepted.empty() ? "" : ", ") + k;
    throw InputError(value_.file(), json_pointer_join(value_.pointer(), it.key()),
                     "unknown key (accepted here: " + accepted + ")");
  }
}

}  // namespace mhc
