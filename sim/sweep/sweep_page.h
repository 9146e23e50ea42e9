// The HTML page of `mhcsim sweep --html`: step time, overhead and peak memory against n, one line per
// configuration of the varied settings, each recommendation marked and the budgets drawn; the
// recommendations with their reasons, the table, and the provenance. Built from sweep_json (the JSON
// --json prints), so every number on it is that JSON's and carries its pointer. A function of the
// request and result only, so any command holding them (a local sweep, a collected one) can write it.
#pragma once

#include <string>

#include "sweep/sweep.h"

namespace mhc {

std::string sweep_page_html(const SweepRequest& request, const SweepResult& result);

}  // namespace mhc
