#include "report/run_page.h"

#include <algorithm>
#include <map>
#include <set>

#include "report/chart_stacked_bars.h"
#include "report/chart_timeline.h"
#include "report/chart_waterfall.h"
#include "report/html_page.h"
#include "report/page_number.h"

namespace mhc {

namespace {

using nlohmann::json;

std::string esc(const std::string& s) { return svg::escape(s); }
std::string str(const json& j, const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : ""; }

PageNumber num(const json& report, const std::string& pointer, double scale, int decimals, const std::string& unit,
               bool sign = false) {
  return page_number(report, pointer, scale, decimals, unit, sign);
}

std::string card(const std::string& label, const std::string& big_html, const std::string& small_html) {
  return "<div class=\"card\"><small class=\"label\">" + esc(label) + "</small><span class=\"big\">" + big_html + "</span><small>" +
         small_html + "</small></div>";
}

std::string part_label(const std::string& key, const std::string& member) {
  static const std::map<std::string, std::string> labels{
      {"mhc_kernels_s/forward", "mHC kernels, forward"},
      {"mhc_kernels_s/backward", "mHC kernels, backward"},
      {"mhc_kernels_s/recompute", "mHC recomputation"},
      {"other_compute_s", "other compute"},
      {"compute_slowed_by_comm_s", "compute slowed by communication"},
      {"mhc_hidden_under_other_kernels_s", "mHC kernels hidden under other kernels"},
      {"bubble_s", "bubble (waiting on the pipeline and comm)"}};
  const std::string id = member.empty() ? key : key + "/" + member;
  if (auto it = labels.find(id); it != labels.end()) return it->second;
  std::string base = key.substr(0, key.size() - 2);
  std::replace(base.begin(), base.end(), '_', ' ');
  return member.empty() ? base : base + ", " + member;
}

std::string header_html(const json& r) {
  const auto& sc = r["scenario"];
  const std::string s = "/scenario", lay = "/scenario/layout";
  std::string h = "<h1>mhcsim run: " + json_text_span(r, "/scenario/name") + "</h1>";
  h += "<p class=\"sub\"><code>" + esc(str(sc, "file")) + "</code>: " + number_span(num(r, s + "/cluster/gpus", 1, 0, "")) +
       " &times; " + json_text_span(r, "/scenario/cluster/gpu");
  for (const char* k : {"tp", "cp", "pp", "ep", "dp"}) {
    if (k == std::string("cp") && r.at("scenario").at("layout").value("cp", 1) == 1) continue;
    PageNumber n = num(r, lay + "/" + k, 1, 0, "");
    n.prefix = std::string(k == std::string("tp") ? ", " : " ") + char(std::toupper(k[0])) + char(std::toupper(k[1]));
    h += number_span(n);
  }
  PageNumber zero = num(r, lay + "/zero_stage", 1, 0, "");
  zero.prefix = " ZeRO-";
  h += number_span(zero) + ", " + json_text_span(r, "/scenario/schedule") + ", " +
       number_span(num(r, lay + "/micro_batches", 1, 0, "")) + " micro-batches of " +
       number_span(num(r, lay + "/tokens_per_micro_batch", 1, 0, "")) + " tokens. ";
  PageNumber n = num(r, s + "/n", 1, 0, "");
  n.prefix = "n = ";
  h += json_text_span(r, "/scenario/variant") + " " + number_span(n) +
       (sc.value("fused", false) ? ", fused" : ", unfused") + (sc.value("recompute", false) ? ", recompute" : "") +
       (sc.value("high_priority_stream", false) ? ", high-priority stream" : "") + "; baseline: the same with a plain residual.</p>";
  if (r.contains("what_if"))
    for (size_t i = 0; i < r["what_if"].size(); ++i)
      h += "<p class=\"warn\">What-if: " + json_text_span(r, "/what_if/" + std::to_string(i)) + "</p>";
  if (r["profile"].value("kind", "") == "reference")
    h += "<p class=\"warn\">Priced on a reference profile: every op is a roofline lower bound on the profile's ceilings.</p>";

  h += "<div class=\"cards\">";
  h += card("step time, mHC", number_span(num(r, "/step_time_s", 1, 3, " s")),
            "baseline " + number_span(num(r, "/baseline_step_time_s", 1, 3, " s")));
  h += card("overhead of mHC", number_span(num(r, "/overhead_pct", 1, 2, "%", true)), "over the plain residual");
  h += card("mean bubble", number_span(num(r, "/mhc/mean_bubble_fraction", 100, 1, "%")),
            "baseline " + number_span(num(r, "/baseline/mean_bubble_fraction", 100, 1, "%")));
  h += card("peak memory per GPU", number_span(num(r, "/memory/peak_bytes", 1e-9, 1, " GB")),
            "of " + number_span(num(r, "/memory/capacity_bytes", 1e-9, 1, " GB")) + ", baseline " +
                number_span(num(r, "/memory/baseline_peak_bytes", 1e-9, 1, " GB")) +
                (r["memory"].value("fits", true) ? "" : " <span class=\"warn\">does not fit</span>"));
  h += card("MFU (bf16 peak)", number_span(num(r, "/mfu/mhc", 100, 1, "%")),
            "baseline " + number_span(num(r, "/mfu/baseline", 100, 1, "%")));
  h += "</div>\n";
  return h;
}

std::string timeline_section(const json& r, const Timeline& mhc, const Timeline& base) {
  auto panel = [&](const std::string& title, const std::string& variant, const std::string& step_ptr, const Timeline& t) {
    TimelinePanel p{title, &t, num(r, step_ptr, 1, 3, " s"), {}};
    for (size_t i = 0; i < r[variant]["ranks"].size(); ++i)
      p.bubble.push_back(num(r, "/" + variant + "/ranks/" + std::to_string(i) + "/bubble_fraction", 100, 1, "% bubble"));
    return p;
  };
  const auto chart = timeline_svg({panel("mHC", "mhc", "/step_time_s", mhc), panel("baseline", "baseline", "/baseline_step_time_s", base)});
  return "<h2>One step, rank by rank</h2>" +
         figure_html("timeline", "Per-rank timeline of one training step, mHC above the plain-residual baseline, on one time axis",
                     chart,
                     "Each compute task's bar is split in proportion to its priced time per kernel class (the order of "
                     "kernels inside a task is not drawn). Communication lanes show when each class moves data; a "
                     "collective appears on every rank in its group. The bubble is the time no compute runs on the rank.");
}

std::string breakdown_section(const json& r) {
  Waterfall w;
  for (const auto& p : breakdown_parts(r)) w.parts.push_back({p.label, num(r, p.pointer, 1, 4, " s", true)});
  w.total_label = "step time difference";
  w.total = num(r, "/overhead_breakdown/delta_step_s", 1, 4, " s", true);
  w.axis_unit = "s";
  PageNumber rank = num(r, "/overhead_breakdown/rank", 1, 0, "");
  rank.prefix = "r";
  const std::string note =
      "On rank " + number_span(rank) + ", the busiest: there step = busy + bubble, so the parts add up to the step's "
      "difference. Pipeline transfer per micro-batch " +
      number_span(num(r, "/overhead_breakdown/pp_bytes_per_micro_batch/mhc", 1e-6, 1, " MB")) + " with mHC against " +
      number_span(num(r, "/overhead_breakdown/pp_bytes_per_micro_batch/baseline", 1e-6, 1, " MB")) + ".";
  return "<h2>Where the extra time goes</h2>" +
         figure_html("breakdown", "mHC step minus baseline step, part by part", waterfall_svg(w), note);
}

std::string memory_section(const json& r) {
  StackedBars c;
  c.axis_scale = 1e-9;
  c.axis_unit = "GB";
  std::map<std::string, size_t> series_of;
  for (const char* v : {"mhc", "baseline"})
    for (const auto& rank : r[v]["memory"])
      for (const auto& it : rank["items"])
        if (!series_of.count(it["name"])) {
          series_of[it["name"]] = c.series.size();
          c.series.push_back(it["name"]);
        }
  for (size_t i = 0; i < r["mhc"]["memory"].size(); ++i)
    for (const char* v : {"mhc", "baseline"}) {
      const std::string base = std::string("/") + v + "/memory/" + std::to_string(i);
      const json& rank = r[v]["memory"][i];
      BarRow row;
      row.label = std::string(v == std::string("mhc") ? "mHC" : "baseline");
      row.gap_before = v == std::string("mhc") && i > 0;
      for (size_t k = 0; k < rank["items"].size(); ++k)
        row.segments.push_back({series_of[rank["items"][k]["name"]],
                                num(r, base + "/items/" + std::to_string(k) + "/bytes", 1e-9, 2, " GB")});
      row.total = num(r, base + "/total_bytes", 1e-9, 1, " GB");
      PageNumber rk = num(r, base + "/rank", 1, 0, "");
      rk.prefix = "r";
      row.label_number = rk;
      c.rows.push_back(std::move(row));
    }
  c.lines.push_back({"GPU capacity", num(r, "/memory/capacity_bytes", 1e-9, 1, " GB")});
  return "<h2>Memory per GPU</h2>" +
         figure_html("memory", "Memory per pipeline rank, itemised, mHC next to the baseline, against the GPU's capacity",
                     stacked_bars_svg(c), "Items as the report counts them (--json gives each one's formula).");
}

std::string io_section(const json& r) {
  StackedBars c;
  const json& io = r["io_per_token"];
  const double C = io["C"].get<double>();
  c.axis_scale = 1 / C;
  c.axis_unit = "elements per token, in units of C";
  c.series = {"read", "written"};
  // The text report's order (plain residual first, fused mHC last), then any other variant.
  std::vector<std::string> names;
  for (const char* v : {"residual", "hc", "mhc_unfused", "mhc_fused"})
    if (io["variants"].contains(v)) names.push_back(v);
  for (const auto& [name, v] : io["variants"].items())
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  for (const auto& name : names) {
    const std::string base = pointer_join("/io_per_token/variants", name);
    BarRow row;
    row.label = name;
    row.segments.push_back({0, num(r, base + "/read_elems", 1 / C, 2, " C")});
    row.segments.push_back({1, num(r, base + "/write_elems", 1 / C, 2, " C")});
    c.rows.push_back(std::move(row));
  }
  PageNumber cn = num(r, "/io_per_token/C", 1, 0, "");
  cn.prefix = "C = ";
  PageNumber nn = num(r, "/io_per_token/n", 1, 0, "");
  nn.prefix = "n = ";
  return "<h2>Residual-stream memory I/O per token</h2>" +
         figure_html("io", "Elements read and written per token by the residual stream of one sublayer, forward", stacked_bars_svg(c),
                     "As in <cite>paper Table 2</cite>, at " + number_span(nn) + ", " + number_span(cn) +
                         "; the sublayer's own I/O excluded. <code>mhcsim io</code> lists it op by op, in bytes too.");
}

std::vector<ProvenanceLine> provenance(const json& r) {
  const auto& sc = r["scenario"];
  const auto& pr = r["profile"];
  std::map<std::string, int> methods;
  std::set<std::string> sources;
  for (const auto& p : r["priced_ops"]) {
    methods[str(p, "method")]++;
    sources.insert(str(p, "source"));
  }
  std::string pricing = std::to_string(r["priced_ops"].size()) + " distinct ops:";
  for (const auto& [m, k] : methods) pricing += " " + std::to_string(k) + " " + esc(m) + ",";
  pricing.pop_back();
  pricing += ". <details><summary>their sources</summary><ul>";
  for (const auto& s : sources) pricing += "<li>" + esc(s) + "</li>";
  pricing += "</ul></details>";
  return {{"scenario", esc(str(sc, "name")) + ", <code>" + esc(str(sc, "file")) + "</code>"},
          {"cluster", esc(str(sc["cluster"], "name"))},
          {"profile", "<code>" + esc(str(pr, "file")) + "</code> (" + esc(str(pr, "kind")) + ")" +
                          (str(pr, "note").empty() ? "" : ": " + esc(str(pr, "note")))},
          {"pricing", pricing}};
}

}  // namespace

std::vector<BreakdownPart> breakdown_parts(const json& report) {
  static const std::vector<std::string> known{"mhc_kernels_s/forward", "mhc_kernels_s/backward", "mhc_kernels_s/recompute",
                                              "other_compute_s", "compute_slowed_by_comm_s",
                                              "mhc_hidden_under_other_kernels_s", "bubble_s"};
  std::vector<std::pair<std::string, BreakdownPart>> found;  // (key, part)
  const json& br = report.at("overhead_breakdown");
  for (const auto& [key, v] : br.items()) {
    if (key.size() < 3 || key.compare(key.size() - 2, 2, "_s") != 0 || key == "delta_step_s") continue;
    const std::string ptr = pointer_join("/overhead_breakdown", key);
    if (v.is_number()) {
      found.push_back({key, {part_label(key, ""), ptr}});
    } else if (v.is_object() && !v.empty() &&
               std::all_of(v.begin(), v.end(), [](const json& m) { return m.is_number(); })) {
      for (const auto& [member, m] : v.items()) {
        (void)m;
        if (member != "total") found.push_back({key + "/" + member, {part_label(key, member), pointer_join(ptr, member)}});
      }
    }
  }
  auto rank = [&](const std::string& id) {
    auto it = std::find(known.begin(), known.end(), id);
    return it == known.end() ? known.size() : size_t(it - known.begin());
  };
  std::stable_sort(found.begin(), found.end(), [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
  std::vector<BreakdownPart> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

std::string run_page_html(const json& report, const Timeline& mhc, const Timeline& baseline) {
  std::string body = header_html(report);
  body += timeline_section(report, mhc, baseline);
  body += breakdown_section(report);
  body += memory_section(report);
  body += io_section(report);
  return html_document("mhcsim run: " + str(report["scenario"], "name"), body, provenance(report));
}

}  // namespace mhc
