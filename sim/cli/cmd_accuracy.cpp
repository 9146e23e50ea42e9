// mhcsim accuracy: the committed suite of published, measured kernels, collectives and training runs
// (scenarios/published/), each held against what mhcsim predicts for it.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "accuracy/accuracy_tiers.h"
#include "core/cli_args.h"
#include "cli/command_registry.h"
#include "core/command_stamp.h"

namespace {

std::vector<std::string> split_ids(const std::string& text) {
  std::vector<std::string> ids;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) ids.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return ids;
}

int run_accuracy_command(const std::vector<std::string>& argv) {
  mhc::CliArgs args("mhcsim accuracy", argv, {"--suite", "--only", "--jobs", "--commit"}, {"--json", "--markdown"});
  args.expect_positional(0, "");
  if (args.flag("--json") && args.flag("--markdown")) args.fail("--markdown", "choose --json or --markdown");
  if (args.has("--commit") && !args.flag("--markdown")) args.fail("--commit", "only the --markdown block names a commit");
  mhc::AccuracySuite suite = mhc::load_accuracy_suite(args.get("--suite").value_or("scenarios/published"));
  if (auto only = args.get("--only")) {
    auto ids = split_ids(*only);
    if (ids.empty()) args.fail("--only", "expected case ids separated by commas");
    mhc::keep_only(suite, ids, "--only");
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int jobs = static_cast<int>(args.integer_or("--jobs", cores, 1, 1024));
  auto progress = [](size_t done, size_t total, const std::string& id) {
    if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\raccuracy: %zu/%zu runs (%s done)\033[K%s", done, total, id.c_str(), done == total ? "\n" : "");
    else std::fprintf(stderr, "accuracy: %zu/%zu runs (%s done)\n", done, total, id.c_str());
  };
  mhc::AccuracyReport report = mhc::run_accuracy_suite(suite, jobs, progress);
  report.date = mhc::utc_now_iso8601();
  if (args.flag("--json"))
    std::cout << mhc::accuracy_json(report).dump(2) << "\n";
  else if (args.flag("--markdown"))
    std::cout << mhc::accuracy_markdown(report, args.get("--commit").value_or("(not given)"));
  else
    std::cout << mhc::accuracy_text(report);
  return 0;
}

const mhc::CommandRegistration reg(
    "accuracy", mhc::Command{"holds predictions against published, measured kernels, collectives and runs",
                             "mhcsim accuracy [--suite DIR] [--only ID,...] [--jobs J] [--json | --markdown [--commit C]]\n"
                             "  runs the suite in DIR (default scenarios/published: kernels.json, collectives.json,\n"
                             "  steps.json) and prints per case the source, the shape or layout, the measured figure,\n"
                             "  the prediction and the signed error (predicted - measured) / measured, then per tier\n"
                             "  the mean absolute error and the signed mean; --only runs the listed cases; training\n"
                             "  runs simulate side by side in --jobs processes (default: the machine's cores);\n"
                             "  --markdown prints the README's block",
                             run_accuracy_command});

}  // namespace
