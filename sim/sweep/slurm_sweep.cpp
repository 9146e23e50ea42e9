#include "sweep/slurm_sweep.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "core/json_input.h"
#include "engine/child_process.h"
#include "scenario/scenario.h"
#include "sweep/program_run.h"
#include "sweep/sha256.h"

namespace mhc {

namespace fs = std::filesystem;

namespace {

std::string host_name() {
  char buf[256] = {};
  return ::gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string();
}

// "17_3" when run as an array task, else "".
std::string slurm_task_here() {
  const char* job = std::getenv("SLURM_ARRAY_JOB_ID");
  const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
  return job && task ? std::string(job) + "_" + task : std::string();
}

// The last submission of each point: index -> "JOB_TASK" and the job.
struct LastSubmission {
  std::string job;
  size_t task = 0;
};
std::map<size_t, LastSubmission> last_submissions(const SweepStore& store) {
  std::map<size_t, LastSubmission> last;
  for (const Submission& s : store.submissions())
    for (size_t i : s.indices) last[i] = {s.job, i - s.offset};
  return last;
}

// Slurm's state of each point's last task ("" when unknown).
std::map<size_t, std::string> point_states(const SweepStore& store, const std::vector<size_t>& indices,
                                           std::string& source) {
  const auto last = last_submissions(store);
  std::set<std::string> jobs;
  for (size_t i : indices)
    if (last.count(i)) jobs.insert(last.at(i).job);
  const auto states = slurm_task_states({jobs.begin(), jobs.end()}, source);
  std::map<size_t, std::string> out;
  for (size_t i : indices) {
    if (!last.count(i)) continue;
    auto it = states.find(last.at(i).job + "_" + std::to_string(last.at(i).task));
    if (it != states.end()) out[i] = it->second;
  }
  return out;
}

// Submits the points of `indices` that have no result and that Slurm will not run anyway.
void submit_points(const SweepStore& store, std::vector<size_t> indices, const SlurmOptions& options,
                   SubmitReport& report) {
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  const auto points = store.points();
  report.points = indices.size();
  std::vector<size_t> todo;
  for (size_t i : indices) {
    if (fs::exists(store.result_file(points.at(i).key))) ++report.finished;
    else todo.push_back(i);
  }
  std::string source;
  const auto states = point_states(store, todo, source);
  std::vector<size_t> submit;
  for (size_t i : todo) {
    auto it = states.find(i);
    if (it != states.end() && slurm_state_active(it->second)) ++report.queued;
    else submit.push_back(i);
  }
  if (submit.empty()) return;
  report.sbatch_missing = !options.dry_run && !program_on_path("sbatch");
  const bool run = !options.dry_run && !report.sbatch_missing;
  for (const ArrayChunk& chunk : array_chunks(submit, slurm_max_array_size())) {
    report.commands.push_back(sbatch_command(store.script_file(), chunk, options));
    if (!run) continue;
    try {
      const std::string job = submit_array(report.commands.back());
      store.add_submission({job, chunk.offset, chunk.indices});
      report.jobs.push_back(job);
    } catch (const std::runtime_error& e) {
      report.error = e.what();
      return;
    }
  }
}

}  // namespace

Simulator this_simulator() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find the running executable (/proc/self/exe): " + ec.message());
  return {exe.string(), sha256_file_hex(exe.string())};
}

std::string profiles_sha256(const Scenario& s) {
  std::string shas = sha256_file_hex(s.profile);
  for (const std::string& part : s.published_parts) shas += "+" + sha256_file_hex(part);
  return s.published_parts.empty() ? shas : sha256_hex(shas);
}

std::string point_key(const nlohmann::json& content, const std::string& profile_sha256, const std::string& simulator_sha256) {
  // nlohmann::json keeps object keys sorted, so dump() is canonical: key order and whitespace in the
  // files do not change a key.
  const nlohmann::json what = {{"scenario", content}, {"profile_sha256", profile_sha256}, {"mhcsim_sha256", simulator_sha256}};
  return sha256_hex(what.dump());
}

