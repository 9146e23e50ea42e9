// mhcsim run: the main job. Simulates the scenario and its plain-residual baseline and reports.
#include <unistd.h>

#include <iostream>

#include "cli/command_registry.h"
#include "cli/output_file.h"
#include "core/cli_args.h"
#include "report/report.h"
#include "report/run_page.h"
#include "report/timeline.h"
#include "report/trace.h"
#include "run/run.h"

namespace {

int run_run(const std::vector<std::string>& argv) {
  mhc::CliArgs args("mhcsim run", argv, {"--trace", "--set", "--html", "--jobs"},
                    {"--json", "--no-network", "--mhc-at-floor", "--sm-demand-proportional", "--quiet",
                     "--no-fold-all-to-all"});
  args.expect_positional(1, "SCENARIO.json");
  const auto scenario = mhc::load_scenario(args.positional_at(0, "SCENARIO.json"), args.all("--set"));
  // Output files are opened before the simulation: a bad path fails at once, not minutes later.
  auto trace = mhc::OutputFile::open_if_given(args, "mhcsim run", "--trace");
  auto html = mhc::OutputFile::open_if_given(args, "mhcsim run", "--html");
  mhc::RunOptions options;
  options.network = !args.flag("--no-network");
  options.pricing.mhc_at_floor = args.flag("--mhc-at-floor");
  options.pricing.sm_demand_proportional = args.flag("--sm-demand-proportional");
  options.simulations_at_once = static_cast<int>(args.integer_or("--jobs", 2, 1, 2));
  options.progress = !args.flag("--quiet") && ::isatty(STDERR_FILENO);
  options.engine.fold_all_to_all = !args.flag("--no-fold-all-to-all");
  options.engine.gpu.record_segments = trace.has_value();  // the share each kernel got, over time
  const auto result = mhc::run_scenario(scenario, options);
  const auto report = mhc::report_json(result);
  if (trace) {
    const mhc::TraceShares shares{&result.mhc.shares, &result.mhc.comm_segments, double(scenario.cluster.sms)};
    trace->write(mhc::chrome_trace_json(result.mhc.step.graph, result.mhc.timings, 1e6,
                                        result.mhc.shares.empty() ? nullptr : &shares));
  }
  if (html) html->write(mhc::run_page_html(report, mhc::step_timeline(result.mhc), mhc::step_timeline(result.baseline)));
  if (args.flag("--json"))
    std::cout << report.dump(2) << "\n";
  else
    std::cout << mhc::report_text(report);
  return 0;
}

const mhc::CommandRegistration reg(
    "run", mhc::Command{"predicts step time, overhead, bubble, memory, I/O and MFU of a scenario vs its baseline",
                        "mhcsim run SCENARIO.json [--json] [--trace FILE] [--html FILE] [--set /JSON/POINTER=VALUE ...] "
                        "[--no-network] [--mhc-at-floor] [--sm-demand-proportional] [--jobs 1|2] [--quiet] [--no-fold-all-to-all]\n"
                        "  --html writes one self-contained page: per-rank timeline (mHC and baseline), where the\n"
                        "         extra time goes, memory per GPU, I/O per token, provenance (numbers as --json)\n"
                        "  --trace writes a Chrome/Perfetto timeline of the mHC run (every GPU's streams, with the\n"
                        "          SMs and HBM each kernel got, and counter tracks of both per GPU)\n"
                        "  --jobs 2 (default) simulates the scenario and its baseline side by side, in two processes;\n"
                        "         1 runs them one after the other, in half the peak memory\n"
                        "  --quiet  no progress lines (printed on a terminal every few seconds of a long simulation)\n"
                        "  --no-fold-all-to-all  every flow of every all-to-all (by default one simulated by the\n"
                        "         flows into and out of its computing member where its members are alike, with the\n"
                        "         same timings: engine/fold_all_to_all.h)\n"
                        "  --no-network prices communication at zero (the schedule evaluator on the same graph)\n"
                        "  --mhc-at-floor what-if: mHC kernels at their roofline floor (I/O-model bytes / copy\n"
                        "                 bandwidth, + launch) instead of measured: what perfect kernels would cost\n"
                        "  --sm-demand-proportional what-if: memory-bound kernels take SMs in proportion to their\n"
                        "                 bandwidth (instead of the corun curve or the published one): the least overlap",
                        run_run});

}  // namespace
