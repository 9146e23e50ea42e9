// mhcsim sweep-point DIR INDEX: one array task of a Slurm sweep (see `mhcsim sweep --slurm`).
#include <iostream>

#include "cli/command_registry.h"
#include "core/cli_args.h"
#include "sweep/slurm_sweep.h"

namespace {

int run_sweep_point_command(const std::vector<std::string>& argv) {
  mhc::CliArgs args("mhcsim sweep-point", argv, {}, {});
  args.expect_positional(2, "DIR INDEX");
  const std::string dir = args.positional_at(0, "DIR"), index_text = args.positional_at(1, "INDEX");
  if (index_text.empty() || index_text.size() > 9 || index_text.find_first_not_of("0123456789") != std::string::npos)
    throw mhc::InputError("mhcsim sweep-point", "INDEX", "expected a point index (0, 1, ...), got '" + index_text + "'");
  const size_t index = std::stoul(index_text);
  const mhc::SweepStore store(dir);
  const auto outcome = mhc::run_stored_point(dir, index, mhc::this_simulator());
  if (outcome.had_result) {
    std::cout << "sweep-point " << index << ": already finished: " << store.result_file(outcome.key) << "\n";
    return 0;
  }
  if (!outcome.failed.empty()) {
    std::cerr << "sweep-point " << index << " failed: " << outcome.failed << "\n  recorded in "
              << store.failure_file(outcome.key) << "\n";
    return 1;
  }
  std::cout << "sweep-point " << index << ": " << store.result_file(outcome.key) << "\n";
  return 0;
}

const mhc::CommandRegistration reg(
    "sweep-point", mhc::Command{"computes one point of a Slurm sweep (what each array task runs)",
                                "mhcsim sweep-point DIR INDEX\n"
                                "  computes point INDEX of DIR/points.jsonl and writes DIR/results/KEY.json, or\n"
                                "  DIR/results/KEY.failed.json with the reason and exit status 1",
                                run_sweep_point_command});

}  // namespace
