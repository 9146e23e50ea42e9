// mhcsim sweep: runs a scenario over expansion rates (and optionally a grid of other settings) and
// recommends the largest n within budget, and the fastest configuration; locally in worker
// processes, or (--slurm DIR) as a Slurm job array collected by `mhcsim sweep-collect`.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <thread>

#include "cli/command_registry.h"
#include "cli/output_file.h"
#include "cli/slurm_flags.h"
#include "core/cli_args.h"
#include "scenario/input_limits.h"
#include "sweep/sweep.h"
#include "sweep/sweep_page.h"

namespace {

void draw_progress(size_t done, size_t total, int n) {
  const int width = 30;
  const int filled = static_cast<int>(width * done / total);
  if (isatty(STDERR_FILENO))
    std::fprintf(stderr, "\rsweep [%s%s] %zu/%zu (n = %d done)%s", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), done, total, n, done == total ? "\n" : "");
  else
    std::fprintf(stderr, "sweep: %zu/%zu (n = %d done)\n", done, total, n);
}

int run_sweep_command(const std::vector<std::string>& argv) {
  mhc::CliArgs args("mhcsim sweep", argv,
                    {"--n", "--set", "--vary", "--max-overhead", "--max-memory", "--jobs", "--slurm", "--partition",
                     "--time", "--array-max", "--html"},
                    {"--json", "--dry-run"});
  args.expect_positional(1, "SCENARIO.json");
  mhc::SweepRequest req;
  req.scenario = args.positional_at(0, "SCENARIO.json");
  for (double v : args.number_list("--n")) {
    if (v < 1 || v > mhc::limits::kMaxExpansionRate || std::floor(v) != v)
      args.fail("--n", "expected expansion rates as integers in 1.." + std::to_string(mhc::limits::kMaxExpansionRate) +
                           ", got " + std::to_string(v));
    if (std::count(req.n_values.begin(), req.n_values.end(), static_cast<int>(v)))
      args.fail("--n", "lists " + std::to_string(static_cast<int>(v)) + " twice");
    req.n_values.push_back(static_cast<int>(v));
  }
  req.overrides = args.all("--set");
  for (const std::string& axis : args.all("--vary")) {
    req.vary.push_back(mhc::parse_sweep_axis(axis, "--vary"));
    if (axis.rfind("/mhc/n=", 0) == 0) args.fail("--vary", "n is swept by --n, not --vary");
  }
  // An overhead budget in percent (negative: the variant must be faster); memory in GB per GPU.
  if (args.has("--max-overhead")) req.max_overhead_pct = args.number("--max-overhead", -100, 1e6);
  if (args.has("--max-memory")) req.max_memory_bytes = args.number("--max-memory", 1e-3, 1e6) * 1e9;
  if (auto dir = args.get("--slurm")) {
    for (const char* local_only : {"--jobs", "--json", "--html"})
      if (args.has(local_only))
        args.fail(local_only, "does not apply with --slurm (mhcsim sweep-collect prints the results, --json there)");
    const mhc::SlurmOptions options = mhc::slurm_options(args);
    const auto report = mhc::plan_slurm_sweep(req, *dir, options, mhc::this_simulator());
    const mhc::SweepStore store(*dir);
    std::cout << "mhcsim sweep: planned in " << store.dir() << " (sweep.json, points.jsonl, sweep.sbatch)\n";
    mhc::print_submission(std::cout, report, store);
    std::cout << "collect with: mhcsim sweep-collect " << *dir << "\n";
    return report.error.empty() ? 0 : 1;
  }
  for (const char* f : {"--partition", "--time", "--array-max", "--dry-run"})
    if (args.has(f)) args.fail(f, "applies only with --slurm DIR");
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  req.jobs = static_cast<int>(args.integer_or("--jobs", cores, 1, 1024));
  // The page's file is opened before any point runs, so a bad path fails at once.
  auto html = mhc::OutputFile::open_if_given(args, "mhcsim sweep", "--html");
  auto result = mhc::run_sweep(req, draw_progress);
  if (html) html->write(mhc::sweep_page_html(req, result));
  if (args.flag("--json"))
    std::cout << mhc::sweep_json(req, result).dump(2) << "\n";
  else
    std::cout << mhc::sweep_text(req, result);
  // A point whose worker failed is in the table with its reason; the sweep as a whole did not succeed.
  if (const size_t missing = mhc::missing_points(result)) {
    std::cout.flush();
    std::cerr << "mhcsim sweep: " << missing << " point" << (missing == 1 ? "" : "s")
              << " failed (the table says why); the others are complete\n";
    return 1;
  }
  return 0;
}

const mhc::CommandRegistration reg(
    "sweep", mhc::Command{"runs a scenario over expansion rates n and recommends one",
                          "mhcsim sweep SCENARIO.json --n 1,2,4,6,8 [--set /JSON/POINTER=VALUE ...] "
                          "[--vary /JSON/POINTER=V1,V2,... ...] [--max-overhead PCT] [--max-memory GB] [--jobs J] [--json]\n"
                          "       [--html FILE] [--slurm DIR [--partition P] [--time T] [--array-max K] [--dry-run]]\n"
                          "  recommends the largest n whose overhead <= --max-overhead (no limit if absent) and\n"
                          "  peak memory per GPU <= --max-memory GB (the GPU's capacity if absent);\n"
                          "  --vary runs every combination of the listed settings (e.g. /parallelism/pp=2,4 and\n"
                          "  /schedule/kind=1f1b,dualpipe), recommends n for each and names the fastest;\n"
                          "  --jobs defaults to the machine's cores; exit status 1 if a point failed (the table says why);\n"
                          "  --html writes a self-contained page of the curves against n with the recommendations and\n"
                          "  budgets (numbers as --json);\n"
                          "  --slurm DIR plans the sweep into DIR and submits one Slurm array task per point without a\n"
                          "  result (--dry-run: prints the sbatch command; exit status 1 if sbatch refuses);\n"
                          "  collect with mhcsim sweep-collect DIR",
                          run_sweep_command});

}  // namespace
