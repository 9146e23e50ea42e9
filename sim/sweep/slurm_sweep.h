// A sweep as a Slurm job array: `mhcsim sweep --slurm DIR` plans it into a sweep directory (see
// sweep_store.h) and submits one array task per unfinished point; each task runs
// `mhcsim sweep-point DIR INDEX`; `mhcsim sweep-collect DIR` turns whatever has finished into the
// same SweepResult a local sweep gives, so the same table, recommendation and JSON come out.
#pragma once

#include <string>
#include <vector>

#include "sweep/slurm.h"
#include "sweep/sweep.h"
#include "sweep/sweep_store.h"

namespace mhc {

// The mhcsim executable the array tasks run, and the SHA-256 of its bytes: part of every point's
// key, so a result computed by another build is never taken for this one's.
struct Simulator {
  std::string path, sha256;
};
Simulator this_simulator();  // /proc/self/exe

// A point's key: the SHA-256 of its scenario's content (scenario_content(): no paths), of its
// profile's bytes and of the simulator's bytes.
// The SHA-256 of a scenario's profile, or of its parts' SHA-256s joined when it has published parts.
std::string profiles_sha256(const Scenario& s);
std::string point_key(const nlohmann::json& scenario_content, const std::string& profile_sha256,
                      const std::string& simulator_sha256);

// What a submission did (planning or resubmitting).
struct SubmitReport {
  size_t points = 0;    // distinct points concerned
  size_t finished = 0;  // with a result already: not submitted
  size_t queued = 0;    // pending or running in Slurm already: not submitted again
  std::vector<std::vector<std::string>> commands;  // the sbatch command lines, run or to be run
  std::vector<std::string> jobs;                   // the job ids, when submitted
  bool sbatch_missing = false;                     // not a dry run, but no sbatch on PATH
  std::string error;  // sbatch refused (no controller, bad partition, ...): what it said; later arrays not tried
};

// Plans the sweep into `dir` and submits its unfinished points (unless options.dry_run or sbatch is
// missing). InputError for bad input, before anything is written; a refused submission is in the
// report (the plan stands, and sweep-collect --resubmit submits it again).
SubmitReport plan_slurm_sweep(const SweepRequest& request, const std::string& dir, const SlurmOptions& options,
                              const Simulator& simulator);

// mhcsim sweep-point: computes point `index` of the directory in a worker process and records its
// report (results/KEY.json) or why it failed (results/KEY.failed.json). Returns the failure ("" on
// success or when the point had finished before). The key is checked first: a point whose files or
// simulator changed since planning fails with that reason instead of recording a wrong result.
struct PointOutcome {
  std::string key;
  bool had_result = false;
  std::string failed;
};
PointOutcome run_stored_point(const std::string& dir, size_t index, const Simulator& simulator,
                              const SweepPointRunner& runner = run_point_report);

// A point of the collected sweep that has no result yet.
struct UnfinishedPoint {
  size_t index = 0;
  std::string key, label;  // label: "/schedule/kind=zb1p n = 4"
  std::string failure;     // recorded by sweep-point ("" if none)
  std::string task;        // "JOB_TASK" of its last submission ("" if never submitted)
  std::string state;       // Slurm's state of that task ("" if Slurm does not know it)
  std::string log;         // that task's output file
};

struct CollectedSweep {
  SweepRequest request;
  SweepResult result;  // recommended, as a local sweep's
  std::vector<UnfinishedPoint> unfinished;
  std::string state_source;  // "sacct", "squeue" or "" (no Slurm command answered)
  size_t points = 0;         // distinct points of the sweep
};
CollectedSweep collect_slurm_sweep(const std::string& dir);

// Submits the unfinished points again, except those Slurm will still run.
SubmitReport resubmit_unfinished(const std::string& dir, const CollectedSweep& collected, const SlurmOptions& options);

}  // namespace mhc