SubmitReport plan_slurm_sweep(const SweepRequest& req, const std::string& dir, const SlurmOptions& options,
                              const Simulator& simulator) {
  SweepGrid grid = expand_sweep(req);  // every bad input fails here, before anything is written
  SweepStore store(dir);
  const std::string script = array_script(simulator.path, store.dir(), store.logs_dir());
  store.create();
  auto lock = store.lock();

  std::map<std::string, std::string> profile_sha;  // profile path -> SHA-256 of its bytes
  // Each profile part (the measured profile and the published parts) copied once by its content.
  auto copy_of = [&](const std::string& profile) {
    if (!profile_sha.count(profile)) {
      const std::string sha = sha256_file_hex(profile);
      const auto bytes = read_file_if_exists(profile);
      if (!bytes) throw InputError(profile, "", "cannot read the profile");
      if (!fs::exists(store.profile_copy(sha))) write_file_atomically(store.profile_copy(sha), *bytes);
      profile_sha[profile] = sha;
    }
    return profile_sha[profile];
  };
  std::vector<PlannedPoint> planned;
  for (const SweepWork& w : grid.work) {
    std::vector<std::string> copies{"../profiles/" + copy_of(w.scenario.profile) + ".json"};
    for (const std::string& part : w.scenario.published_parts) copies.push_back("../profiles/" + copy_of(part) + ".json");
    const nlohmann::json content = scenario_content(req.scenario, w.overrides);
    PlannedPoint p;
    p.key = point_key(content, profiles_sha256(w.scenario), simulator.sha256);
    p.n = w.scenario.mhc.n;
    p.settings = grid.result.configs[w.config].settings;
    p.scenario = req.scenario;
    p.overrides = w.overrides;
    // The point's own scenario: loadable from anywhere, its profile parts the copies beside it.
    if (!fs::exists(store.point_scenario(p.key)))
      write_file_atomically(store.point_scenario(p.key), with_profile(content, copies).dump(2) + "\n");
    planned.push_back(std::move(p));
  }
  const std::vector<size_t> indices = store.add_points(planned);

  StoredSweep sweep;
  sweep.request = req;
  sweep.mhcsim = simulator.path;
  for (const SweepConfig& c : grid.result.configs) {
    SweepConfig stored;
    stored.settings = c.settings;
    stored.invalid = c.invalid;
    sweep.configs.push_back(stored);
    sweep.point_indices.emplace_back();
  }
  for (size_t k = 0; k < grid.work.size(); ++k) sweep.point_indices[grid.work[k].config].push_back(indices[k]);
  store.write_sweep(sweep);
  write_file_atomically(store.script_file(), script);
  fs::permissions(store.script_file(), fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add);

  SubmitReport report;
  submit_points(store, indices, options, report);
  return report;
}

