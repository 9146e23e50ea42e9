// Invalid requests become one clear InputError naming the command and the flag; the command's JSON,
// text and trace outputs carry what the issue asks for.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/schedule_command.h"
#include "core/json_input.h"
#include "schedule/schedule.h"

namespace mhc {
namespace {

template <typename F>
InputError capture(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an InputError";
  return InputError("", "", "");
}

TEST(ScheduleInputs, KindNamesAndAliases) {
  EXPECT_EQ(parse_schedule_kind("gpipe"), ScheduleKind::gpipe);
  EXPECT_EQ(parse_schedule_kind("1F1B"), ScheduleKind::one_f_one_b);
  EXPECT_EQ(parse_schedule_kind("interleaved"), ScheduleKind::interleaved);
  EXPECT_EQ(parse_schedule_kind("vpp"), ScheduleKind::interleaved);
  EXPECT_EQ(parse_schedule_kind("zb1p"), ScheduleKind::zb_h1);
  EXPECT_EQ(parse_schedule_kind("zb-h1"), ScheduleKind::zb_h1);
  EXPECT_EQ(parse_schedule_kind("zbh2"), ScheduleKind::zb_h2);
  EXPECT_EQ(parse_schedule_kind("dualpipe"), ScheduleKind::dualpipe);
  EXPECT_EQ(parse_schedule_kind("dualpipev"), ScheduleKind::dualpipe_v);
  EXPECT_EQ(parse_schedule_kind("dualpipe-v"), ScheduleKind::dualpipe_v);
  for (auto k : {ScheduleKind::gpipe, ScheduleKind::one_f_one_b, ScheduleKind::interleaved, ScheduleKind::zb_h1,
                 ScheduleKind::zb_h2, ScheduleKind::dualpipe, ScheduleKind::dualpipe_v})
    EXPECT_EQ(parse_schedule_kind(to_string(k)), k);
  auto e = capture([] { parse_schedule_kind("chimera"); });
  EXPECT_EQ(e.file(), "mhcsim schedule");
  EXPECT_EQ(e.path(), "--kind");
  EXPECT_NE(e.message().find("dualpipev"), std::string::npos) << e.message();
}

void expect_error(const ScheduleRequest& req, const std::string& path, const std::string& words) {
  auto e = capture([&] { generate_schedule(req); });
  EXPECT_EQ(e.file(), "mhcsim schedule");
  EXPECT_EQ(e.path(), path) << e.what();
  EXPECT_NE(e.message().find(words), std::string::npos) << e.what();
}

TEST(ScheduleInputs, InvalidRequestsNameTheFlag) {
  expect_error({ScheduleKind::dualpipe, 5, 20, 1}, "--stages", "even number of stages");
  expect_error({ScheduleKind::dualpipe_v, 7, 20, 1}, "--stages", "even");
  expect_error({ScheduleKind::dualpipe, 8, 14, 1}, "--micro", ">= 2 x stages (16)");
  expect_error({ScheduleKind::dualpipe, 8, 17, 1}, "--micro", "even number of micro-batches");
  expect_error({ScheduleKind::dualpipe_v, 8, 7, 1}, "--micro", "at least as many micro-batches as stages");
  expect_error({ScheduleKind::one_f_one_b, 8, 7, 1}, "--micro", "at least as many micro-batches as stages (8)");
  expect_error({ScheduleKind::zb_h1, 4, 3, 1}, "--micro", "at least as many");
  expect_error({ScheduleKind::zb_h2, 4, 3, 1}, "--micro", "at least as many");
  expect_error({ScheduleKind::interleaved, 4, 6, 2}, "--micro", "multiple of the stages");
  expect_error({ScheduleKind::one_f_one_b, 0, 8, 1}, "--stages", "at least 1");
  expect_error({ScheduleKind::gpipe, 4, 0, 1}, "--micro", "at least 1");
  expect_error({ScheduleKind::one_f_one_b, 4, 8, 2}, "--chunks", "only interleaved");
  expect_error({ScheduleKind::interleaved, 4, 8, 0}, "--chunks", "at least 1");
  expect_error({ScheduleKind::one_f_one_b, 4096, 16384, 1}, "--micro", "schedule too large: 201326592 tasks (limit 3145728)");
  expect_error({ScheduleKind::one_f_one_b, 4096, 1 << 20, 1}, "--micro", "at most 16384 micro-batches, got 1048576");
  expect_error({ScheduleKind::one_f_one_b, 4097, 4097, 1}, "--stages", "at most 4096 pipeline stages, got 4097");
  expect_error({ScheduleKind::interleaved, 4, 8, 1025}, "--chunks", "at most 1024 chunks per rank, got 1025");
}

TEST(ScheduleInputs, ErrorsCarryTheCallersNames) {
  ScheduleRequestSource src;
  src.origin = "scenarios/x.json";
  src.micro = "/parallel/micro_batches";
  try {
    generate_schedule({ScheduleKind::dualpipe, 4, 6, 1}, src);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("scenarios/x.json: /parallel/micro_batches: ", 0), 0u) << e.what();
  }
}

TEST(ScheduleInputs, LayersMustSplitOverTheModelStages) {
  validate_layers({ScheduleKind::one_f_one_b, 4, 8, 1}, 32);
  validate_layers({ScheduleKind::interleaved, 4, 8, 2}, 32);
  validate_layers({ScheduleKind::dualpipe_v, 8, 8, 1}, 16);
  auto e = capture([] { validate_layers({ScheduleKind::interleaved, 4, 8, 3}, 30); });
  EXPECT_EQ(e.path(), "--chunks");
  EXPECT_NE(e.message().find("30 layers do not split evenly over 4 stages x 3 chunks"), std::string::npos);
  e = capture([] { validate_layers({ScheduleKind::dualpipe, 16, 32, 1}, 61); });
  EXPECT_EQ(e.path(), "--stages");
  e = capture([] { validate_layers({ScheduleKind::one_f_one_b, 4, 8, 1}, 0); });
  EXPECT_EQ(e.path(), "--layers");
}

TEST(ScheduleInputs, NegativeOrInconsistentTimesAreRejected) {
  PhaseTimes t;
  validate_phase_times(t, "o", "--times");
  t.F = -1;
  auto e = capture([&] { validate_phase_times(t, "mhcsim schedule", "--times"); });
  EXPECT_EQ(e.path(), "--times");
  EXPECT_NE(e.message().find("F must be a finite time >= 0, got -1"), std::string::npos) << e.message();
  t = PhaseTimes{};
  t.W = 3;  // more than the full backward
  e = capture([&] { validate_phase_times(t, "mhcsim schedule", "--times"); });
  EXPECT_NE(e.message().find("must not exceed B"), std::string::npos);
}

TEST(ScheduleCommand, JsonHasTheRequestedShape) {
  std::ostringstream out;
  ASSERT_EQ(run_schedule_command({"--kind", "1f1b", "--stages", "4", "--micro", "8", "--json"}, out), 0);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["kind"], "1f1b");
  EXPECT_EQ(j["stages"], 4);
  EXPECT_EQ(j["micro"], 8);
  // Default times F=1, B=2: busy 8 x 3 = 24, bubble (P-1)(F+B) = 9.
  EXPECT_DOUBLE_EQ(j["makespan"].get<double>(), 33.0);
  ASSERT_EQ(j["ranks"].size(), 4u);
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(j["ranks"][r]["rank"], r);
    EXPECT_DOUBLE_EQ(j["ranks"][r]["busy"].get<double>(), 24.0);
    EXPECT_DOUBLE_EQ(j["ranks"][r]["bubble"].get<double>(), 9.0);
    EXPECT_EQ(j["ranks"][r]["peak_activations"], 4 - r);
  }
  EXPECT_EQ(j["times"]["FB"], 3.0);
}

