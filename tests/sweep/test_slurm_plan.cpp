// A sweep as a Slurm job array, without Slurm: planning into a directory (dry run), the points run
// by hand as array tasks would run them, collecting, and the content-addressed keys.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/json_input.h"
#include "scenario/scenario.h"
#include "sweep/sha256.h"
#include "sweep/slurm_sweep.h"

using namespace mhc;
namespace fs = std::filesystem;

namespace {

const std::string kScenarios = std::string(MHC_SOURCE_DIR) + "/scenarios";
const std::string kSmall = kScenarios + "/small.json";

// A fresh directory per test.
std::string fresh_dir(const std::string& name) {
  const std::string dir = testing::TempDir() + "/mhc_slurm_plan_" + name + "_" + std::to_string(::getpid());
  fs::remove_all(dir);
  return dir;
}

std::string read(const std::string& path) { return read_file_if_exists(path).value_or("<missing " + path + ">"); }

SlurmOptions dry_run() {
  SlurmOptions o;
  o.dry_run = true;
  return o;
}

SweepRequest small_request(std::vector<int> n) {
  SweepRequest req;
  req.scenario = kSmall;
  req.n_values = std::move(n);
  req.jobs = 2;
  return req;
}

}  // namespace

TEST(SlurmPlan, ArrayListsChunksAndTheSbatchCommand) {
  EXPECT_EQ(array_ranges({0, 1, 2, 3, 5, 7, 8, 9}), "0-3,5,7-9");
  EXPECT_EQ(array_ranges({4}), "4");
  // Task ids stay below MaxArraySize: later indices go to arrays with an offset.
  auto chunks = array_chunks({0, 1, 1000, 1001, 2500}, 1001);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].offset, 0u);
  EXPECT_EQ(chunks[0].indices, (std::vector<size_t>{0, 1, 1000}));
  EXPECT_EQ(chunks[1].offset, 1001u);
  EXPECT_EQ(chunks[2].offset, 2002u);
  EXPECT_EQ(chunks[2].indices, (std::vector<size_t>{2500}));
  SlurmOptions o;
  o.partition = "gpu";
  o.time = "30";
  o.array_max = 2;
  EXPECT_EQ(sbatch_command("/d/sweep.sbatch", {1001, {1001, 1003}}, o),
            (std::vector<std::string>{"sbatch", "--parsable", "--array=0,2%2", "--partition=gpu", "--time=30",
                                      "/d/sweep.sbatch", "1001"}));
}

TEST(SlurmPlan, FlagsAndPathsThatSbatchOrTheShellWouldMisreadAreInputErrors) {
  for (const char* good : {"30", "1:30", "2:00:00", "1-12", "1-12:30", "1-12:30:00", "UNLIMITED"})
    EXPECT_NO_THROW(check_slurm_time(good, "--time")) << good;
  for (const char* bad : {"", "1h", "1:2:3:4", "-5", "1-", "30 --wrap=x"}) EXPECT_THROW(check_slurm_time(bad, "--time"), InputError) << bad;
  EXPECT_NO_THROW(check_slurm_partition("gpu,debug_2", "--partition"));
  for (const char* bad : {"", "a b", "gpu\n#SBATCH", "x;y"}) EXPECT_THROW(check_slurm_partition(bad, "--partition"), InputError) << bad;
  EXPECT_THROW(array_script("/usr/bin/mhc sim", "/d", "/d/logs"), InputError);
  EXPECT_THROW(array_script("/usr/bin/mhcsim", "/d/100%", "/d/100%/logs"), InputError);
  EXPECT_THROW(array_script("relative/mhcsim", "/d", "/d/logs"), InputError);
  EXPECT_NE(array_script("/usr/bin/mhcsim", "/d", "/d/logs").find("exec /usr/bin/mhcsim sweep-point /d $(( ${1:-0} + SLURM_ARRAY_TASK_ID ))"),
            std::string::npos);
}

