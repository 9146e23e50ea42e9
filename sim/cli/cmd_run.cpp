// mhcsim run: the main job. Simulates the scenario and its plain-residual baseline and reports.
#include <iostream>

#include "cli/cli_args.h"
#include "cli/command_registry.h"
#include "report/report.h"
#include "report/trace.h"
#include "run/run.h"

namespace {

int run_run(const std::vector<std::string>& argv) {
  mhc::CliArgs args("mhcsim run", argv, {"--trace", "--set"}, {"--json", "--no-network", "--mhc-at-floor", "--sm-demand-proportional"});
  args.expect_positional(1, "SCENARIO.json");
  const auto scenario = mhc::load_scenario(args.positional_at(0, "SCENARIO.json"), args.all("--set"));
  mhc::RunOptions options;
  options.network = !args.flag("--no-network");
  options.pricing.mhc_at_floor = args.flag("--mhc-at-floor");
  options.pricing.sm_demand_proportional = args.flag("--sm-demand-proportional");
  const auto trace = args.get("--trace");
  options.engine.gpu.record_segments = trace.has_value();  // the share each kernel got, over time
  const auto result = mhc::run_scenario(scenario, options);
  const auto report = mhc::report_json(result);
  if (trace) {
    const mhc::TraceShares shares{&result.mhc.shares, &result.mhc.comm_segments, double(scenario.cluster.sms)};
    mhc::write_chrome_trace(*trace, result.mhc.step.graph, result.mhc.timings, 1e6,
                            result.mhc.shares.empty() ? nullptr : &shares);
  }
  if (args.flag("--json"))
    std::cout << report.dump(2) << "\n";
  else
    std::cout << mhc::report_text(report);
  return 0;
}

const mhc::CommandRegistration reg(
    "run", mhc::Command{"predicts step time, overhead, bubble, memory, I/O and MFU of a scenario vs its baseline",
                        "mhcsim run SCENARIO.json [--json] [--trace FILE] [--set /JSON/POINTER=VALUE ...] "
                        "[--no-network] [--mhc-at-floor] [--sm-demand-proportional]\n"
                        "  --trace writes a Chrome/Perfetto timeline of the mHC run (every GPU's streams, with the\n"
                        "          SMs and HBM each kernel got, and counter tracks of both per GPU)\n"
                        "  --no-network prices communication at zero (the schedule evaluator on the same graph)\n"
                        "  --mhc-at-floor what-if: mHC kernels at their roofline floor (I/O-model bytes / copy\n"
                        "                 bandwidth, + launch) instead of measured: what perfect kernels would cost\n"
                        "  --sm-demand-proportional what-if: memory-bound kernels take SMs in proportion to their\n"
                        "                 bandwidth (instead of the corun curve or the published one): the least overlap",
                        run_run});

}  // namespace
