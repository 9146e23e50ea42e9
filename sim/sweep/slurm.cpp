#include "sweep/slurm.h"

#include <algorithm>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "core/json_input.h"
#include "sweep/program_run.h"

namespace mhc {

namespace {

// Characters that need no quoting in a shell word nor in an #SBATCH line.
bool plain_path(const std::string& s) {
  return !s.empty() && s[0] == '/' &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || std::string("/._+,:@=-").find(c) != std::string::npos; });
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// "17_3", or "17_[4-6,9%2]" (sacct's pending tasks) expanded, each with `state`.
void add_task_states(const std::string& id, const std::string& state, std::map<std::string, std::string>& out) {
  const size_t us = id.find('_');
  if (us == std::string::npos) return;  // not an array task
  const std::string job = id.substr(0, us), tasks = id.substr(us + 1);
  if (tasks.empty() || tasks[0] != '[') {
    out[id] = state;
    return;
  }
  std::string list = tasks.substr(1, tasks.find_first_of("]%") - 1);
  std::stringstream parts(list);
  for (std::string part; std::getline(parts, part, ',');) {
    const size_t dash = part.find('-');
    try {
      const size_t lo = std::stoul(part.substr(0, dash)), hi = dash == std::string::npos ? lo : std::stoul(part.substr(dash + 1));
      for (size_t t = lo; t <= hi; ++t) out[job + "_" + std::to_string(t)] = state;
    } catch (const std::exception&) {
    }
  }
}

}  // namespace

void check_slurm_time(const std::string& time, const std::string& flag) {
  // sbatch(1), --time: "minutes", "minutes:seconds", "hours:minutes:seconds", "days-hours",
  // "days-hours:minutes" and "days-hours:minutes:seconds" (https://slurm.schedmd.com/sbatch.html).
  static const std::regex format(R"(\d+(:\d+){0,2}|\d+-\d+(:\d+){0,2}|UNLIMITED|INFINITE)");
  if (!std::regex_match(time, format))
    throw InputError("command line", flag,
                     "expected a Slurm time limit (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS), got '" + time + "'");
}

void check_slurm_partition(const std::string& partition, const std::string& flag) {
  static const std::regex name(R"([A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*)");
  if (!std::regex_match(partition, name))
    throw InputError("command line", flag, "expected partition names (letters, digits, _ . -, comma-separated), got '" + partition + "'");
}

