// The sweep's table and JSON: one row per (configuration, n), then the recommendations.
#include <algorithm>
#include <sstream>

#include "report/text_format.h"
#include "sweep/sweep.h"

namespace mhc {

namespace {

nlohmann::json point_json(const SweepPoint& p) {
  if (!p.missing.empty()) return {{"n", p.n}, {"missing", p.missing}};
  return {{"n", p.n},
          {"step_time_s", p.step_time_s},
          {"baseline_step_time_s", p.baseline_step_time_s},
          {"overhead_pct", p.overhead_pct},
          {"peak_memory_bytes", p.peak_memory_bytes},
          {"capacity_bytes", p.capacity_bytes},
          {"fits_memory", p.fits_memory},
          {"mfu", p.mfu}};
}

nlohmann::json optional_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

std::string point_row(const SweepPoint& p) {
  if (!p.missing.empty()) return fmt("  %4.0f", p.n) + "  " + p.missing;
  return fmt("  %4.0f", p.n) + fmt("  %8.4f", p.step_time_s) + fmt("  %10.4f", p.baseline_step_time_s) +
         fmt("  %+7.2f%%", p.overhead_pct) + fmt("  %9.1f GB", p.peak_memory_bytes / 1e9) +
         (p.fits_memory ? "   yes " : "   no  ") + fmt("  %5.1f%%", 100 * p.mfu);
}

// The value part of "/pointer=value".
std::string value_of(const std::string& setting) { return setting.substr(setting.find('=') + 1); }

}  // namespace

nlohmann::json sweep_json(const SweepRequest& req, const SweepResult& r) {
  nlohmann::json j = {{"scenario", req.scenario}, {"overrides", req.overrides}};
  j["max_overhead_pct"] = optional_json(req.max_overhead_pct);
  j["max_memory_bytes"] = optional_json(req.max_memory_bytes);
  auto config_json = [](const SweepConfig& c) {
    nlohmann::json points = nlohmann::json::array();
    for (const auto& p : c.points) points.push_back(point_json(p));
    return nlohmann::json{{"points", points},
                          {"reason", c.reason},
                          {"recommended_n", c.recommended_n ? nlohmann::json(*c.recommended_n) : nlohmann::json(nullptr)}};
  };
  if (req.vary.empty()) {  // one configuration: its keys at the top level
    j.update(config_json(r.configs.front()));
    return j;
  }
  nlohmann::json vary = nlohmann::json::array(), configs = nlohmann::json::array();
  for (const auto& a : req.vary) vary.push_back({{"pointer", a.pointer}, {"values", a.values}});
  for (const auto& c : r.configs) {
    nlohmann::json cj = c.invalid.empty() ? config_json(c) : nlohmann::json{{"invalid", c.invalid}};
    cj["settings"] = c.settings;
    configs.push_back(cj);
  }
  j["vary"] = vary;
  j["configurations"] = configs;
  j["best_configuration"] = r.best_config ? nlohmann::json(*r.best_config) : nlohmann::json(nullptr);
  j["best_reason"] = r.best_reason;
  return j;
}

std::string sweep_text(const SweepRequest& req, const SweepResult& r) {
  std::ostringstream os;
  os << "mhcsim sweep: " << req.scenario;
  for (const auto& o : req.overrides) os << " --set " << o;
  for (const auto& a : req.vary) {
    os << " --vary " << a.pointer << "=";
    for (size_t i = 0; i < a.values.size(); ++i) os << (i ? "," : "") << a.values[i];
  }
  os << "\n\n";
  // One column per varied setting, as wide as its pointer or its widest value.
  std::vector<size_t> widths;
  for (const auto& a : req.vary) {
    size_t w = a.pointer.size();
    for (const auto& v : a.values) w = std::max(w, v.size());
    widths.push_back(w);
  }
  auto pad = [](const std::string& s, size_t w) { return "  " + s + std::string(w - std::min(w, s.size()), ' '); };
  for (size_t k = 0; k < req.vary.size(); ++k) os << pad(req.vary[k].pointer, widths[k]);
  os << "     n    step s  baseline s  overhead   peak memory   fits    MFU\n";
  for (const auto& c : r.configs) {
    std::string lead;
    for (size_t k = 0; k < c.settings.size(); ++k) lead += pad(value_of(c.settings[k]), widths[k]);
    if (!c.invalid.empty()) {
      os << lead << "  not a valid layout: " << c.invalid << "\n";
      continue;
    }
    for (const auto& p : c.points) os << lead << point_row(p) << "\n";
  }
  os << "\n";
  if (req.vary.empty()) {
    const SweepConfig& c = r.configs.front();
    os << "recommendation: " << (c.recommended_n ? "n = " + std::to_string(*c.recommended_n) : std::string("none"))
       << "\n  " << c.reason << "\n";
    return os.str();
  }
  os << "recommendation per configuration:\n";
  for (const auto& c : r.configs) {
    if (!c.invalid.empty()) continue;
    os << "  " << settings_label(c) << ": " << (c.recommended_n ? "n = " + std::to_string(*c.recommended_n) : std::string("none"))
       << " (" << c.reason << ")\n";
  }
  os << "fastest: " << r.best_reason << "\n";
  return os.str();
}

}  // namespace mhc
