#include "report/svg_writer.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace mhc::svg {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string coord(double v, int decimals) {
  if (!std::isfinite(v)) throw std::invalid_argument("svg::coord: not a finite number");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void Writer::start_tag(std::string_view tag, const Attrs& attrs) {
  out_ += '<';
  out_ += tag;
  for (const Attr& a : attrs) {
    out_ += ' ';
    out_ += a.name;
    out_ += "=\"";
    out_ += escape(a.value);
    out_ += '"';
  }
}

Writer& Writer::open(std::string_view tag, const Attrs& attrs) {
  start_tag(tag, attrs);
  out_ += '>';
  open_.emplace_back(tag);
  return *this;
}

Writer& Writer::leaf(std::string_view tag, const Attrs& attrs, std::string_view text) {
  start_tag(tag, attrs);
  if (text.empty()) {
    out_ += "/>";
  } else {
    out_ += '>';
    out_ += escape(text);
    out_ += "</";
    out_ += tag;
    out_ += '>';
  }
  return *this;
}

Writer& Writer::text(std::string_view text) {
  out_ += escape(text);
  return *this;
}

Writer& Writer::raw(std::string_view markup) {
  out_ += markup;
  return *this;
}

Writer& Writer::close() {
  if (open_.empty()) throw std::logic_error("svg::Writer: close() without an open element");
  out_ += "</" + open_.back() + ">";
  open_.pop_back();
  return *this;
}

std::string Writer::str() const {
  if (!open_.empty()) throw std::logic_error("svg::Writer: <" + open_.back() + "> is still open");
  return out_;
}

void RectPath::add(double x, double y, double width, double height) {
  if (!(width > 0) || !(height > 0)) return;
  d_ += 'M' + coord(x, decimals_) + ' ' + coord(y, decimals_) + 'h' + coord(width, decimals_) + 'v' +
        coord(height, decimals_) + 'h' + coord(-width, decimals_) + 'z';
  ++count_;
}

}  // namespace mhc::svg
