// mhcsim sweep-collect DIR: the results of a Slurm sweep (see `mhcsim sweep --slurm`), printed as a
// local sweep prints them; the points without a result listed with their Slurm state and log, and
// resubmitted with --resubmit.
#include <iostream>

#include "cli/command_registry.h"
#include "cli/output_file.h"
#include "cli/slurm_flags.h"
#include "core/cli_args.h"
#include "sweep/slurm_sweep.h"
#include "sweep/sweep_page.h"

namespace {

void list_unfinished(std::ostream& os, const mhc::CollectedSweep& c) {
  os << "sweep-collect: " << c.unfinished.size() << " of " << c.points << " points have no result"
     << (c.state_source.empty() ? " (no Slurm command answered for their state)" : " (states from " + c.state_source + ")")
     << ":\n";
  for (const auto& u : c.unfinished) {
    os << "  point " << u.index << ", " << u.label << ": " << (u.failure.empty() ? "not finished" : "failed: " + u.failure);
    if (u.task.empty())
      os << "; never submitted from this directory\n";
    else
      os << "; Slurm task " << u.task << " " << (u.state.empty() ? "unknown to Slurm now" : u.state) << "; log " << u.log
         << "\n";
  }
}

int run_sweep_collect_command(const std::vector<std::string>& argv) {
  mhc::CliArgs args("mhcsim sweep-collect", argv, {"--partition", "--time", "--array-max", "--html"},
                    {"--json", "--resubmit", "--dry-run"});
  args.expect_positional(1, "DIR");
  const std::string dir = args.positional_at(0, "DIR");
  if (!args.flag("--resubmit"))
    for (const char* f : {"--partition", "--time", "--array-max", "--dry-run"})
      if (args.has(f)) args.fail(f, "applies only with --resubmit");
  const mhc::SlurmOptions options = mhc::slurm_options(args);
  // The page's file is opened before the directory is read, so a bad path fails at once.
  auto html = mhc::OutputFile::open_if_given(args, "mhcsim sweep-collect", "--html");
  const auto collected = mhc::collect_slurm_sweep(dir);
  // The same page a local sweep writes, of the points that have finished.
  if (html) html->write(mhc::sweep_page_html(collected.request, collected.result));
  if (args.flag("--json"))
    std::cout << mhc::sweep_json(collected.request, collected.result).dump(2) << "\n";
  else
    std::cout << mhc::sweep_text(collected.request, collected.result);
  std::cout.flush();
  if (collected.unfinished.empty()) return 0;
  list_unfinished(std::cerr, collected);
  if (args.flag("--resubmit")) {
    const auto report = mhc::resubmit_unfinished(dir, collected, options);
    std::cerr << "resubmit: ";
    mhc::print_submission(std::cerr, report, mhc::SweepStore(dir));
  } else {
    std::cerr << "resubmit them with: mhcsim sweep-collect " << dir << " --resubmit\n";
  }
  return 1;
}

const mhc::CommandRegistration reg(
    "sweep-collect",
    mhc::Command{"prints a Slurm sweep's results as a local sweep does; lists and resubmits unfinished points",
                 "mhcsim sweep-collect DIR [--json] [--html FILE] [--resubmit [--partition P] [--time T] [--array-max K]\n"
                 "       [--dry-run]]\n"
                 "  reads whatever points of DIR have finished and prints the table and recommendation (or\n"
                 "  --json) that mhcsim sweep prints for the same points; points without a result are listed\n"
                 "  on stderr with their Slurm state and log, and the exit status is then 1; --resubmit\n"
                 "  submits them again, except those Slurm will still run; --html writes the page of\n"
                 "  mhcsim sweep --html for the finished points",
                 run_sweep_collect_command});

}  // namespace
