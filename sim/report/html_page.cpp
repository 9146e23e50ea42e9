#include "report/html_page.h"

#include "report/build_info.h"
#include "report/html_assets.h"
#include "report/svg_writer.h"

namespace mhc {

std::string figure_html(const std::string& id, const std::string& title, const ChartOut& chart,
                        const std::string& note_html) {
  std::string out = "<figure class=\"chart\" id=\"" + svg::escape(id) + "\" data-series=\"" +
                    std::to_string(chart.series) + "\"><figcaption>" + svg::escape(title) + "</figcaption>" +
                    chart.markup;
  if (!note_html.empty()) out += "<p class=\"note\">" + note_html + "</p>";
  return out + "</figure>\n";
}

std::string html_document(const std::string& title, const std::string& body_html,
                          const std::vector<ProvenanceLine>& provenance) {
  std::string out;
  out.reserve(body_html.size() + 16384);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<meta name=\"generator\" content=\"mhcsim ";
  out += svg::escape(mhcsim_version());
  out += "\"><title>" + svg::escape(title) + "</title><script>";
  out += kPageErrorTrap;
  out += "</script><style>";
  out += kPageCss;
  out += "</style></head>\n<body>\n<main>\n";
  out += body_html;
  out += "</main>\n<footer class=\"provenance\"><dl>";
  for (const auto& [label, html] : provenance) out += "<dt>" + svg::escape(label) + "</dt><dd>" + html + "</dd>";
  out += "<dt>mhcsim</dt><dd>version " + svg::escape(mhcsim_version()) + ", commit <code>" +
         svg::escape(mhcsim_commit()) + "</code></dd>";
  out += "</dl></footer>\n<script>";
  out += kPageScript;
  out += "</script>\n</body></html>\n";
  return out;
}

}  // namespace mhc
