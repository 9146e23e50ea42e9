// What mhcsim asks of Slurm: the job-array script, sbatch's --array lists, the submission itself, and
// the state of array tasks (sacct when accounting is on, else squeue, which keeps finished jobs for
// MinJobAge). Nothing here knows about mHC: only directories, indices and job ids.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mhc {

// sbatch options the user chose; empty / 0 when not given (the cluster's defaults apply).
struct SlurmOptions {
  std::string partition;
  std::string time;   // --time, in a format Slurm accepts
  int array_max = 0;  // at most this many tasks at once (--array=...%K)
  bool dry_run = false;
};

// InputError naming `flag` unless the value is one sbatch accepts ("30", "1:00:00", "2-12", ...;
// partitions: letters, digits, _ . -).
void check_slurm_time(const std::string& time, const std::string& flag);
void check_slurm_partition(const std::string& partition, const std::string& flag);

// "0-3,5,7-9": sorted, distinct task ids in sbatch's --array syntax.
std::string array_ranges(const std::vector<size_t>& tasks);

// The array script: task t runs `mhcsim sweep-point DIR offset+t`, the offset being the script's
// first argument (0 if absent). `mhcsim` and `dir` must be absolute paths without characters the
// shell or sbatch's option parser would read (InputError otherwise).
std::string array_script(const std::string& mhcsim, const std::string& dir, const std::string& logs_dir);

// The largest array index the cluster accepts plus one (MaxArraySize, from scontrol; Slurm's
// default, 1001, when scontrol cannot say).
size_t slurm_max_array_size();

// One sbatch call: the array tasks `offset + t` for t in `tasks`.
struct ArrayChunk {
  size_t offset = 0;
  std::vector<size_t> indices;  // offset + task, ascending
};
// Splits sorted indices into arrays whose task ids stay below `max_array_size`, the offsets being
// multiples of it.
std::vector<ArrayChunk> array_chunks(const std::vector<size_t>& indices, size_t max_array_size);
// The sbatch command line for one chunk.
std::vector<std::string> sbatch_command(const std::string& script, const ArrayChunk& chunk, const SlurmOptions& options);
// Runs it; the job id, or std::runtime_error with sbatch's message.
std::string submit_array(const std::vector<std::string>& command);

// "JOB_TASK" -> state ("PENDING", "RUNNING", "COMPLETED", "FAILED", "TIMEOUT", ...) for the array
// tasks of these jobs that Slurm still knows; `source` says which command answered ("" when none).
std::map<std::string, std::string> slurm_task_states(const std::vector<std::string>& jobs, std::string& source);
// Whether a task in this state will still run (so it must not be submitted again).
bool slurm_state_active(const std::string& state);

}  // namespace mhc
