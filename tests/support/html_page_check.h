// Reading mhcsim's HTML pages back in tests, as written or as a browser's --dump-dom gives them: a
// small tokenizer (elements, attributes, text; script and style skipped), and the checks every page
// must pass: each number tied to a JSON pointer (data-json) equals the JSON and is shown rounded
// from it, each JSON string shown (class json-text) is the JSON's, and no other number appears in
// the page's text outside axis ticks, names and the provenance footer.
#pragma once

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mhc::test {

struct HtmlNode {
  std::string tag;
  std::map<std::string, std::string> attrs;
  int parent = -1;
  std::string text;        // all text inside, descendants included
  bool exempt = false;     // inside an element whose numbers are not data (see is_exempt)
  bool has_class(const std::string& c) const {
    auto it = attrs.find("class");
    if (it == attrs.end()) return false;
    std::istringstream in(it->second);
    for (std::string w; in >> w;)
      if (w == c) return true;
    return false;
  }
  std::string attr(const std::string& name) const {
    auto it = attrs.find(name);
    return it == attrs.end() ? "" : it->second;
  }
};

inline std::string decode_entities(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    const std::string e = s.substr(i + 1, semi - i - 1);
    if (e == "amp") out += '&';
    else if (e == "lt") out += '<';
    else if (e == "gt") out += '>';
    else if (e == "quot") out += '"';
    else if (e == "apos") out += '\'';
    else if (e == "nbsp") out += ' ';
    else if (!e.empty() && e[0] == '#') {
      const long cp = e.size() > 1 && (e[1] == 'x' || e[1] == 'X') ? std::strtol(e.c_str() + 2, nullptr, 16)
                                                                      : std::strtol(e.c_str() + 1, nullptr, 10);
      if (cp < 0x80) out += char(cp);
      else out += "?";  // non-ASCII symbols (arrows, x): never digits
    } else {
      out += "&" + e + ";";
    }
    i = semi;
  }
  return out;
}

// Elements whose text may hold digits that are not data: tick and unit labels of axes, names and
// labels (scenario, series, settings), JSON strings shown verbatim, code, citations, the footer.
inline bool is_exempt(const HtmlNode& n) {
  static const std::set<std::string> tags{"script", "style", "footer", "code", "cite", "title", "head"};
  if (tags.count(n.tag) || n.attrs.count("data-json")) return true;
  for (const char* c : {"tick", "unit", "label", "lane-name", "name", "key", "json-text"})
    if (n.has_class(c)) return true;
  return false;
}

struct HtmlDoc {
  std::vector<HtmlNode> nodes;
  std::vector<std::string> bare_text;  // text chunks outside exempt elements
  std::vector<const HtmlNode*> all(const std::string& tag) const {
    std::vector<const HtmlNode*> out;
    for (const auto& n : nodes)
      if (tag.empty() || n.tag == tag) out.push_back(&n);
    return out;
  }
  const HtmlNode* by_id(const std::string& id) const {
    for (const auto& n : nodes)
      if (n.attr("id") == id) return &n;
    return nullptr;
  }
  bool inside(const HtmlNode& n, const HtmlNode& ancestor) const {
    for (int p = n.parent; p >= 0; p = nodes[p].parent)
      if (&nodes[p] == &ancestor) return true;
    return false;
  }
};

