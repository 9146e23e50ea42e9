#include "sweep/sweep_page.h"

#include <set>

#include "core/json_input.h"
#include "report/chart_lines.h"
#include "report/html_page.h"
#include "report/page_number.h"
#include "run/run.h"

namespace mhc {

namespace {

using nlohmann::json;

std::string esc(const std::string& s) { return svg::escape(s); }

std::string json_text(const json& doc, const std::string& pointer) { return json_text_span(doc, pointer); }

// One valid configuration as the JSON holds it: where its keys are (the top level when nothing is
// varied) and its label.
struct Config {
  std::string base;  // "" or "/configurations/3"
  std::string label;
  bool best = false;
};

std::vector<Config> valid_configs(const json& j) {
  std::vector<Config> out;
  if (!j.contains("configurations")) return {{"", "the scenario as given", true}};
  const json& best = j["best_configuration"];
  for (size_t i = 0; i < j["configurations"].size(); ++i) {
    const json& c = j["configurations"][i];
    if (c.contains("invalid")) continue;
    std::string label;
    for (const auto& s : c["settings"]) {
      if (!label.empty()) label += ' ';
      label += s.get<std::string>();
    }
    out.push_back({"/configurations/" + std::to_string(i), label, best.is_number() && best.get<size_t>() == i});
  }
  return out;
}

LineChart chart_of(const json& j, const std::vector<Config>& configs, const std::string& key, double scale, int decimals,
                   const std::string& unit, bool sign) {
  LineChart c;
  c.axis_scale = scale;
  c.x_unit = "n (expansion rate)";
  for (const Config& cfg : configs) {
    LineSeries s;
    s.name = cfg.label + (cfg.best && j.contains("configurations") ? " (fastest)" : "");
    s.emphasised = cfg.best && j.contains("configurations");
    const json& points = j.at(json::json_pointer(cfg.base + "/points"));
    const json& rec = j.at(json::json_pointer(cfg.base + "/recommended_n"));
    for (size_t k = 0; k < points.size(); ++k) {
      if (points[k].contains("missing")) continue;  // no numbers: the line joins its neighbours, the table says why
      const std::string p = cfg.base + "/points/" + std::to_string(k);
      if (rec.is_number() && points[k]["n"] == rec) s.marked = s.points.size();
      s.points.push_back({page_number(j, p + "/n", 1, 0, ""), page_number(j, p + "/" + key, scale, decimals, unit, sign)});
    }
    if (s.marked) {
      PageNumber m = page_number(j, cfg.base + "/recommended_n", 1, 0, "");
      m.prefix = "recommended n = ";
      s.mark_label = m;
    }
    c.series.push_back(std::move(s));
  }
  return c;
}

std::string header(const json& j, const SweepRequest& req) {
  std::string h = "<h1>mhcsim sweep: " + json_text(j, "/scenario") + "</h1><p class=\"sub\">";
  for (size_t i = 0; i < req.overrides.size(); ++i) h += "--set " + json_text(j, "/overrides/" + std::to_string(i)) + " ";
  for (const auto& a : req.vary) {
    h += "--vary <code class=\"name\">" + esc(a.pointer) + "=";
    for (size_t i = 0; i < a.values.size(); ++i) {
      if (i) h += ",";
      h += esc(a.values[i]);
    }
    h += "</code> ";
  }
  h += "<br>Budgets: overhead ";
  h += j["max_overhead_pct"].is_number() ? number_span(page_number(j, "/max_overhead_pct", 1, 2, "%")) : std::string("none");
  h += ", memory per GPU ";
  h += j["max_memory_bytes"].is_number() ? number_span(page_number(j, "/max_memory_bytes", 1e-9, 1, " GB"))
                                         : std::string("the GPU's capacity");
  h += ".</p>";
  return h;
}

std::string recommendations(const json& j, const std::vector<Config>& configs) {
  std::string h = "<h2>Recommendation</h2><ul>";
  for (const Config& c : configs) {
    const json& rec = j.at(json::json_pointer(c.base + "/recommended_n"));
    std::string n = "none";
    if (rec.is_number()) {
      PageNumber p = page_number(j, c.base + "/recommended_n", 1, 0, "");
      p.prefix = "n = ";
      n = number_span(p);
    }
    h += "<li><b class=\"name\">" + esc(c.label) + "</b>: " + n + " (" + json_text(j, c.base + "/reason") + ")</li>";
  }
  h += "</ul>";
  if (j.contains("configurations")) {
    h += "<p>Fastest: " + json_text(j, "/best_reason") + "</p>";
    for (size_t i = 0; i < j["configurations"].size(); ++i)
      if (j["configurations"][i].contains("invalid"))
        h += "<p class=\"note\">Not a valid layout: " + json_text(j, "/configurations/" + std::to_string(i) + "/invalid") + "</p>";
  }
  return h;
}

std::string table(const json& j, const std::vector<Config>& configs) {
  std::string h = "<h2>Every point</h2><table><tr><th>configuration</th><th>n</th><th>step</th><th>baseline</th>"
                  "<th>overhead</th><th>peak memory</th><th>fits</th><th>MFU</th></tr>";
  for (const Config& c : configs) {
    const json& points = j.at(json::json_pointer(c.base + "/points"));
    for (size_t k = 0; k < points.size(); ++k) {
      const std::string p = c.base + "/points/" + std::to_string(k);
      h += "<tr><td class=\"name\">" + esc(c.label) + "</td><td>" + number_span(page_number(j, p + "/n", 1, 0, "")) + "</td>";
      if (points[k].contains("missing")) {
        h += "<td colspan=\"6\" class=\"warn\">" + json_text(j, p + "/missing") + "</td></tr>";
        continue;
      }
      h += "<td>" + number_span(page_number(j, p + "/step_time_s", 1, 4, " s")) + "</td><td>" +
           number_span(page_number(j, p + "/baseline_step_time_s", 1, 4, " s")) + "</td><td>" +
           number_span(page_number(j, p + "/overhead_pct", 1, 2, "%", true)) + "</td><td>" +
           number_span(page_number(j, p + "/peak_memory_bytes", 1e-9, 1, " GB")) + "</td><td>" +
           (points[k]["fits_memory"].get<bool>() ? "yes" : "no") + "</td><td>" +
           number_span(page_number(j, p + "/mfu", 100, 1, "%")) + "</td></tr>";
    }
  }
  return h + "</table>";
}

// The profiles that priced the sweep: each valid configuration's scenario, loaded as its points were.
std::string profiles(const SweepRequest& req, const SweepResult& r) {
  std::set<std::string> seen;
  std::string out;
  for (const auto& c : r.configs) {
    if (!c.invalid.empty()) continue;
    auto overrides = req.overrides;
    overrides.insert(overrides.end(), c.settings.begin(), c.settings.end());
    try {
      const Scenario s = load_scenario(req.scenario, overrides);
      const std::string line = "<code>" + esc(s.profile) + "</code> for " + esc(s.cluster.name);
      if (seen.insert(line).second) out += (out.empty() ? "" : "; ") + line;
    } catch (const InputError& e) {
      out += (out.empty() ? "" : "; ") + std::string("the scenario can no longer be read: ") + esc(e.what());
    }
  }
  return out;
}

}  // namespace

std::string sweep_page_html(const SweepRequest& req, const SweepResult& r) {
  const json j = sweep_json(req, r);
  const auto configs = valid_configs(j);
  std::string body = header(j, req) + recommendations(j, configs);

  body += "<h2>Against the expansion rate n</h2>";
  LineChart step = chart_of(j, configs, "step_time_s", 1, 4, " s", false);
  step.y_unit = "step s";
  body += figure_html("sweep-step", "Step time with mHC against n, one line per configuration", line_chart_svg(step));

  LineChart over = chart_of(j, configs, "overhead_pct", 1, 2, "%", true);
  over.y_unit = "overhead %";
  if (j["max_overhead_pct"].is_number())
    over.lines.push_back({"overhead budget", page_number(j, "/max_overhead_pct", 1, 2, "%")});
  body += figure_html("sweep-overhead", "Overhead of mHC over the plain residual against n", line_chart_svg(over));

  LineChart mem = chart_of(j, configs, "peak_memory_bytes", 1e-9, 1, " GB", false);
  mem.y_unit = "GB";
  // The GPU's capacity, from the first point that has numbers.
  bool capacity = false;
  for (const Config& cfg : configs) {
    const json& points = j.at(json::json_pointer(cfg.base + "/points"));
    for (size_t k = 0; k < points.size() && !capacity; ++k)
      if (points[k].contains("capacity_bytes")) {
        mem.lines.push_back({"GPU capacity", page_number(j, cfg.base + "/points/" + std::to_string(k) + "/capacity_bytes",
                                                         1e-9, 1, " GB")});
        capacity = true;
      }
  }
  if (j["max_memory_bytes"].is_number())
    mem.lines.push_back({"memory budget", page_number(j, "/max_memory_bytes", 1e-9, 1, " GB")});
  body += figure_html("sweep-memory", "Peak memory per GPU against n", line_chart_svg(mem),
                      "Ringed: each configuration's recommendation, the largest n within both budgets.");
  body += table(j, configs);

  std::vector<ProvenanceLine> prov{{"scenario", "<code>" + esc(req.scenario) + "</code>"},
                                   {"profile", profiles(req, r)},
                                   {"pricing", "each point is a full <code>mhcsim run</code> of the scenario and its "
                                               "baseline; its report lists every priced op with its source"}};
  return html_document("mhcsim sweep: " + req.scenario, body, prov);
}

}  // namespace mhc
