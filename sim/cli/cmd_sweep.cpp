// mhcsim sweep: runs a scenario over expansion rates (and optionally a grid of other settings) and
// recommends the largest n within budget, and the fastest configuration.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <thread>

#include "cli/cli_args.h"
#include "cli/command_registry.h"
#include "scenario/input_limits.h"
#include "sweep/sweep.h"

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
  mhc::CliArgs args("mhcsim sweep", argv, {"--n", "--set", "--vary", "--max-overhead", "--max-memory", "--jobs"},
                    {"--json"});
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
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  req.jobs = static_cast<int>(args.integer_or("--jobs", cores, 1, 1024));
  auto result = mhc::run_sweep(req, draw_progress);
  if (args.flag("--json"))
    std::cout << mhc::sweep_json(req, result).dump(2) << "\n";
  else
    std::cout << mhc::sweep_text(req, result);
  return 0;
}

const mhc::CommandRegistration reg(
    "sweep", mhc::Command{"runs a scenario over expansion rates n and recommends one",
                          "mhcsim sweep SCENARIO.json --n 1,2,4,6,8 [--set /JSON/POINTER=VALUE ...] "
                          "[--vary /JSON/POINTER=V1,V2,... ...] [--max-overhead PCT] [--max-memory GB] [--jobs J] [--json]\n"
                          "  recommends the largest n whose overhead <= --max-overhead (no limit if absent) and\n"
                          "  peak memory per GPU <= --max-memory GB (the GPU's capacity if absent);\n"
                          "  --vary runs every combination of the listed settings (e.g. /parallelism/pp=2,4 and\n"
                          "  /schedule/kind=1f1b,dualpipe), recommends n for each and names the fastest;\n"
                          "  --jobs defaults to the machine's cores",
                          run_sweep_command});

}  // namespace
