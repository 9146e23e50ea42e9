// The project's small SVG/HTML writer: nested elements with escaped attributes and text, compact
// coordinates, and path data for many rectangles in one element (a timeline's thousands of tasks stay
// a few hundred kilobytes). It knows nothing of charts; chart_*.h draw with it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mhc::svg {

// Text and attribute values with &, <, >, " and ' replaced by entities.
std::string escape(std::string_view text);

// A coordinate or length: fixed with `decimals` digits, trailing zeros and a trailing point dropped,
// "-0" written as "0" ("12.5", "3", "0.125").
std::string coord(double v, int decimals = 2);

// A number exactly as it is held (17 significant digits), for data-value attributes: reading it back
// gives the same double.
std::string exact(double v);

struct Attr {
  std::string name, value;
  Attr(std::string n, std::string v) : name(std::move(n)), value(std::move(v)) {}
  Attr(std::string n, const char* v) : name(std::move(n)), value(v) {}
  Attr(std::string n, double v) : name(std::move(n)), value(coord(v)) {}
  Attr(std::string n, int v) : name(std::move(n)), value(std::to_string(v)) {}
};
using Attrs = std::vector<Attr>;

// Elements in document order. open()/close() nest; leaf() writes an element with only text inside
// (or none: "<rect .../>"); raw() inserts markup made by another writer. str() refuses an unbalanced
// document (std::logic_error), so a chart can never leave an element open.
class Writer {
 public:
  Writer& open(std::string_view tag, const Attrs& attrs = {});
  Writer& leaf(std::string_view tag, const Attrs& attrs = {}, std::string_view text = {});
  Writer& text(std::string_view text);  // escaped
  Writer& raw(std::string_view markup);
  Writer& close();  // the innermost open element
  size_t depth() const { return open_.size(); }
  std::string str() const;

 private:
  void start_tag(std::string_view tag, const Attrs& attrs);
  std::string out_;
  std::vector<std::string> open_;
};

// Path data ("d") for axis-aligned rectangles: "M x y h w v h h -w z" per rectangle, in `decimals`.
class RectPath {
 public:
  explicit RectPath(int decimals = 2) : decimals_(decimals) {}
  void add(double x, double y, double width, double height);
  bool empty() const { return d_.empty(); }
  size_t count() const { return count_; }
  const std::string& d() const { return d_; }

 private:
  int decimals_;
  size_t count_ = 0;
  std::string d_;
};

}  // namespace mhc::svg
