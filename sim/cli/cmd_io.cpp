// mhcsim io: per-token residual-stream memory I/O of residual, HC, unfused and fused mHC.
#include <iostream>

#include "cli/command_registry.h"
#include "core/cli_args.h"
#include "model/io_table.h"
#include "scenario/input_limits.h"

namespace {

int run_io(const std::vector<std::string>& argv) {
  mhc::CliArgs args("mhcsim io", argv, {"--n", "--C", "--sinkhorn-iters", "--pass"}, {"--json"});
  args.expect_positional(0, "");
  auto n = args.integer("--n", 1, mhc::limits::kMaxExpansionRate);
  auto C = args.integer("--C", 1, mhc::limits::kMaxHidden);
  auto iters = args.integer_or("--sinkhorn-iters", 20, 1, mhc::limits::kMaxSinkhornIters);
  std::string pass = args.get("--pass").value_or("forward");
  if (pass != "forward" && pass != "backward") args.fail("--pass", "expected forward or backward, got '" + pass + "'");
  auto table = mhc::io_table(static_cast<int>(n), C, static_cast<int>(iters),
                             pass == "forward" ? mhc::Pass::forward : mhc::Pass::backward_input);
  if (args.flag("--json"))
    std::cout << mhc::to_json(table).dump(2) << "\n";
  else
    std::cout << mhc::to_text(table);
  return 0;
}

const mhc::CommandRegistration reg(
    "io", mhc::Command{"per-token memory I/O of residual, HC, unfused and fused mHC (paper Table 2)",
                       "mhcsim io --n N --C C [--sinkhorn-iters 20] [--pass forward|backward] [--json]\n"
                       "  --pass defaults to forward (the paper's Table 2); --sinkhorn-iters to the paper's 20",
                       run_io});

}  // namespace
