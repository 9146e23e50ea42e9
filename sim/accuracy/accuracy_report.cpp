// The accuracy report as JSON (every field), text (for people at a terminal) and markdown (the
// README's block), all from the same CaseResults.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "accuracy/accuracy_result.h"

namespace mhc {

namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string pct(double v) { return fmt("%+.1f%%", 100 * v); }

std::string tier_title(Tier t) {
  switch (t) {
    case Tier::kernels: return "Kernels: the cost stage against measured kernel times";
    case Tier::collectives: return "Collectives and all-to-all: `mhcsim collective`'s machinery against nccl-tests and DeepEP";
    default: return "Training steps: `mhcsim run`'s step time against published runs";
  }
}

std::string value_text(const CaseResult& c, double v) {
  if (c.unit == Unit::entries) return "-";
  if (c.unit == Unit::seconds) return fmt("%.3f", v);
  return fmt("%.1f", v);
}

std::string error_text(const CaseResult& c) {
  if (!c.expressible) return "not yet expressible";
  if (c.unit == Unit::entries) return "mean |" + fmt("%.1f%%", 100 * c.abs_error) + "|, signed " + pct(c.signed_error);
  return pct(c.signed_error);
}

std::string mfu_text(const CaseResult& c) {
  if (!c.mfu_measured) return c.mfu_published ? "published " + fmt("%.1f%%", 100 * *c.mfu_published) : "";
  std::string s = fmt("%.1f%%", 100 * *c.mfu_measured) + " / " + fmt("%.1f%%", 100 * *c.mfu_predicted);
  if (c.mfu_published) s += " (published " + fmt("%.1f%%", 100 * *c.mfu_published) + ")";
  return s;
}

std::string summary_line(const TierSummary& t) {
  return "mean |error| " + fmt("%.1f%%", 100 * t.mean_abs_error) + " over " + std::to_string(t.cases) +
         " cases, signed mean " + pct(t.signed_mean) + " (" + fmt("%.1f", t.wall_seconds) + " s)";
}

// Rows padded to the widest cell of each column.
std::string table(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<size_t> w;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], r[i].size());
    }
  std::ostringstream o;
  for (const auto& r : rows) {
    std::string line = indent;
    for (size_t i = 0; i < r.size(); ++i) line += r[i] + (i + 1 < r.size() ? std::string(w[i] - r[i].size() + 2, ' ') : "");
    o << line << "\n";
  }
  return o.str();
}

// A markdown table cell: a bare '|' would end the cell.
std::string cell(const std::string& text) {
  std::string out;
  for (char ch : text) {
    if (ch == '|') out += '\\';
    out += ch;
  }
  return out;
}

}  // namespace

const char* to_string(Unit u) {
  switch (u) {
    case Unit::microseconds: return "us";
    case Unit::seconds: return "s";
    default: return "entries";
  }
}

std::vector<TierSummary> summarize(const std::vector<CaseResult>& cases) {
  std::vector<TierSummary> out;
  for (Tier t : {Tier::kernels, Tier::collectives, Tier::steps}) {
    TierSummary s;
    s.tier = t;
    for (const CaseResult& c : cases) {
      if (c.tier != t) continue;
      s.wall_seconds += c.wall_seconds;
      if (!c.expressible) continue;
      ++s.cases;
      s.mean_abs_error += c.abs_error;
      s.signed_mean += c.signed_error;
    }
    if (s.cases > 0) {
      s.mean_abs_error /= s.cases;
      s.signed_mean /= s.cases;
    }
    if (s.cases > 0 || s.wall_seconds > 0) out.push_back(s);
  }
  return out;
}

nlohmann::json accuracy_json(const AccuracyReport& r) {
  nlohmann::json j;
  j["suite"] = r.suite_dir;
  j["date"] = r.date;
  j["wall_seconds"] = r.wall_seconds;
  j["error_convention"] = "(predicted - measured) / measured; negative = optimistic";
  for (const TierSummary& t : r.tiers)
    j["tiers"][to_string(t.tier)] = {{"cases", t.cases},
                                     {"mean_abs_error", t.mean_abs_error},
                                     {"signed_mean", t.signed_mean},
                                     {"wall_seconds", t.wall_seconds}};
  j["cases"] = nlohmann::json::array();
  for (const CaseResult& c : r.cases) {
    nlohmann::json k = {{"tier", to_string(c.tier)},
                        {"id", c.id},
                        {"source", {{"label", c.source.label}, {"citation", c.source.citation}}},
                        {"what", c.what},
                        {"measured_as_published", c.measured_text},
                        {"expressible", c.expressible},
                        {"notes", c.notes},
                        {"wall_seconds", c.wall_seconds}};
    if (c.expressible) {
      k["unit"] = to_string(c.unit);
      k["measured"] = c.measured;
      k["predicted"] = c.predicted;
      k["signed_error"] = c.signed_error;
      k["abs_error"] = c.abs_error;
      k["comparisons"] = c.comparisons;
      k["relied_on"] = c.relied_on;
    } else {
      k["not_yet_expressible"] = c.not_expressible_reason;
    }
    if (c.mfu_measured) k["mfu"] = {{"measured", *c.mfu_measured}, {"predicted", *c.mfu_predicted}, {"peak", c.mfu_peak}};
    if (c.mfu_published) k["mfu"]["published"] = *c.mfu_published;
    j["cases"].push_back(k);
  }
  return j;
}