TEST(ScheduleCommand, TimesFlagSetsFbToFPlusBUnlessGiven) {
  std::ostringstream a, b;
  run_schedule_command({"--kind", "dualpipe", "--stages", "4", "--micro", "8", "--times", "F=2,B=4,W=2", "--json"}, a);
  EXPECT_EQ(nlohmann::json::parse(a.str())["times"]["FB"], 6.0);
  run_schedule_command({"--kind", "dualpipe", "--stages", "4", "--micro", "8", "--times", "F=2,B=4,W=2,FB=5", "--json"}, b);
  auto j = nlohmann::json::parse(b.str());
  EXPECT_EQ(j["times"]["FB"], 5.0);
  // (P/2-1)(FB+B-3W) at W = F.
  double worst = 0;
  for (const auto& r : j["ranks"]) worst = std::max(worst, r["bubble"].get<double>());
  EXPECT_DOUBLE_EQ(worst, 1 * (5 + 4 - 6));
}

TEST(ScheduleCommand, TextShowsTableAndTimelineAndTraceIsValid) {
  const std::string path = std::string(MHC_BINARY_DIR) + "/test_schedule_trace.json";
  std::remove(path.c_str());
  std::ostringstream out;
  ASSERT_EQ(run_schedule_command({"--kind", "zb1p", "--stages", "4", "--micro", "8", "--trace", path}, out), 0);
  const std::string text = out.str();
  EXPECT_NE(text.find("peak activations"), std::string::npos);
  EXPECT_NE(text.find("r3  |"), std::string::npos) << text;
  EXPECT_NE(text.find("checks: ok"), std::string::npos);
  std::ifstream f(path);
  ASSERT_TRUE(f.good());
  auto trace = nlohmann::json::parse(f);
  std::set<int> pids;
  int complete = 0;
  for (const auto& ev : trace["traceEvents"]) {
    if (ev["ph"] == "X") {
      ++complete;
      pids.insert(ev["pid"].get<int>());
      EXPECT_GE(ev["dur"].get<double>(), 0.0);
    }
  }
  EXPECT_EQ(pids, (std::set<int>{0, 1, 2, 3}));
  EXPECT_EQ(complete, 4 * 8 * 3 + 2 * 3 * 8);  // F, B, W per micro-batch and rank + transfers
}

TEST(ScheduleCommand, BadFlagsAreInputErrors) {
  std::ostringstream out;
  auto e = capture([&] { run_schedule_command({"--stages", "4", "--micro", "8"}, out); });
  EXPECT_EQ(e.path(), "--kind");
  e = capture([&] { run_schedule_command({"--kind", "1f1b", "--stages", "4", "--micro", "8", "--times", "F=1,Q=2"}, out); });
  EXPECT_EQ(e.path(), "--times");
  e = capture([&] { run_schedule_command({"--kind", "1f1b", "--stages", "4", "--micro", "8", "--times", "B=-1"}, out); });
  EXPECT_EQ(e.path(), "--times");
  e = capture([&] { run_schedule_command({"--kind", "1f1b", "--stages", "4.5", "--micro", "8"}, out); });
  EXPECT_EQ(e.path(), "--stages");
  e = capture([&] { run_schedule_command({"--kind", "1f1b", "--stages", "4", "--micro", "8", "--layers", "30"}, out); });
  EXPECT_EQ(e.path(), "--stages");
  e = capture([&] { run_schedule_command({"--kind", "1f1b", "--stages", "4", "--micro", "8", "--trace", "/nonexistent/dir/t.json"}, out); });
  EXPECT_EQ(e.path(), "--trace");
}

}  // namespace
}  // namespace mhc
