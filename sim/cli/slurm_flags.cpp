#include "cli/slurm_flags.h"

#include <ostream>

#include "core/command_stamp.h"

namespace mhc {

SlurmOptions slurm_options(const CliArgs& args) {
  SlurmOptions o;
  if (auto p = args.get("--partition")) {
    check_slurm_partition(*p, "--partition");
    o.partition = *p;
  }
  if (auto t = args.get("--time")) {
    check_slurm_time(*t, "--time");
    o.time = *t;
  }
  if (args.has("--array-max")) {
    const int64_t k = args.integer("--array-max");
    if (k < 1 || k > 1000000) args.fail("--array-max", "expected the most tasks at once, 1..1000000, got " + std::to_string(k));
    o.array_max = static_cast<int>(k);
  }
  o.dry_run = args.flag("--dry-run");
  return o;
}

void print_submission(std::ostream& os, const SubmitReport& r, const SweepStore& store) {
  os << r.points << " point" << (r.points == 1 ? "" : "s") << ": " << r.finished << " with a result already, " << r.queued
     << " pending or running in Slurm, " << (r.points - r.finished - r.queued) << " to run\n";
  if (r.commands.empty()) return;
  for (size_t i = 0; i < r.jobs.size(); ++i) os << "submitted job " << r.jobs[i] << ": " << shell_command_line(r.commands[i]) << "\n";
  if (!r.jobs.empty()) os << "logs: " << store.logs_dir() << "/JOB_TASK.out\n";
  if (!r.error.empty())
    os << "error: " << shell_command_line(r.commands[r.jobs.size()]) << ": " << r.error << "\n"
       << "the sweep is planned; once Slurm accepts jobs: mhcsim sweep-collect " << store.dir() << " --resubmit\n";
  if (!r.jobs.empty() || !r.error.empty()) return;
  os << (r.sbatch_missing ? "sbatch is not on PATH; submit from a machine of the cluster with:\n" : "to submit (dry run):\n");
  for (const auto& c : r.commands) os << "  " << shell_command_line(c) << "\n";
  os << "(a job submitted by hand is not recorded in jobs.jsonl, so sweep-collect cannot name its state or log)\n";
}

}  // namespace mhc