std::string array_ranges(const std::vector<size_t>& tasks) {
  std::string out;
  for (size_t i = 0; i < tasks.size();) {
    size_t j = i;
    while (j + 1 < tasks.size() && tasks[j + 1] == tasks[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(tasks[i]) + (j > i ? "-" + std::to_string(tasks[j]) : "");
    i = j + 1;
  }
  return out;
}

std::string array_script(const std::string& mhcsim, const std::string& dir, const std::string& logs_dir) {
  for (const auto& [what, path] : {std::pair{"the mhcsim executable", mhcsim}, std::pair{"the sweep directory", dir}})
    if (!plain_path(path))
      throw InputError(path, "", std::string(what) +
                                     ": its absolute path is written into the job script, so it may hold only letters, "
                                     "digits and / . _ + , : @ = -");
  return "#!/bin/bash\n"
         "# Written by mhcsim sweep --slurm: array task T computes point OFFSET+T of points.jsonl, OFFSET\n"
         "# being this script's argument (0 if absent), and writes results/KEY.json. Submitted by\n"
         "# mhcsim sweep --slurm and mhcsim sweep-collect --resubmit, which record the job in jobs.jsonl.\n"
         "#SBATCH --job-name=mhcsim-sweep\n"
         "#SBATCH --output=" + logs_dir + "/%A_%a.out\n"
         "#SBATCH --ntasks=1\n"
         "#SBATCH --cpus-per-task=1\n"
         "exec " + mhcsim + " sweep-point " + dir + " $(( ${1:-0} + SLURM_ARRAY_TASK_ID ))\n";
}

size_t slurm_max_array_size() {
  // slurm.conf(5), MaxArraySize: "The default value is 1001" (https://slurm.schedmd.com/slurm.conf.html).
  const size_t slurm_default = 1001;
  if (!program_on_path("scontrol")) return slurm_default;
  ProgramResult r = run_program({"scontrol", "show", "config"}, 30);
  static const std::regex line(R"(MaxArraySize\s*=\s*(\d+))");
  std::smatch m;
  if (r.started && r.status == 0 && std::regex_search(r.out, m, line)) return std::stoul(m[1]);
  return slurm_default;
}

std::vector<ArrayChunk> array_chunks(const std::vector<size_t>& indices, size_t max_array_size) {
  std::vector<ArrayChunk> chunks;
  // Array k covers the indices k * max_array_size ...: a small sweep is one array without offset.
  for (size_t index : indices) {
    const size_t offset = index / max_array_size * max_array_size;
    if (chunks.empty() || chunks.back().offset != offset) chunks.push_back({offset, {}});
    chunks.back().indices.push_back(index);
  }
  return chunks;
}

std::vector<std::string> sbatch_command(const std::string& script, const ArrayChunk& chunk, const SlurmOptions& o) {
  std::vector<size_t> tasks;
  for (size_t i : chunk.indices) tasks.push_back(i - chunk.offset);
  std::vector<std::string> cmd = {"sbatch", "--parsable",
                                  "--array=" + array_ranges(tasks) + (o.array_max > 0 ? "%" + std::to_string(o.array_max) : "")};
  if (!o.partition.empty()) cmd.push_back("--partition=" + o.partition);
  if (!o.time.empty()) cmd.push_back("--time=" + o.time);
  cmd.push_back(script);
  if (chunk.offset > 0) cmd.push_back(std::to_string(chunk.offset));
  return cmd;
}

std::string submit_array(const std::vector<std::string>& command) {
  ProgramResult r = run_program(command, 120);
  if (!r.started) throw std::runtime_error("sbatch could not be run: " + r.err);
  if (r.timed_out) throw std::runtime_error("sbatch did not answer within 120 s");
  // --parsable: "jobid" or "jobid;cluster".
  const std::string out = trim(r.out);
  const std::string job = out.substr(0, out.find(';'));
  if (r.status != 0 || job.empty() || !std::all_of(job.begin(), job.end(), ::isdigit))
    throw std::runtime_error("sbatch failed (exit status " + std::to_string(r.status) + "): " + trim(r.err + " " + r.out));
  return job;
}

std::map<std::string, std::string> slurm_task_states(const std::vector<std::string>& jobs, std::string& source) {
  std::map<std::string, std::string> states;
  source.clear();
  if (jobs.empty()) return states;
  auto parse = [&](const std::string& out) {
    std::stringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      const size_t bar = line.find('|');
      if (bar == std::string::npos) continue;
      std::string state = trim(line.substr(bar + 1));
      state = state.substr(0, state.find(' '));  // "CANCELLED by 0"
      add_task_states(trim(line.substr(0, bar)), state, states);
    }
  };
  // sacct knows every job when accounting is on; without it, it fails, and squeue still lists jobs
  // that ended less than MinJobAge ago (--states=all). squeue fails on a job it no longer knows, so
  // it is asked one job at a time.
  std::string list;
  for (const auto& j : jobs) list += (list.empty() ? "" : ",") + j;
  if (program_on_path("sacct")) {
    ProgramResult r = run_program(
        {"sacct", "--noheader", "--parsable2", "--allocations", "--jobs=" + list, "--format=JobID,State"}, 30);
    if (r.started && !r.timed_out && r.status == 0) {
      parse(r.out);
      source = "sacct";
      return states;
    }
  }
  if (program_on_path("squeue")) {
    for (const auto& job : jobs) {
      ProgramResult r =
          run_program({"squeue", "--noheader", "--array", "--states=all", "--jobs=" + job, "--format=%i|%T"}, 30);
      if (!r.started || r.timed_out) break;
      if (r.status == 0) parse(r.out), source = "squeue";
    }
  }
  return states;
}

bool slurm_state_active(const std::string& state) {
  static const std::vector<std::string> active = {"PENDING",    "RUNNING",   "CONFIGURING", "COMPLETING", "REQUEUED",
                                                  "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SUSPENDED", "SIGNALING",
                                                  "STAGE_OUT",   "RESV_DEL_HOLD"};
  return std::find(active.begin(), active.end(), state) != active.end();
}

}  // namespace mhc
