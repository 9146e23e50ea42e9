// The frame every HTML page of mhcsim shares: one self-contained document (inline CSS, inline SVG, one
// small inline script, nothing fetched), a <figure> per chart, and the provenance footer with the
// mhcsim version and git commit.
//
// The script zooms timelines (buttons, or a drag across the lanes) and, after the page has laid out,
// records on each figure how many of its series have a non-empty box (data-drawn), and on <html>
// data-script="ok" once it ran to the end (data-script-error if anything threw), for the browser tests.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "report/chart.h"

namespace mhc {

// One provenance line: label and HTML (already escaped; may hold number spans).
using ProvenanceLine = std::pair<std::string, std::string>;

// <figure class="chart" id=ID data-series=N><figcaption>title</figcaption>chart<p class="note">…</figure>.
std::string figure_html(const std::string& id, const std::string& title, const ChartOut& chart,
                        const std::string& note_html = "");

// The document: <title>, CSS, `body_html` in <main>, the footer (the lines, then mhcsim's version and
// commit), the script.
std::string html_document(const std::string& title, const std::string& body_html,
                          const std::vector<ProvenanceLine>& provenance);

}  // namespace mhc