std::string accuracy_text(const AccuracyReport& r) {
  std::ostringstream o;
  o << "mhcsim accuracy: " << r.suite_dir << ", " << r.date << "\n"
    << "error = (predicted - measured) / measured: negative is optimistic (faster than measured)\n";
  for (const TierSummary& t : r.tiers) {
    o << "\n" << tier_title(t.tier) << "\n";
    const bool steps = t.tier == Tier::steps;
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> head = {"id", "source", "what", "as published", steps ? "measured s" : "measured us",
                                     steps ? "predicted s" : "predicted us", "error"};
    if (steps) head.push_back("MFU measured / predicted");
    rows.push_back(head);
    for (const CaseResult& c : r.cases) {
      if (c.tier != t.tier || !c.expressible) continue;
      std::vector<std::string> row = {c.id, c.source.label, c.what, c.measured_text, value_text(c, c.measured),
                                      value_text(c, c.predicted), error_text(c)};
      if (steps) row.push_back(mfu_text(c));
      rows.push_back(row);
    }
    o << table(rows, "  ") << "  " << summary_line(t) << "\n";
  }
  bool any = false;
  for (const CaseResult& c : r.cases) {
    if (c.expressible) continue;
    if (!any) o << "\nNot yet expressible (listed, not counted)\n";
    any = true;
    o << "  " << c.id << " (" << c.source.label << ", " << c.measured_text << "): " << c.not_expressible_reason << "\n";
  }
  o << "\nSources and what each prediction relied on\n";
  for (const CaseResult& c : r.cases) {
    o << "  " << c.id << ": " << c.source.citation << "\n";
    if (c.expressible) o << "    priced from: " << c.relied_on << "\n";
    if (!c.mfu_peak.empty()) o << "    MFU peak: " << c.mfu_peak << "\n";
    if (!c.notes.empty()) o << "    notes: " << c.notes << "\n";
  }
  o << "\n" << fmt("%.1f", r.wall_seconds) << " s wall\n";
  return o.str();
}

std::string accuracy_markdown(const AccuracyReport& r, const std::string& commit) {
  std::ostringstream o;
  o << "Generated " << r.date << " at commit " << commit << " by `bash scenarios/published/update_readme.sh` ("
    << fmt("%.0f", r.wall_seconds) << " s). Error = (predicted - measured) / measured: negative is optimistic.\n";
  for (const TierSummary& t : r.tiers) {
    const bool steps = t.tier == Tier::steps;
    o << "\n**" << tier_title(t.tier) << "**: " << summary_line(t) << "\n\n";
    if (steps)
      o << "| case | source | layout | as published | measured s | predicted s | error | MFU measured / predicted |\n"
        << "|---|---|---|---|---|---|---|---|\n";
    else
      o << "| case | source | what | as published | measured us | predicted us | error |\n|---|---|---|---|---|---|---|\n";
    for (const CaseResult& c : r.cases) {
      if (c.tier != t.tier || !c.expressible) continue;
      o << "| " << cell(c.id) << " | " << cell(c.source.label) << " | " << cell(c.what) << " | " << cell(c.measured_text)
        << " | " << value_text(c, c.measured) << " | " << value_text(c, c.predicted) << " | " << cell(error_text(c)) << " |";
      if (steps) o << " " << cell(mfu_text(c)) << " |";
      o << "\n";
    }
  }
  bool any = false;
  for (const CaseResult& c : r.cases) {
    if (c.expressible) continue;
    if (!any) o << "\nNot yet expressible (listed, not counted):\n";
    any = true;
    o << "- " << c.id << " (" << c.source.label << ", " << c.measured_text << "): " << c.not_expressible_reason << "\n";
  }
  // Each distinct citation once, with the labels that use it.
  std::map<std::string, std::vector<std::string>> by_citation;
  std::vector<std::string> order;
  for (const CaseResult& c : r.cases) {
    auto& labels = by_citation[c.source.citation];
    if (labels.empty()) order.push_back(c.source.citation);
    if (std::find(labels.begin(), labels.end(), c.source.label) == labels.end()) labels.push_back(c.source.label);
  }
  o << "\nSources:\n";
  for (const std::string& cit : order) {
    o << "- ";
    for (size_t i = 0; i < by_citation[cit].size(); ++i) o << (i ? ", " : "") << by_citation[cit][i];
    o << ": " << cit << "\n";
  }
  return o.str();
}

}  // namespace mhc
