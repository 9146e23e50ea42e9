#include "core/json_input.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mhc {

namespace {
std::string format_error(const std::string& file, const std::string& path, const std::string& message) {
  std::string out = file.empty() ? std::string("input") : file;
  if (!path.empty()) out += ": " + path;
  return out + ": " + message;
}

std::string show(const nlohmann::json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}
}  // namespace

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

double JsonValue::number() const {
  if (!value_->is_number()) fail("expected a number, got " + type_name() + " " + show(*value_));
  double v = value_->get<double>();
  if (!std::isfinite(v)) fail("expected a finite number");
  return v;
}

double JsonValue::positive() const {
  double v = number();
  if (!(v > 0)) fail("must be > 0, got " + show(*value_));
  return v;
}

double JsonValue::non_negative() const {
  double v = number();
  if (v < 0) fail("must be >= 0, got " + show(*value_));
  return v;
}

double JsonValue::in_range(double lo, double hi) const {
  double v = number();
  if (v < lo || v > hi) {
    std::ostringstream os;
    os << "must be between " << lo << " and " << hi << ", got " << show(*value_);
    fail(os.str());
  }
  return v;
}

int64_t JsonValue::integer() const {
  if (!value_->is_number()) fail("expected an integer, got " + type_name() + " " + show(*value_));
  if (value_->is_number_float()) {
    double d = value_->get<double>();
    if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9.0e15)
      fail("expected an integer, got " + show(*value_));
    return static_cast<int64_t>(d);
  }
  if (value_->is_number_unsigned() && value_->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    fail("integer out of range: " + show(*value_));
  return value_->get<int64_t>();
}

int64_t JsonValue::integer_at_least(int64_t lo) const {
  int64_t v = integer();
  if (v < lo) fail("must be an integer >= " + std::to_string(lo) + ", got " + std::to_string(v));
  return v;
}

std::string JsonValue::string() const {
  if (!value_->is_string()) fail("expected a string, got " + type_name() + " " + show(*value_));
  return value_->get<std::string>();
}

std::string JsonValue::one_of(const std::vector<std::string>& choices) const {
  std::string s = string();
  for (const auto& c : choices)
    if (c == s) return s;
  std::string list;
  for (size_t i = 0; i < choices.size(); ++i) list += (i ? ", " : "") + ("\"" + choices[i] + "\"");
  fail("expected one of " + list + ", got \"" + s + "\"");
}

bool JsonValue::boolean() const {
  if (!value_->is_boolean()) fail("expected true or false, got " + type_name() + " " + show(*value_));
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

JsonValue parse_json_text(const std::string& text, const std::string& origin) {
  auto doc = std::make_shared<nlohmann::json>();
  try {
    *doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(origin, "", std::string("not valid JSON: ") + e.what());
  }
  const nlohmann::json* root = doc.get();
  return JsonValue(std::move(doc), root, origin, "");
}

JsonValue load_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_json_text(text.str(), path);
}

}  // namespace mhc
