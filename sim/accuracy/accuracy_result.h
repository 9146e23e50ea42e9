// What the accuracy suite found: per case the measured figure, mhcsim's prediction of the same
// quantity and the signed error (prediction - measured) / measured, so a negative error is an
// optimistic prediction; per tier the mean absolute error and the signed mean over its cases.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "accuracy/accuracy_suite.h"

namespace mhc {

// What `measured` and `predicted` count: a kernel or collective's time, a step's, or (for a
// leave-one-out group) the entries it stands for.
enum class Unit { microseconds, seconds, entries };
const char* to_string(Unit);

struct CaseResult {
  Tier tier = Tier::kernels;
  std::string id;
  PublishedSource source;
  std::string what;           // shape or layout, one line
  std::string measured_text;  // the figure as published ("579 TFLOP/s", "6667 tokens/s/GPU")
  Unit unit = Unit::microseconds;
  double measured = 0;        // in `unit`; for a leave-one-out group: its entries' count
  double predicted = 0;       // in `unit`; for a leave-one-out group: 0
  double signed_error = 0;    // (predicted - measured) / measured; a group: its entries' mean
  double abs_error = 0;       // |signed_error|; a group: its entries' mean |error|
  int comparisons = 1;        // entries a leave-one-out group stands for
  std::string relied_on;      // the component data the prediction was priced from
  std::string notes;          // approximations and conversions, for the JSON and the sources list
  // Training steps: MFU against the datasheet peak of the run's GEMM precision, with mhcsim's model
  // FLOPs, for the measured and the predicted step; and the source's own figure where it gives one.
  std::optional<double> mfu_measured, mfu_predicted, mfu_published;
  std::string mfu_peak;       // "bf16 989.5 TFLOP/s"
  bool expressible = true;
  std::string not_expressible_reason;
  double wall_seconds = 0;    // host time of this case
};

// A case's result before anything is measured or predicted: its tier, id, source, notes and unit.
inline CaseResult case_result(Tier tier, const std::string& id, const PublishedSource& source, const std::string& notes,
                              Unit unit) {
  CaseResult r;
  r.tier = tier;
  r.id = id;
  r.source = source;
  r.notes = notes;
  r.unit = unit;
  return r;
}

struct TierSummary {
  Tier tier = Tier::kernels;
  int cases = 0;
  double mean_abs_error = 0;
  double signed_mean = 0;
  double wall_seconds = 0;
};

struct AccuracyReport {
  std::string suite_dir;
  std::string date;  // UTC, ISO 8601
  std::vector<CaseResult> cases;
  std::vector<TierSummary> tiers;  // kernels, collectives, steps (those with cases)
  double wall_seconds = 0;
};

// Mean |error| and signed mean of each tier's expressible cases (a leave-one-out group counts as one
// case with its entries' means).
std::vector<TierSummary> summarize(const std::vector<CaseResult>& cases);

nlohmann::json accuracy_json(const AccuracyReport& report);
std::string accuracy_text(const AccuracyReport& report);
// The README block: one markdown table per tier with the summary line, then the sources.
std::string accuracy_markdown(const AccuracyReport& report, const std::string& commit);

}  // namespace mhc
