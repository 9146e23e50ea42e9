// The per-rank timeline of one step: lanes per rank (compute split by kernel class with the bubble
// between tasks, high-priority stream, one lane per communication class), each kind one path. Panels
// (mHC, baseline) share one time axis, so their lengths compare directly. The lanes sit in a nested
// <svg class="lanes"> whose viewBox is in milliseconds: the page's inline script zooms by changing it.
#pragma once

#include <string>
#include <vector>

#include "report/chart.h"
#include "report/page_number.h"
#include "report/timeline.h"

namespace mhc {

struct TimelinePanel {
  std::string title;                 // "mHC n = 4"
  const Timeline* timeline = nullptr;
  PageNumber step;                   // the report's step time (printed after the title)
  std::vector<PageNumber> bubble;    // per rank, printed on its compute lane
};

// The legend's text for a segment kind ("mhc" -> "mHC kernels"); unknown kinds as they are.
std::string timeline_kind_label(const std::string& kind);

ChartOut timeline_svg(const std::vector<TimelinePanel>& panels);

}  // namespace mhc
