// The one checked JSON parser every input goes through (see json_input.h): nlohmann's SAX parser
// driving a document builder that refuses duplicate keys and deep nesting, so no nlohmann exception
// and no unbounded recursion ever reaches the readers.
#include <filesystem>
#include <fstream>
#include <system_error>

#include "core/json_input.h"

namespace mhc {

namespace {

using json = nlohmann::json;

// What went wrong, when something did.
struct ParseProblem {
  enum class Kind { none, syntax, rejected } kind = Kind::none;
  std::string pointer;  // where (empty: the position is in `message`)
  std::string message;
};

// Builds the document from SAX events, tracking the JSON pointer of the value being read.
class CheckedBuilder : public json::json_sax_t {
 public:
  CheckedBuilder(json& root, ParseProblem& problem) : root_(root), problem_(problem) {}

  bool null() override { return put(json(nullptr)); }
  bool boolean(bool v) override { return put(json(v)); }
  bool number_integer(number_integer_t v) override { return put(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return put(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return put(json(v)); }
  bool string(string_t& v) override { return put(json(std::move(v))); }
  bool binary(binary_t&) override { return reject(pointer(), "binary values are not JSON"); }

  bool start_object(std::size_t) override { return open(json::object()); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    Frame& f = frames_.back();
    if (f.value->contains(k))
      return reject(json_pointer_join(f.pointer, k), "duplicate key (each key may appear once in an object)");
    f.key = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::json::exception& e) override {
    // nlohmann's what() quotes the last token, which can be the whole input: keep a bounded prefix.
    std::string what = e.what();
    if (auto p = what.find("] "); what.rfind("[json.exception.", 0) == 0 && p != std::string::npos)
      what = what.substr(p + 2);
    problem_.kind = e.id == 406 ? ParseProblem::Kind::rejected : ParseProblem::Kind::syntax;  // 406: number overflow
    problem_.pointer.clear();
    problem_.message = "not valid JSON at byte " + std::to_string(position) + ": " + bounded(what, 160);
    return false;
  }

 private:
  struct Frame {
    json* value;
    std::string pointer;
    std::string key;  // objects: the key whose value comes next
  };

  std::string pointer() const {
    if (frames_.empty()) return "";
    const Frame& f = frames_.back();
    return json_pointer_join(f.pointer, f.value->is_object() ? f.key : std::to_string(f.value->size()));
  }

  bool reject(std::string at, std::string message) {
    problem_.kind = ParseProblem::Kind::rejected;
    problem_.pointer = at.empty() ? "/" : std::move(at);
    problem_.message = std::move(message);
    return false;
  }

  // Places a value where the document expects it; returns where it now lives.
  json* place(json&& v) {
    if (frames_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Frame& f = frames_.back();
    if (f.value->is_object()) return &((*f.value)[f.key] = std::move(v));
    f.value->push_back(std::move(v));
    return &f.value->back();
  }

  bool put(json&& v) {
    place(std::move(v));
    return true;
  }

  bool open(json&& container) {
    std::string at = pointer();
    if (static_cast<int>(frames_.size()) >= kMaxJsonDepth)
      return reject(bounded(at, 80), "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    json* placed = place(std::move(container));
    frames_.push_back({placed, std::move(at), {}});
    return true;
  }

  bool close() {
    frames_.pop_back();
    return true;
  }

  json& root_;
  ParseProblem& problem_;
  std::vector<Frame> frames_;
};

// Parses `text` under the checks; on failure `problem` says why and the document is unusable.
json parse_checked(const std::string& text, ParseProblem& problem) {
  json doc;
  if (auto nul = text.find('\0'); nul != std::string::npos) {
    // nlohmann's lexer takes a NUL byte for the end of input and would ignore the rest.
    problem = {ParseProblem::Kind::rejected, "", "contains a NUL byte at byte " + std::to_string(nul) + " (not a JSON text)"};
    return doc;
  }
  CheckedBuilder builder(doc, problem);
  try {
    json::sax_parse(text, &builder);
  } catch (const json::exception& e) {  // the parser reports through parse_error(); this is a net
    problem = {ParseProblem::Kind::rejected, "", "not valid JSON: " + bounded(e.what(), 160)};
  }
  return doc;
}

}  // namespace

JsonValue parse_json_text(const std::string& text, const std::string& origin) {
  ParseProblem problem;
  auto doc = std::make_shared<json>(parse_checked(text, problem));
  if (problem.kind != ParseProblem::Kind::none) throw InputError(origin, problem.pointer, problem.message);
  const json* root = doc.get();
  return JsonValue(std::move(doc), root, origin, "");
}

json json_from_flag(const std::string& text, const std::string& origin, const std::string& path) {
  if (!is_valid_utf8(text)) throw InputError(origin, path, "the value is not valid UTF-8: " + bounded(text));
  ParseProblem problem;
  json value = parse_checked(text, problem);
  if (problem.kind == ParseProblem::Kind::none) return value;
  if (problem.kind == ParseProblem::Kind::syntax) return json(text);  // a bare word
  throw InputError(origin, path,
                   "the value" + (problem.pointer.empty() ? "" : " at " + problem.pointer) + ": " + problem.message);
}

bool is_regular_file_path(const std::string& path) {
  std::error_code ec;
  return !path.empty() && std::filesystem::is_regular_file(path, ec) && !ec;
}

JsonValue load_json_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.empty() || !fs::exists(path, ec) || ec) throw InputError(path, "", "cannot open file");
  if (fs::is_directory(path, ec)) throw InputError(path, "", "not a file but a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot open file");
  // Read at most one byte past the limit: a pipe or a device may never end.
  std::string text;
  char chunk[65536];
  while (in && text.size() <= kMaxJsonFileBytes) {
    in.read(chunk, sizeof chunk);
    text.append(chunk, static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw InputError(path, "", "reading the file failed");
  if (text.size() > kMaxJsonFileBytes)
    throw InputError(path, "", "larger than the " + std::to_string(kMaxJsonFileBytes >> 20) +
                                   " MiB any mhcsim input may be");
  return parse_json_text(text, path);
}

}  // namespace mhc
