// The HTML page of `mhcsim run --html`: the step's timeline per rank (mHC and baseline), where the
// extra time goes, memory per GPU against capacity, the I/O per token (paper Table 2) and the
// provenance. Every number on it is read from the report JSON (report_json, the one --json prints)
// and carries its JSON pointer; only the timelines' shapes come from the run's timings.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/timeline.h"

namespace mhc {

// One part of "where the extra time goes": its label and the pointer of its seconds in the report.
struct BreakdownPart {
  std::string label;
  std::string pointer;
};
// The parts of /overhead_breakdown, read generically so a new line in the report appears on the page
// without code here: every number whose key ends in "_s" (but delta_step_s), and the members (but
// "total") of every "_s" object whose members are all numbers. Known parts first, in the text
// report's order; others by key.
std::vector<BreakdownPart> breakdown_parts(const nlohmann::json& report);

std::string run_page_html(const nlohmann::json& report, const Timeline& mhc, const Timeline& baseline);

}  // namespace mhc
