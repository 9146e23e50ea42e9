#include "report/chart_timeline.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace mhc {

namespace {

constexpr double kWidth = 1000, kLeft = 165, kRight = 985, kLaneH = 11, kLaneGap = 2, kRankGap = 7;
const std::vector<std::string> kKindOrder{"layer", "mhc", "mhc_recompute", "idle", "tp", "cp", "pp", "ep", "dp", "fsdp"};

size_t kind_rank(const std::string& k) {
  auto it = std::find(kKindOrder.begin(), kKindOrder.end(), k);
  return it == kKindOrder.end() ? kKindOrder.size() : size_t(it - kKindOrder.begin());
}

// A CSS class for a kind: "k-" + the kind with anything but letters, digits, - and _ dropped.
std::string kind_class(const std::string& kind) {
  std::string c = "k-";
  for (char ch : kind)
    if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_') c += ch;
  return c;
}

std::string lane_label(const std::string& stream) {
  if (stream == "compute") return "compute";
  if (stream == "high_priority") return "high-prio";
  return stream;
}

}  // namespace

std::string timeline_kind_label(const std::string& kind) {
  static const std::map<std::string, std::string> labels{
      {"layer", "compute (GEMMs, attention, norms)"}, {"mhc", "mHC / residual-stream kernels"},
      {"mhc_recompute", "mHC recomputation"},          {"idle", "bubble (no compute)"},
      {"tp", "TP collectives"},                        {"pp", "pipeline transfers"},
      {"cp", "CP key/value exchange"},
      {"ep", "EP all-to-all"},                         {"dp", "DP gradient reduction"},
      {"fsdp", "FSDP (ZeRO-3) all-gathers and reduce-scatters"}};
  auto it = labels.find(kind);
  return it == labels.end() ? kind : it->second;
}