TEST(SlurmPlan, AKeyFollowsContentNotPaths) {
  // The same scenario, model, cluster and profile copied under other names in another folder.
  const std::string dir = fresh_dir("copy");
  fs::create_directories(dir + "/elsewhere");
  fs::copy_file(kScenarios + "/models/small-moe.json", dir + "/m.json");
  fs::copy_file(std::string(MHC_SOURCE_DIR) + "/profiles/measured/h100-sxm-quick.json", dir + "/elsewhere/p.json");
  nlohmann::json cluster = nlohmann::json::parse(read(kScenarios + "/clusters/small-2x4.json"));
  cluster["gpu"]["profile"] = "elsewhere/p.json";
  std::ofstream(dir + "/c.json") << cluster.dump(4);  // other whitespace, too
  nlohmann::json scenario = nlohmann::json::parse(read(kSmall));
  scenario["model"] = "m.json";
  scenario["cluster"] = "c.json";
  std::ofstream(dir + "/s.json") << scenario.dump();

  const std::vector<std::string> overrides = {"/schedule/kind=zb1p", "/mhc/n=2"};
  const Scenario original = load_scenario(kSmall, overrides), copy = load_scenario(dir + "/s.json", overrides);
  const std::string simulator = sha256_hex("an mhcsim build");
  const std::string key = point_key(scenario_content(kSmall, overrides), sha256_file_hex(original.profile), simulator);
  EXPECT_EQ(point_key(scenario_content(dir + "/s.json", overrides), sha256_file_hex(copy.profile), simulator), key);
  EXPECT_EQ(key.size(), 64u);
  // What a run depends on changes it: the scenario, the profile's bytes, the simulator.
  EXPECT_NE(point_key(scenario_content(kSmall, {"/schedule/kind=zb1p", "/mhc/n=4"}), sha256_file_hex(original.profile), simulator), key);
  EXPECT_NE(point_key(scenario_content(kSmall, {"/schedule/kind=zb1p", "/mhc/n=2", "/model/layers=4"}),
                      sha256_file_hex(original.profile), simulator),
            key);
  std::ofstream(dir + "/elsewhere/p.json", std::ios::app) << " ";
  EXPECT_NE(point_key(scenario_content(dir + "/s.json", overrides), sha256_file_hex(copy.profile), simulator), key);
  EXPECT_NE(point_key(scenario_content(kSmall, overrides), sha256_file_hex(original.profile), sha256_hex("another build")), key);
  fs::remove_all(dir);
}

TEST(SlurmPlan, PointsRunAsArrayTasksCollectToWhatALocalSweepPrints) {
  SweepRequest req = small_request({1, 4});
  req.vary = {{"/schedule/kind", {"1f1b", "zb1p"}}, {"/parallelism/pp", {"4", "3"}}};  // pp 3: rejected
  req.max_overhead_pct = 60;
  const std::string dir = fresh_dir("collect");
  const Simulator sim = this_simulator();
  SubmitReport plan = plan_slurm_sweep(req, dir, dry_run(), sim);
  const SweepStore store(dir);
  EXPECT_EQ(plan.points, 4u);
  EXPECT_EQ(plan.finished, 0u);
  ASSERT_EQ(plan.commands.size(), 1u);
  EXPECT_EQ(plan.commands[0], (std::vector<std::string>{"sbatch", "--parsable", "--array=0-3", store.script_file()}));
  EXPECT_TRUE(plan.jobs.empty());
  EXPECT_EQ(store.points().size(), 4u);
  EXPECT_NE(read(store.script_file()).find(" sweep-point " + store.dir() + " "), std::string::npos);

  // Nothing has run: every valid point is listed, and none is recommended.
  CollectedSweep before = collect_slurm_sweep(dir);
  EXPECT_EQ(before.unfinished.size(), 4u);
  EXPECT_EQ(missing_points(before.result), 4u);
  EXPECT_FALSE(before.result.best_config);
  EXPECT_NE(sweep_text(before.request, before.result).find("not finished"), std::string::npos);

  for (size_t i = 0; i < 4; ++i) {
    const PointOutcome o = run_stored_point(dir, i, sim);
    EXPECT_EQ(o.failed, "") << i;
    EXPECT_TRUE(fs::exists(store.result_file(o.key)));
  }
  EXPECT_TRUE(run_stored_point(dir, 2, sim).had_result);  // a task run twice does nothing
  CollectedSweep after = collect_slurm_sweep(dir);
  EXPECT_TRUE(after.unfinished.empty());
  const SweepResult local = run_sweep(req, nullptr);
  EXPECT_EQ(sweep_text(after.request, after.result), sweep_text(req, local));
  EXPECT_EQ(sweep_json(after.request, after.result).dump(2), sweep_json(req, local).dump(2));

  // Planned again: everything is finished, nothing to submit.
  SubmitReport again = plan_slurm_sweep(req, dir, dry_run(), sim);
  EXPECT_EQ(again.finished, 4u);
  EXPECT_TRUE(again.commands.empty());
  fs::remove_all(dir);
}