PointOutcome run_stored_point(const std::string& dir, size_t index, const Simulator& simulator,
                              const SweepPointRunner& runner) {
  SweepStore store(dir);
  const auto points = store.points();
  if (index >= points.size())
    throw InputError(store.points_file(), "", "no point " + std::to_string(index) + ": it lists " +
                                                  std::to_string(points.size()) + " points");
  PointOutcome outcome;
  outcome.key = points[index].key;
  if (fs::exists(store.result_file(outcome.key))) {
    outcome.had_result = true;
    return outcome;
  }
  const auto start = std::chrono::steady_clock::now();
  nlohmann::json record = {{"key", outcome.key}, {"host", host_name()}, {"slurm_task", slurm_task_here()}};
  try {
    const std::string file = store.point_scenario(outcome.key);
    const Scenario scenario = load_scenario(file);
    const std::string key = point_key(scenario_content(file), profiles_sha256(scenario), simulator.sha256);
    if (key != outcome.key)
      throw std::runtime_error("the point's files or the mhcsim executable (" + simulator.path +
                               ") changed since the sweep was planned: its key is now " + key +
                               "; plan the sweep again with this mhcsim");
    const std::string out =
        run_in_child([&] { return runner(scenario); }, "sweep point " + std::to_string(index) + " (n = " +
                                                          std::to_string(scenario.mhc.n) + ")");
    record["report"] = nlohmann::json::parse(out);
  } catch (const std::exception& e) {
    outcome.failed = e.what();
    record["failed"] = outcome.failed;
    write_file_atomically(store.failure_file(outcome.key), record.dump(2) + "\n");
    return outcome;
  }
  record["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_file_atomically(store.result_file(outcome.key), record.dump() + "\n");
  std::error_code ignored;
  fs::remove(store.failure_file(outcome.key), ignored);
  return outcome;
}

CollectedSweep collect_slurm_sweep(const std::string& dir) {
  SweepStore store(dir);
  const StoredSweep sweep = store.read_sweep();
  const auto points = store.points();
  CollectedSweep c;
  c.request = sweep.request;
  std::set<size_t> seen;
  std::vector<size_t> unfinished_indices;
  for (size_t ci = 0; ci < sweep.configs.size(); ++ci) {
    SweepConfig config = sweep.configs[ci];
    for (size_t k = 0; k < sweep.point_indices[ci].size(); ++k) {
      const size_t index = sweep.point_indices[ci][k];
      if (index >= points.size())
        throw InputError(store.sweep_file(), "/configurations/" + std::to_string(ci) + "/points/" + std::to_string(k),
                         "point " + std::to_string(index) + " is not in points.jsonl (" + std::to_string(points.size()) +
                             " points)");
      const std::string& key = points[index].key;
      const int n = c.request.n_values.at(k);
      SweepPoint point;
      point.n = n;
      const bool first = seen.insert(index).second;
      if (auto text = read_file_if_exists(store.result_file(key))) {
        const JsonValue result = parse_json_text(*text, store.result_file(key));
        point = sweep_point_from_report(n, result.raw().at("report"));
      } else {
        UnfinishedPoint u;
        u.index = index;
        u.key = key;
        u.label = settings_label(config) + " n = " + std::to_string(n);
        if (auto failure = read_file_if_exists(store.failure_file(key)))
          u.failure = parse_json_text(*failure, store.failure_file(key)).raw().value("failed", std::string("?"));
        point.missing = u.failure.empty() ? "not finished" : "failed: " + u.failure;
        if (first) {
          c.unfinished.push_back(u);
          unfinished_indices.push_back(index);
        }
      }
      config.points.push_back(point);
    }
    c.result.configs.push_back(std::move(config));
  }
  c.points = seen.size();
  // Slurm's word on the unfinished points: in the list and, for those not yet run, in the table.
  const auto states = point_states(store, unfinished_indices, c.state_source);
  const auto last = last_submissions(store);
  std::map<size_t, std::string> state_of;
  for (auto& u : c.unfinished) {
    if (auto it = last.find(u.index); it != last.end()) {
      u.task = it->second.job + "_" + std::to_string(it->second.task);
      u.log = store.log_file(it->second.job, it->second.task);
    }
    if (auto it = states.find(u.index); it != states.end()) u.state = it->second;
    state_of[u.index] = u.state;
  }
  for (size_t ci = 0; ci < c.result.configs.size(); ++ci)
    for (size_t k = 0; k < c.result.configs[ci].points.size(); ++k) {
      SweepPoint& p = c.result.configs[ci].points[k];
      const size_t index = sweep.point_indices[ci][k];
      if (p.missing == "not finished" && !state_of[index].empty()) p.missing += " (Slurm: " + state_of[index] + ")";
    }
  recommend(c.request, c.result);
  return c;
}

SubmitReport resubmit_unfinished(const std::string& dir, const CollectedSweep& collected, const SlurmOptions& options) {
  SweepStore store(dir);
  auto lock = store.lock();
  std::vector<size_t> indices;
  for (const auto& u : collected.unfinished) indices.push_back(u.index);
  SubmitReport report;
  submit_points(store, indices, options, report);
  return report;
}

}  // namespace mhc
