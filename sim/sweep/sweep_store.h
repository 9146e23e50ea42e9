// A sweep directory, as `mhcsim sweep --slurm DIR` writes it and its array tasks and
// `mhcsim sweep-collect` read it. Points are content-addressed: a point's key is the SHA-256 of
// what it runs (the scenario's content, the profile's bytes, the mhcsim executable's bytes), so
// finished work is found again by content and a directory can be shared by several sweeps and users.
//
//   sweep.json          the sweep last planned here: its request and, per configuration and n, the
//                       point's index in points.jsonl
//   points.jsonl        every point ever planned here, one JSON line each, append-only (an index
//                       never changes meaning)
//   points/KEY.json     the point's scenario, self-contained (model and cluster inline, profile copy)
//   profiles/SHA.json   the profiles the points use, named by their SHA-256
//   results/KEY.json    a finished point: its report (as `mhcsim run --json` prints it)
//   results/KEY.failed.json   why a point failed, until it succeeds
//   sweep.sbatch        the job-array script; jobs.jsonl: every submission (job id, tasks)
//   logs/JOB_TASK.out   the array tasks' output
//
// Every file is written whole under a temporary name and renamed into place, so a reader never sees
// half a file.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_input.h"
#include "sweep/sweep.h"

namespace mhc {

// A point as points.jsonl records it.
struct PlannedPoint {
  size_t index = 0;
  std::string key;
  int n = 0;
  std::vector<std::string> settings;   // the varied settings of its (first) configuration
  std::string scenario;                // as given on the command line that planned it
  std::vector<std::string> overrides;  // every --set, the settings, /mhc/n
};

// One `sbatch` of the array script, as jobs.jsonl records it: array task t ran point offset + t.
struct Submission {
  std::string job;
  size_t offset = 0;
  std::vector<size_t> indices;
};

// The sweep last planned in a directory.
struct StoredSweep {
  SweepRequest request;
  std::vector<SweepConfig> configs;               // settings and invalid reasons; no points
  std::vector<std::vector<size_t>> point_indices;  // per configuration, per n
  std::string mhcsim;                              // the executable the array tasks run
};

class SweepStore {
 public:
  explicit SweepStore(std::string dir);  // the directory as given; paths below are absolute
  const std::string& dir() const { return dir_; }

  std::string sweep_file() const { return dir_ + "/sweep.json"; }
  std::string points_file() const { return dir_ + "/points.jsonl"; }
  std::string jobs_file() const { return dir_ + "/jobs.jsonl"; }
  std::string script_file() const { return dir_ + "/sweep.sbatch"; }
  std::string logs_dir() const { return dir_ + "/logs"; }
  std::string point_scenario(const std::string& key) const { return dir_ + "/points/" + key + ".json"; }
  std::string profile_copy(const std::string& sha) const { return dir_ + "/profiles/" + sha + ".json"; }
  std::string result_file(const std::string& key) const { return dir_ + "/results/" + key + ".json"; }
  std::string failure_file(const std::string& key) const { return dir_ + "/results/" + key + ".failed.json"; }
  std::string log_file(const std::string& job, size_t task) const;

  // Creates the directory and its sub-folders. InputError when it cannot.
  void create() const;
  std::vector<PlannedPoint> points() const;
  // Adds the points not yet listed (by key) and returns every point's index, in order.
  // Call under lock().
  std::vector<size_t> add_points(const std::vector<PlannedPoint>& points) const;
  void write_sweep(const StoredSweep& sweep) const;
  StoredSweep read_sweep() const;
  std::vector<Submission> submissions() const;
  void add_submission(const Submission& submission) const;

  // An exclusive lock on the directory (fcntl, so it holds across NFS clients) while planning.
  class Lock {
   public:
    explicit Lock(const std::string& file);
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    int fd_ = -1;
  };
  Lock lock() const { return Lock(dir_ + "/.lock"); }

 private:
  std::string dir_;
};

// Writes `text` to `path` whole: a temporary file in the same folder, then rename(). InputError
// naming the file when it cannot.
void write_file_atomically(const std::string& path, const std::string& text);
std::optional<std::string> read_file_if_exists(const std::string& path);

// The request as sweep.json stores it, and back (what a local sweep prints depends on it only).
nlohmann::json request_json(const SweepRequest& request);
SweepRequest request_from_json(const JsonValue& value);

}  // namespace mhc
