// Runs another program (sbatch, squeue, sacct, scontrol) and captures what it prints, with a time
// limit: a Slurm command that cannot reach its controller retries for a long time.
#pragma once

#include <string>
#include <vector>

namespace mhc {

struct ProgramResult {
  bool started = false;  // false: not found on PATH or not executable (`err` says why)
  bool timed_out = false;
  int status = -1;       // exit status; 128 + signal when killed
  std::string out, err;
};

// argv[0] is searched on PATH; stdin is /dev/null.
ProgramResult run_program(const std::vector<std::string>& argv, int timeout_s = 60);
// Whether `name` is an executable on PATH.
bool program_on_path(const std::string& name);

}  // namespace mhc