ChartOut timeline_svg(const std::vector<TimelinePanel>& panels) {
  double span_s = 0;
  std::set<std::string> kinds;
  for (const auto& p : panels) {
    span_s = std::max(span_s, p.timeline->step_s);
    for (const auto& lane : p.timeline->lanes)
      for (const auto& seg : lane.segments) kinds.insert(seg.kind);
  }
  const double span_ms = std::max(span_s * 1e3, 1e-6);
  // Times are written to a millionth of the span: a thousandth of a pixel across the whole step, a
  // tenth at the script's deepest zoom (1e-4 of the step); finer digits would only add bytes.
  const int decimals = std::clamp(int(std::ceil(-std::log10(span_ms * 1e-6))), 0, 9);
  const svg::LinearScale x{0, span_ms / 1e3, kLeft, kRight};  // the axis is in seconds
  std::vector<double> ticks;
  for (double v : svg::nice_ticks(0, span_ms / 1e3, 10))
    if (v <= span_ms / 1e3 * (1 + 1e-9)) ticks.push_back(v);

  std::string out;
  for (size_t pi = 0; pi < panels.size(); ++pi) {
    const TimelinePanel& p = panels[pi];
    const Timeline& t = *p.timeline;
    // Lane rows: y of every lane, a larger gap between ranks.
    std::vector<double> lane_y;
    double y = 0;
    for (size_t i = 0; i < t.lanes.size(); ++i) {
      if (i > 0) y += t.lanes[i].rank != t.lanes[i - 1].rank ? kRankGap : kLaneGap;
      lane_y.push_back(y);
      y += kLaneH;
    }
    const double lanes_h = std::max(y, 1.0), axis_y = lanes_h + 4, height = axis_y + 34;

    svg::Writer w;
    w.open("h3", {{"class", "panel-title"}});
    w.text(p.title + ": step ").raw(number_span(p.step)).close();
    w.open("svg", {{"class", "chart-svg timeline"}, {"viewBox", "0 0 " + svg::coord(kWidth) + " " + svg::coord(height)},
                   {"width", "100%"}, {"role", "img"}, {"data-span-ms", svg::exact(span_ms)},
                   {"data-left", svg::coord(kLeft)}, {"data-right", svg::coord(kRight)}});
    // Labels per lane; the compute lane also carries the rank, its bubble (from the report) and the
    // idle time drawn (data-idle-s, from the timings) so the two can be compared.
    for (size_t i = 0; i < t.lanes.size(); ++i) {
      const TimelineLane& lane = t.lanes[i];
      const double ty = lane_y[i] + kLaneH - 2;
      const bool first_of_rank = i == 0 || t.lanes[i - 1].rank != lane.rank;
      svg::Attrs g{{"class", "lane"}, {"data-rank", lane.rank}, {"data-stream", lane.stream}};
      if (lane.stream == "compute") g.emplace_back("data-idle-s", svg::exact(t.idle_s.at(lane.rank)));
      w.open("g", g);
      if (first_of_rank && size_t(lane.rank) < p.bubble.size()) {
        PageNumber r = p.bubble[lane.rank];
        // The rank's own number, from the same row of the report as its bubble.
        r.pointer = r.pointer.substr(0, r.pointer.rfind('/')) + "/rank";
        r.value = lane.rank;
        r.scale = 1;
        r.decimals = 0;
        r.unit = "";
        r.sign = false;
        r.prefix = "r";
        svg::Attrs a{{"class", "rank"}, {"x", 4}, {"y", ty}};
        for (auto& na : number_attrs(r)) a.push_back(na);
        w.leaf("text", a, shown(r));
      }
      w.leaf("text", {{"class", "lane-name"}, {"x", 24}, {"y", ty}}, lane_label(lane.stream));
      if (lane.stream == "compute" && size_t(lane.rank) < p.bubble.size()) {
        svg::Attrs a{{"class", "lane-value"}, {"x", kLeft - 6}, {"y", ty}, {"text-anchor", "end"}};
        for (auto& na : number_attrs(p.bubble[lane.rank])) a.push_back(na);
        w.leaf("text", a, shown(p.bubble[lane.rank]));
      }
      w.close();
    }
    // The lanes: x in milliseconds; the script zooms by moving this viewBox.
    w.open("svg", {{"class", "lanes"}, {"x", kLeft}, {"y", 0}, {"width", kRight - kLeft}, {"height", lanes_h},
                   {"viewBox", "0 0 " + svg::coord(span_ms, decimals) + " " + svg::coord(lanes_h)},
                   {"preserveAspectRatio", "none"}});
    w.leaf("rect", {{"class", "lanes-bg"}, {"x", 0}, {"y", 0}, {"width", svg::coord(span_ms, decimals)}, {"height", lanes_h}});
    std::vector<std::string> present(kinds.begin(), kinds.end());
    std::stable_sort(present.begin(), present.end(), [](const auto& a, const auto& b) { return kind_rank(a) < kind_rank(b); });
    for (const std::string& kind : present) {
      svg::RectPath path(decimals);
      for (size_t i = 0; i < t.lanes.size(); ++i)
        for (const auto& seg : t.lanes[i].segments)
          if (seg.kind == kind) path.add(seg.start * 1e3, lane_y[i], (seg.end - seg.start) * 1e3, kLaneH);
      if (path.empty()) continue;
      w.open("g", {{"class", "series"}, {"data-name", timeline_kind_label(kind)}});
      w.leaf("path", {{"class", "seg " + kind_class(kind)}, {"d", path.d()}});
      w.close();
    }
    w.close();  // lanes
    w.open("g", {{"class", "time-axis"}});
    x_axis(w, x, ticks, axis_y, axis_y, "s");
    w.close();
    w.close();  // svg
    out += w.str();
  }

  std::vector<LegendKey> keys;
  std::vector<std::string> ordered(kinds.begin(), kinds.end());
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return kind_rank(a) < kind_rank(b); });
  for (const auto& k : ordered) keys.push_back({timeline_kind_label(k), kind_class(k)});
  const std::string controls =
      "<div class=\"zoom\" role=\"group\" aria-label=\"zoom the timeline\">"
      "<button type=\"button\" data-zoom=\"in\">zoom in</button><button type=\"button\" data-zoom=\"out\">zoom out</button>"
      "<button type=\"button\" data-zoom=\"left\">&#8592;</button><button type=\"button\" data-zoom=\"right\">&#8594;</button>"
      "<button type=\"button\" data-zoom=\"reset\">whole step</button>"
      "<span class=\"zoom-hint\">or drag across the lanes to zoom into a span</span></div>";
  return {controls + out + legend_html(keys), keys.size()};
}

}  // namespace mhc
