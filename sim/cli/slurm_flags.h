// The sbatch flags `mhcsim sweep --slurm` and `mhcsim sweep-collect --resubmit` share, and how both
// print what they submitted.
#pragma once

#include <iosfwd>
#include <string>

#include "core/cli_args.h"
#include "sweep/slurm_sweep.h"

namespace mhc {

// --partition, --time, --array-max and --dry-run, checked (InputError naming the flag).
SlurmOptions slurm_options(const CliArgs& args);

// What was submitted, or the commands to submit with, and where the logs go.
void print_submission(std::ostream& os, const SubmitReport& report, const SweepStore& store);

}  // namespace mhc