TEST(SlurmPlan, AFailedPointIsRecordedListedResubmittedAndThenReplaced) {
  const SweepRequest req = small_request({1, 2});
  const std::string dir = fresh_dir("failed");
  const Simulator sim = this_simulator();
  plan_slurm_sweep(req, dir, dry_run(), sim);
  EXPECT_EQ(run_stored_point(dir, 0, sim).failed, "");
  const PointOutcome crashed = run_stored_point(dir, 1, sim, [](const Scenario&) -> std::string {
    ::raise(SIGKILL);
    return "";
  });
  EXPECT_NE(crashed.failed.find("killed by signal 9"), std::string::npos) << crashed.failed;
  const SweepStore store(dir);
  EXPECT_TRUE(fs::exists(store.failure_file(crashed.key)));

  CollectedSweep c = collect_slurm_sweep(dir);
  ASSERT_EQ(c.unfinished.size(), 1u);
  EXPECT_EQ(c.unfinished[0].index, 1u);
  EXPECT_EQ(c.unfinished[0].label, "the scenario as given n = 2");
  EXPECT_NE(c.unfinished[0].failure.find("killed by signal 9"), std::string::npos);
  EXPECT_EQ(c.unfinished[0].task, "");  // never submitted from this directory
  EXPECT_EQ(c.result.configs[0].points[1].missing, "failed: " + c.unfinished[0].failure);
  EXPECT_EQ(c.result.configs[0].recommended_n, 1);
  EXPECT_NE(c.result.configs[0].reason.find("n = 2 not considered: it has no result"), std::string::npos)
      << c.result.configs[0].reason;
  SubmitReport again = resubmit_unfinished(dir, c, dry_run());
  ASSERT_EQ(again.commands.size(), 1u);
  EXPECT_EQ(again.commands[0][2], "--array=1");

  EXPECT_EQ(run_stored_point(dir, 1, sim).failed, "");
  EXPECT_FALSE(fs::exists(store.failure_file(crashed.key)));
  EXPECT_TRUE(collect_slurm_sweep(dir).unfinished.empty());
  fs::remove_all(dir);
}

TEST(SlurmPlan, APointWhoseFilesOrSimulatorChangedIsNotComputed) {
  const std::string dir = fresh_dir("changed");
  Simulator sim = this_simulator();
  plan_slurm_sweep(small_request({1, 2}), dir, dry_run(), sim);
  const SweepStore store(dir);
  const auto points = store.points();
  // Point 0's scenario edited after planning.
  nlohmann::json edited = nlohmann::json::parse(read(store.point_scenario(points[0].key)));
  edited["mhc"]["sinkhorn_iters"] = 5;
  write_file_atomically(store.point_scenario(points[0].key), edited.dump());
  const PointOutcome o = run_stored_point(dir, 0, sim);
  EXPECT_NE(o.failed.find("changed since the sweep was planned"), std::string::npos) << o.failed;
  EXPECT_FALSE(fs::exists(store.result_file(points[0].key)));
  // Point 1 run by another build of mhcsim.
  sim.sha256 = sha256_hex("another build");
  EXPECT_NE(run_stored_point(dir, 1, sim).failed.find("changed since the sweep was planned"), std::string::npos);
  EXPECT_THROW(run_stored_point(dir, 2, sim), InputError);  // no such point
  fs::remove_all(dir);
}

TEST(SlurmPlan, SweepsSharingADirectoryShareTheirFinishedPoints) {
  const std::string dir = fresh_dir("shared");
  const Simulator sim = this_simulator();
  plan_slurm_sweep(small_request({1, 2}), dir, dry_run(), sim);
  for (size_t i = 0; i < 2; ++i) ASSERT_EQ(run_stored_point(dir, i, sim).failed, "");
  // Another sweep (another user) over n = 2, 4: n = 2 is found by its content.
  SubmitReport second = plan_slurm_sweep(small_request({2, 4}), dir, dry_run(), sim);
  EXPECT_EQ(second.points, 2u);
  EXPECT_EQ(second.finished, 1u);
  ASSERT_EQ(second.commands.size(), 1u);
  EXPECT_EQ(second.commands[0][2], "--array=2");  // indices never change meaning: the new point is appended
  const SweepStore store(dir);
  EXPECT_EQ(store.points().size(), 3u);
  EXPECT_EQ(store.read_sweep().point_indices[0], (std::vector<size_t>{1, 2}));
  fs::remove_all(dir);
}

TEST(SlurmPlan, BadInputFailsBeforeAnythingIsWritten) {
  const std::string dir = fresh_dir("bad");
  SweepRequest req = small_request({1});
  req.overrides = {"/parallelism/pp=3"};
  EXPECT_THROW(plan_slurm_sweep(req, dir, dry_run(), this_simulator()), InputError);
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_THROW(collect_slurm_sweep(dir), InputError);  // no sweep there
}