inline HtmlDoc parse_html(const std::string& html) {
  static const std::set<std::string> void_tags{"meta", "link", "br", "img", "input", "hr", "wbr", "area", "base",
                                                "col", "embed", "source", "track"};
  HtmlDoc doc;
  std::vector<int> open;
  auto add_text = [&](const std::string& raw) {
    if (raw.empty()) return;
    const std::string t = decode_entities(raw);
    bool exempt = false;
    for (int i : open) {
      doc.nodes[i].text += t;
      exempt = exempt || doc.nodes[i].exempt;
    }
    if (!exempt) doc.bare_text.push_back(t);
  };
  size_t i = 0;
  while (i < html.size()) {
    const size_t lt = html.find('<', i);
    if (lt == std::string::npos) {
      add_text(html.substr(i));
      break;
    }
    add_text(html.substr(i, lt - i));
    if (html.compare(lt, 4, "<!--") == 0) {
      i = html.find("-->", lt) + 3;
      continue;
    }
    if (html.compare(lt, 2, "<!") == 0) {
      i = html.find('>', lt) + 1;
      continue;
    }
    size_t gt = lt + 1;  // the tag's end: the first '>' outside a quoted attribute value
    for (bool quoted = false; gt < html.size() && (quoted || html[gt] != '>'); ++gt)
      if (html[gt] == '"') quoted = !quoted;
    if (gt >= html.size()) break;
    std::string tag = html.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (!tag.empty() && tag[0] == '/') {  // a closing tag: pop to the matching element
      const std::string name = tag.substr(1);
      for (int k = int(open.size()) - 1; k >= 0; --k)
        if (doc.nodes[open[k]].tag == name) {
          open.resize(k);
          break;
        }
      continue;
    }
    const bool self_closing = !tag.empty() && tag.back() == '/';
    if (self_closing) tag.pop_back();
    HtmlNode n;
    static const std::regex name_re(R"(^\s*([A-Za-z][A-Za-z0-9-]*))");
    std::smatch m;
    if (!std::regex_search(tag, m, name_re)) continue;
    n.tag = m[1];
    static const std::regex attr_re(R"re(([A-Za-z_:][A-Za-z0-9_:.-]*)(?:\s*=\s*"([^"]*)")?)re");
    const std::string rest = m.suffix();
    for (auto it = std::sregex_iterator(rest.begin(), rest.end(), attr_re); it != std::sregex_iterator(); ++it)
      n.attrs[(*it)[1]] = decode_entities((*it)[2]);
    n.parent = open.empty() ? -1 : open.back();
    n.exempt = is_exempt(n) || (n.parent >= 0 && doc.nodes[n.parent].exempt);
    doc.nodes.push_back(n);
    const int id = int(doc.nodes.size()) - 1;
    if (n.tag == "script" || n.tag == "style") {  // raw text up to the closing tag
      const size_t end = html.find("</" + n.tag, i);
      i = end == std::string::npos ? html.size() : html.find('>', end) + 1;
      continue;
    }
    if (!self_closing && !void_tags.count(n.tag)) open.push_back(id);
  }
  return doc;
}

// The last number in a text ("r3" -> 3, "+23.25%" -> 23.25, "ZeRO-1" -> 1: a sign right after a
// letter or digit is a hyphen) and its decimals.
inline bool last_number(const std::string& text, double& value, int& decimals) {
  static const std::regex num_re(R"(([+-]?)(\d+(?:\.(\d+))?))");
  bool found = false;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), num_re); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    const size_t at = size_t(m.position(0));
    const bool hyphen = m[1].length() > 0 && at > 0 && std::isalnum(static_cast<unsigned char>(text[at - 1]));
    value = std::stod(m[2]) * (m[1] == "-" && !hyphen ? -1.0 : 1.0);
    decimals = int(m[3].length());
    found = true;
  }
  return found;
}

// Every data-json element against `json`: a number element's data-value is the JSON's value exactly
// and its text shows value x data-scale rounded to the decimals it prints; a json-text element's text
// is the JSON string. Returns one line per mismatch; `checked` counts the elements.
inline std::vector<std::string> check_numbers_against_json(const HtmlDoc& doc, const nlohmann::json& json,
                                                           size_t& checked) {
  std::vector<std::string> errors;
  checked = 0;
  for (const auto& n : doc.nodes) {
    if (!n.attrs.count("data-json")) continue;
    ++checked;
    const std::string ptr = n.attr("data-json");
    const nlohmann::json::json_pointer p(ptr);
    if (!json.contains(p)) {
      errors.push_back(ptr + ": not in the JSON");
      continue;
    }
    const auto& v = json.at(p);
    if (n.has_class("json-text")) {
      if (!v.is_string() || v.get<std::string>() != n.text) errors.push_back(ptr + ": shows '" + n.text + "'");
      continue;
    }
    if (!v.is_number()) {
      errors.push_back(ptr + ": not a number in the JSON");
      continue;
    }
    const double value = v.get<double>();
    if (std::strtod(n.attr("data-value").c_str(), nullptr) != value)
      errors.push_back(ptr + ": data-value " + n.attr("data-value") + " but the JSON has " + v.dump());
    const double scale = n.attrs.count("data-scale") ? std::strtod(n.attr("data-scale").c_str(), nullptr) : 1.0;
    double shown = 0;
    int decimals = 0;
    if (!last_number(n.text, shown, decimals)) {
      errors.push_back(ptr + ": no number in '" + n.text + "'");
      continue;
    }
    const double half_unit = 0.5 * std::pow(10.0, -decimals) * (1 + 1e-9) + 1e-12 * std::abs(shown);
    if (std::abs(shown - value * scale) > half_unit)
      errors.push_back(ptr + ": shows '" + n.text + "' for " + v.dump() + " x " + std::to_string(scale));
  }
  return errors;
}

// Text outside exempt elements that holds a digit: a number on the page with no JSON behind it.
inline std::vector<std::string> bare_numbers(const HtmlDoc& doc) {
  std::vector<std::string> out;
  for (const auto& t : doc.bare_text)
    if (t.find_first_of("0123456789") != std::string::npos) out.push_back(t);
  return out;
}

// The data-json pointers on the page (to check that a figure shows what it must).
inline std::set<std::string> pointers_on_page(const HtmlDoc& doc) {
  std::set<std::string> out;
  for (const auto& n : doc.nodes)
    if (n.attrs.count("data-json")) out.insert(n.attr("data-json"));
  return out;
}

// Distinct series (g.series data-name) inside the figure with this id.
inline std::set<std::string> series_of_figure(const HtmlDoc& doc, const std::string& id) {
  std::set<std::string> out;
  const HtmlNode* fig = doc.by_id(id);
  if (!fig) return out;
  for (const auto& n : doc.nodes)
    if (n.tag == "g" && n.has_class("series") && doc.inside(n, *fig)) out.insert(n.attr("data-name"));
  return out;
}

}  // namespace mhc::test
