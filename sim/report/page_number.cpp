#include "report/page_number.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace mhc {

PageNumber page_number(const nlohmann::json& doc, const std::string& pointer, double scale, int decimals,
                       std::string unit, bool sign) {
  const nlohmann::json::json_pointer ptr(pointer);
  if (!doc.contains(ptr)) throw std::out_of_range("page_number: the JSON has no " + pointer);
  const auto& v = doc.at(ptr);
  if (!v.is_number()) throw std::domain_error("page_number: " + pointer + " is not a number");
  return PageNumber{pointer, v.get<double>(), scale, decimals, std::move(unit), sign, ""};
}

std::string shown(const PageNumber& n) {
  char buf[64];
  const double v = n.value * n.scale;
  std::snprintf(buf, sizeof buf, n.sign ? "%+.*f" : "%.*f", n.decimals, v);
  std::string s = buf;
  // A negative that rounds to zero is shown as zero ("+0.00", not "-0.00").
  if (s[0] == '-' && s.find_first_of("123456789") == std::string::npos) {
    if (n.sign) s[0] = '+';
    else s.erase(0, 1);
  }
  std::string out = n.prefix;
  out += s;
  out += n.unit;
  return out;
}

svg::Attrs number_attrs(const PageNumber& n) {
  svg::Attrs a{{"data-json", n.pointer}, {"data-value", svg::exact(n.value)}};
  if (n.scale != 1) a.emplace_back("data-scale", svg::exact(n.scale));
  return a;
}

std::string number_span(const PageNumber& n, const std::string& cls) {
  svg::Writer w;
  svg::Attrs a = number_attrs(n);
  if (!cls.empty()) a.emplace(a.begin(), "class", cls);
  w.leaf("span", a, shown(n));
  return w.str();
}

std::string json_text_span(const nlohmann::json& doc, const std::string& pointer) {
  const auto& v = doc.at(nlohmann::json::json_pointer(pointer));
  svg::Writer w;
  w.open("span", {{"class", "json-text"}, {"data-json", pointer}}).text(v.get<std::string>()).close();
  return w.str();
}

std::string pointer_join(const std::string& base, const std::string& key) {
  std::string out = base + "/";
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string pointer_join(const std::string& base, size_t index) { return base + "/" + std::to_string(index); }

}  // namespace mhc
