// A shipped scenario copied into a folder as four files (scenario.json, model.json, cluster.json,
// profile.json) whose references point at each other, so the crash-case tests and the input fuzzer
// can edit any of them: as JSON, or as text (what JSON cannot hold: 1e400, duplicate keys, a NUL
// byte, invalid UTF-8, nesting 50,000 deep).
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mhc::fuzz {

enum class File { scenario, model, cluster, profile };
inline const char* file_name(File f) {
  switch (f) {
    case File::scenario: return "scenario.json";
    case File::model: return "model.json";
    case File::cluster: return "cluster.json";
    default: return "profile.json";
  }
}

// One edit of a file's text, applied after the JSON is written out.
struct TextEdit {
  enum class Kind { set_raw, replace, append, truncate } kind = Kind::append;
  File file = File::scenario;
  std::string a, b;  // set_raw: pointer, raw JSON text; replace: from, to (first match); append: text
  size_t at = 0;     // truncate: keep this many bytes
};

class InputWorkspace {
 public:
  // `scenario`: a shipped scenario (path relative to `source_dir`, e.g. "scenarios/small.json").
  InputWorkspace(const std::string& source_dir, const std::string& scenario, std::filesystem::path dir)
      : dir_(std::move(dir)) {
    namespace fs = std::filesystem;
    const fs::path s = fs::path(source_dir) / scenario;
    docs_[File::scenario] = read(s);
    const fs::path model = s.parent_path() / docs_[File::scenario]["model"].get<std::string>();
    const fs::path cluster = s.parent_path() / docs_[File::scenario]["cluster"].get<std::string>();
    docs_[File::model] = read(model);
    docs_[File::cluster] = read(cluster);
    // The cluster's profile: one file, or a list (the measured profile, then published parts). The
    // first is copied in to be mutated; published parts stay where they are, by absolute path.
    nlohmann::json& profiles = docs_[File::cluster]["gpu"]["profile"];
    const nlohmann::json listed = profiles.is_array() ? profiles : nlohmann::json::array({profiles});
    docs_[File::profile] = read(cluster.parent_path() / listed.at(0).get<std::string>());
    docs_[File::scenario]["model"] = file_name(File::model);
    docs_[File::scenario]["cluster"] = file_name(File::cluster);
    nlohmann::json copied = nlohmann::json::array({file_name(File::profile)});
    for (size_t i = 1; i < listed.size(); ++i)
      copied.push_back(fs::absolute(cluster.parent_path() / listed[i].get<std::string>()).lexically_normal().string());
    profiles = copied.size() == 1 ? copied[0] : copied;
    pristine_ = docs_;
    fs::create_directories(dir_);
  }

  nlohmann::json& doc(File f) { return docs_.at(f); }
  std::string path(File f) const { return (dir_ / file_name(f)).string(); }
  const std::filesystem::path& dir() const { return dir_; }
  void edit(TextEdit e) { edits_.push_back(std::move(e)); }

  // Back to the files as copied (docs and edits).
  void reset() {
    docs_ = pristine_;
    edits_.clear();
  }

  // Writes the four files; `skip_profile`: leave profile.json as the last write left it.
  void write(bool skip_profile = false) {
    for (auto& [file, doc] : docs_) {
      if (skip_profile && file == File::profile) continue;
      std::string text = doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
      int placeholder = 0;
      for (const TextEdit& e : edits_) {
        if (e.file != file) continue;
        switch (e.kind) {
          case TextEdit::Kind::set_raw: {
            // The pointer was set to a unique placeholder string; swap its quoted form for the raw text.
            const std::string mark = "\"@@raw" + std::to_string(placeholder++) + "@@\"";
            if (auto pos = text.find(mark); pos != std::string::npos) text.replace(pos, mark.size(), e.b);
            break;
          }
          case TextEdit::Kind::replace:
            if (auto pos = text.find(e.a); pos != std::string::npos) text.replace(pos, e.a.size(), e.b);
            break;
          case TextEdit::Kind::append: text += e.a; break;
          case TextEdit::Kind::truncate: text.resize(std::min(text.size(), e.at)); break;
        }
      }
      std::ofstream(dir_ / file_name(file), std::ios::binary | std::ios::trunc) << text;
    }
  }

  // Sets `pointer` in `file` to raw JSON text (any bytes), keeping the document otherwise intact.
  // Returns false if the pointer's parent does not exist.
  bool set_raw(File file, const std::string& pointer, const std::string& raw) {
    int index = 0;
    for (const TextEdit& e : edits_)
      if (e.file == file && e.kind == TextEdit::Kind::set_raw) ++index;
    try {
      nlohmann::json::json_pointer ptr(pointer);
      nlohmann::json& d = doc(file);
      if (!d.contains(ptr.parent_pointer())) return false;
      nlohmann::json& parent = d[ptr.parent_pointer()];
      if (!parent.is_object() && !(parent.is_array() && d.contains(ptr))) return false;
      d[ptr] = "@@raw" + std::to_string(index) + "@@";
    } catch (const nlohmann::json::exception&) {
      return false;
    }
    edits_.push_back({TextEdit::Kind::set_raw, file, pointer, raw});
    return true;
  }

 private:
  static nlohmann::json read(const std::filesystem::path& p) {
    std::ifstream in(p);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    return nlohmann::json::parse(in);
  }

  std::filesystem::path dir_;
  std::map<File, nlohmann::json> docs_, pristine_;
  std::vector<TextEdit> edits_;
};

// "[[[...]]]" nested `depth` deep.
inline std::string deep_array(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace mhc::fuzz
