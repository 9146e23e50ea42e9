// A number shown on an HTML page, tied to where it comes from: the JSON pointer into the document the
// page was built from (the report or sweep JSON, the same one --json prints) and its exact value.
// The element carries data-json, data-value and data-scale, so a test (or a reader) can check every
// number on the page against the JSON.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "report/svg_writer.h"

namespace mhc {

struct PageNumber {
  std::string pointer;  // RFC 6901 pointer into the page's JSON
  double value = 0;     // the JSON's value, unchanged
  double scale = 1;     // shown = value x scale (1e-9 for GB, 100 for a fraction in %)
  int decimals = 2;
  std::string unit;     // appended: " s", " GB", "%"
  bool sign = false;    // "+" before positive values
  std::string prefix;   // before the number ("r" for a rank)
};

// The number at `pointer` in `doc` (std::out_of_range naming the pointer when absent, std::domain_error
// when it is not a number).
PageNumber page_number(const nlohmann::json& doc, const std::string& pointer, double scale, int decimals,
                       std::string unit, bool sign = false);

// "2.765 s", "+23.25%", "r3".
std::string shown(const PageNumber& n);
// data-json, data-value (exact) and, when not 1, data-scale.
svg::Attrs number_attrs(const PageNumber& n);
// <span data-json=...>shown</span> (class `cls` when given).
std::string number_span(const PageNumber& n, const std::string& cls = "");

// A string of the JSON shown verbatim, tied to its pointer like a number:
// <span class="json-text" data-json=...>text</span> (std::out_of_range / type_error when absent or not a string).
std::string json_text_span(const nlohmann::json& doc, const std::string& pointer);

// "/a/b" + "c" -> "/a/b/c", escaping ~ and / in the key (RFC 6901).
std::string pointer_join(const std::string& base, const std::string& key);
std::string pointer_join(const std::string& base, size_t index);

}  // namespace mhc
