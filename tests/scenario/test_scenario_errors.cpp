// A malformed or inconsistent scenario gets one clear error naming file, JSON path and expectation.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/json_input.h"
#include "scenario/scenario.h"

using namespace mhc;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A complete, valid scenario in a temporary folder, with its model and cluster as separate files.
class ScenarioFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mhcsim_scn_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "profile.json") << "{}";
    model_ = {{"name", "m"}, {"layers", 8}, {"hidden", 1024}, {"vocab", 32000}, {"seq_len", 2048},
              {"tied_embeddings", false},
              {"attention", {{"kind", "gqa"}, {"heads", 8}, {"kv_heads", 2}, {"head_dim", 128}, {"rope", true}}},
              {"ffn", {{"kind", "dense"}, {"activation", "swiglu"}, {"dense_dim", 4096}}},
              {"precision", "bf16"}};
    cluster_ = {{"name", "c"}, {"nodes", 2}, {"gpus_per_node", 4},
                {"gpu", {{"kind", "H100-SXM"}, {"memory_GB", 80}, {"sms", 132}, {"comm_sms", 20},
                         {"profile", "profile.json"}}},
                {"nvlink", {{"bandwidth_GBps", 450}, {"latency_us", 0.6}}},
                {"nics", {{"per_node", 4}, {"bandwidth_GBps", 50}, {"latency_us", 2.7}}},
                {"fabric", {{"topology", "fat_tree"}, {"nodes_per_leaf", 2}, {"oversubscription", 1},
                            {"hop_latency_us", 0}}}};
    scenario_ = {{"name", "s"}, {"model", "model.json"}, {"cluster", "cluster.json"},
                 {"mhc", {{"variant", "mhc"}, {"n", 4}, {"sinkhorn_iters", 20}, {"fused", true},
                          {"recompute", true}, {"recompute_block", "auto"}, {"high_priority_stream", false}}},
                 {"parallelism", {{"tp", 1}, {"pp", 4}, {"ep", 1}, {"dp", 2}, {"zero_stage", 1},
                                  {"micro_batch", 1}, {"global_batch", 16}}},
                 {"schedule", {{"kind", "1f1b"}}},
                 {"training", {{"recompute", "none"}, {"saved_activations", "as-computed"}, {"optimizer", "adamw"}}}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes the three files and returns the error message of loading (or "ok").
  std::string load() {
    std::ofstream(dir_ / "model.json") << model_.dump(2);
    std::ofstream(dir_ / "cluster.json") << cluster_.dump(2);
    std::ofstream(dir_ / "s.json") << scenario_.dump(2);
    try {
      load_scenario((dir_ / "s.json").string());
    } catch (const InputError& e) {
      std::string msg = e.what();
      // Report paths relative to the temporary folder.
      for (auto pos = msg.find(dir_.string() + "/"); pos != std::string::npos; pos = msg.find(dir_.string() + "/"))
        msg.erase(pos, dir_.string().size() + 1);
      return msg;
    }
    return "ok";
  }

  fs::path dir_;
  json model_, cluster_, scenario_;
};

}  // namespace

TEST_F(ScenarioFiles, ValidScenarioLoads) { EXPECT_EQ(load(), "ok"); }

TEST_F(ScenarioFiles, GemmDtypeWasReplacedByPrecision) {
  model_.erase("precision");
  model_["gemm_dtype"] = "fp8";
  EXPECT_EQ(load(), "model.json: /gemm_dtype: replaced by \"precision\": a recipe name (bf16, fp8-tensor, "
                    "deepseek-v3-fp8) or {gemm, moe_dispatch}");
}

TEST_F(ScenarioFiles, PrecisionPresetsAndObjects) {
  model_["precision"] = "fp8-blockwise";
  EXPECT_EQ(load(), "model.json: /precision: expected one of \"bf16\", \"fp8-tensor\", \"deepseek-v3-fp8\", got \"fp8-blockwise\"");
  model_["precision"] = {{"gemm", "fp8_block"}};
  EXPECT_EQ(load(), "model.json: /precision: missing required key \"moe_dispatch\"");
  model_["precision"] = {{"gemm", "fp8_block"}, {"moe_dispatch", "fp8"}};
  EXPECT_EQ(load(), "ok");
  // The scenario may run the model in another recipe.
  scenario_["precision"] = "deepseek-v3-fp8";
  std::ofstream(dir_ / "s.json") << scenario_.dump(2);
  EXPECT_EQ(load(), "ok");
  const Scenario s = load_scenario((dir_ / "s.json").string());
  EXPECT_EQ(s.model.precision.name, "deepseek-v3-fp8");
  EXPECT_EQ(s.model.precision.gemm, GemmRecipe::fp8_block);
  EXPECT_EQ(s.model.precision.moe_dispatch, DType::fp8);
}

TEST_F(ScenarioFiles, AttentionWindowAndRope) {
  model_["attention"].erase("rope");
  EXPECT_EQ(load(), "model.json: /attention: missing required key \"rope\"");
  model_["attention"]["rope"] = true;
  model_["attention"]["window"] = 2048;
  EXPECT_EQ(load(), "model.json: /attention/window: a sliding window must be shorter than seq_len (2048), got 2048");
  model_["attention"]["window"] = 512;
  model_["attention"]["sparse_topk"] = 256;
  EXPECT_EQ(load(), "model.json: /attention/sparse_topk: a layer attends either in a sliding window or to selected "
                    "keys, not both");
}

TEST_F(ScenarioFiles, ProfileListNamesEveryFile) {
  cluster_["gpu"]["profile"] = {"profile.json", "published.json"};
  EXPECT_EQ(load().rfind("cluster.json: /gpu/profile/1: profile file not found: ", 0), 0u) << load();
  std::ofstream(dir_ / "published.json") << "{}";
  EXPECT_EQ(load(), "ok");
  scenario_["parallelism"]["moe_imbalance"] = 0.5;
  EXPECT_EQ(load(), "s.json: /parallelism/moe_imbalance: the busiest GPU's routed rows over the mean: must be "
                    "between 1 (balanced) and ep = 1 (every row on one GPU), got 0.5");
  scenario_["parallelism"]["moe_imbalance"] = 2.5;
  EXPECT_EQ(load(), "s.json: /parallelism/moe_imbalance: the busiest GPU's routed rows over the mean: must be "
                    "between 1 (balanced) and ep = 1 (every row on one GPU), got 2.5");
}

TEST_F(ScenarioFiles, MissingKey) {
  scenario_["mhc"].erase("n");
  EXPECT_EQ(load(), "s.json: /mhc: missing required key \"n\"");
}

TEST_F(ScenarioFiles, WrongType) {
  scenario_["parallelism"]["pp"] = "four";
  EXPECT_EQ(load(), "s.json: /parallelism/pp: expected an integer, got a string \"four\"");
}

TEST_F(ScenarioFiles, UnknownKeyIsRejected) {
  scenario_["mhc"]["expansion"] = 4;
  EXPECT_EQ(load().rfind("s.json: /mhc/expansion: unknown key (accepted here: ", 0), 0u) << load();
}

TEST_F(ScenarioFiles, PpMustDivideLayers) {
  scenario_["parallelism"]["pp"] = 3;
  scenario_["parallelism"]["dp"] = 2;
  cluster_["nodes"] = 3;
  cluster_["gpus_per_node"] = 2;
  cluster_["nics"]["per_node"] = 2;
  EXPECT_EQ(load(),
            "s.json: /parallelism/pp: the schedule's model stages (3) must divide model.layers (8), got pp 3; "
            "give parallelism.stage_layers for an uneven split");
}

TEST_F(ScenarioFiles, StageLayersMustAddUp) {
  scenario_["parallelism"]["stage_layers"] = {2, 2, 2, 1};
  EXPECT_EQ(load(), "s.json: /parallelism/stage_layers: must add up to model.layers (8), got 7");
}

TEST_F(ScenarioFiles, ExpansionRateAtLeastOne) {
  scenario_["mhc"]["n"] = 0;
  EXPECT_EQ(load(), "s.json: /mhc/n: must be an integer in 1..16, got 0");
}

TEST_F(ScenarioFiles, ResidualHasOneStream) {
  scenario_["mhc"]["variant"] = "residual";
  EXPECT_EQ(load(), "s.json: /mhc/n: a plain residual has one stream: n must be 1, got 4");
}

TEST_F(ScenarioFiles, NegativeBandwidthInClusterFile) {
  cluster_["nvlink"]["bandwidth_GBps"] = -450;
  EXPECT_EQ(load(), "cluster.json: /nvlink/bandwidth_GBps: must be between 0.1 and 1e+09, got -450");
}

TEST_F(ScenarioFiles, DanglingModelReference) {
  scenario_["model"] = "models/nope.json";
  EXPECT_EQ(load(), "models/nope.json: cannot open file");
}

TEST_F(ScenarioFiles, DanglingProfileReference) {
  cluster_["gpu"]["profile"] = "missing-profile.json";
  EXPECT_EQ(load(), "cluster.json: /gpu/profile: profile file not found: missing-profile.json");
}

TEST_F(ScenarioFiles, LayoutMustFillTheCluster) {
  scenario_["parallelism"]["dp"] = 4;
  EXPECT_EQ(load(), "s.json: /parallelism/dp: tp x pp x dp (16) must equal the cluster's GPUs (8)");
}

TEST_F(ScenarioFiles, BatchMustSplitIntoMicroBatches) {
  scenario_["parallelism"]["global_batch"] = 15;
  EXPECT_EQ(load(), "s.json: /parallelism/global_batch: must be a multiple of dp x micro_batch (2), got 15");
}

TEST_F(ScenarioFiles, DenseModelHasNoExpertParallelism) {
  scenario_["parallelism"]["ep"] = 2;
  EXPECT_EQ(load(), "s.json: /parallelism/ep: a dense model has no experts: ep must be 1, got 2");
}

TEST_F(ScenarioFiles, RecomputeBlockCannotCrossStages) {
  scenario_["mhc"]["recompute_block"] = 5;
  EXPECT_EQ(load(),
            "s.json: /mhc/recompute_block: blocks never cross pipeline stages: must be <= the smallest stage's "
            "sublayers (4), got 5");
}

TEST_F(ScenarioFiles, UnknownScheduleKind) {
  scenario_["schedule"]["kind"] = "2f2b";
  EXPECT_EQ(load().rfind("s.json: /schedule/kind: expected one of \"gpipe\"", 0), 0u) << load();
}

TEST_F(ScenarioFiles, SyntaxError) {
  std::ofstream(dir_ / "model.json") << model_.dump(2);
  std::ofstream(dir_ / "cluster.json") << cluster_.dump(2);
  std::ofstream(dir_ / "s.json") << "{\"name\": \"s\",";
  try {
    load_scenario((dir_ / "s.json").string());
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("s.json: not valid JSON"), std::string::npos) << e.what();
  }
}

TEST_F(ScenarioFiles, OverridesReachIntoReferencedFiles) {
  std::ofstream(dir_ / "model.json") << model_.dump(2);
  std::ofstream(dir_ / "cluster.json") << cluster_.dump(2);
  std::ofstream(dir_ / "s.json") << scenario_.dump(2);
  auto s = load_scenario((dir_ / "s.json").string(), {"/mhc/n=8", "/model/layers=16", "/cluster/nvlink/bandwidth_GBps=160"});
  EXPECT_EQ(s.mhc.n, 8);
  EXPECT_EQ(s.model.layers, 16);
  EXPECT_DOUBLE_EQ(s.cluster.nvlink.bandwidth_Bps, 160e9);
  try {
    load_scenario((dir_ / "s.json").string(), {"/mhc/n=-1"});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).substr(std::string(e.what()).find("s.json")), "s.json: /mhc/n: must be an integer in 1..16, got -1");
  }
}

#include "schedule/scenario_schedule.h"

TEST_F(ScenarioFiles, TooFewMicroBatchesForTheSchedule) {
  scenario_["schedule"]["kind"] = "dualpipe";
  scenario_["parallelism"]["global_batch"] = 12;  // 6 micro-batches per pipeline, DualPipe needs >= 8
  ASSERT_EQ(load(), "ok");
  auto s = load_scenario((dir_ / "s.json").string());
  try {
    check_scenario_schedule(s);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), "/parallelism/global_batch");
    EXPECT_NE(e.message().find("= 6 micro-batches per pipeline: dualpipe needs an even number of micro-batches >= 2 x stages"),
              std::string::npos)
        << e.what();
  }
}

// Issue 20: every integer is read as int64 against the field's range, never narrowed to 32 bits
// (2^32 became 0: a division by zero in the pp, tp, ep, NIC and plane checks, or n = 0 accepted).
TEST_F(ScenarioFiles, IntegersAreNeverNarrowed) {
  const int64_t two32 = int64_t{1} << 32;
  for (const char* key : {"tp", "pp", "ep", "dp"}) {
    auto saved = scenario_["parallelism"][key];
    scenario_["parallelism"][key] = two32;
    EXPECT_EQ(load(), std::string("s.json: /parallelism/") + key + ": must be an integer in 1..8, got 4294967296");
    scenario_["parallelism"][key] = saved;
  }
  scenario_["mhc"]["n"] = two32;
  EXPECT_EQ(load(), "s.json: /mhc/n: must be an integer in 1..16, got 4294967296");
  scenario_["mhc"]["n"] = 4;
  cluster_["nics"]["per_node"] = two32;
  EXPECT_EQ(load(), "cluster.json: /nics/per_node: must be an integer in 1..4, got 4294967296");
  cluster_["nics"]["per_node"] = 4;
  cluster_["fabric"]["planes"] = two32;
  EXPECT_EQ(load(), "cluster.json: /fabric/planes: must be an integer in 1..4, got 4294967296");
}

TEST_F(ScenarioFiles, FieldsHaveTheirRealRanges) {
  scenario_["parallelism"]["zero_stage"] = INT64_MAX;
  EXPECT_EQ(load(), "s.json: /parallelism/zero_stage: must be an integer in 0..3, got 9223372036854775807");
  scenario_["parallelism"]["zero_stage"] = 1;
  cluster_["nodes"] = int64_t{1} << 31;  // total_gpus() wrapped
  EXPECT_EQ(load(), "cluster.json: /nodes: must be an integer in 1..65536, got 2147483648");
  cluster_["nodes"] = 2;
  model_["attention"]["head_dim"] = int64_t{1} << 40;  // signed overflow in attention FLOPs
  EXPECT_EQ(load(), "model.json: /attention/head_dim: must be an integer in 1..2048, got 1099511627776");
  model_["attention"]["head_dim"] = 128;
  model_["layers"] = 2147483640;  // validate looped over every recompute block for 21 s
  EXPECT_EQ(load(), "model.json: /layers: must be an integer in 1..1024, got 2147483640");
  model_["layers"] = 8;
  scenario_["mhc"]["sinkhorn_iters"] = 1001;
  EXPECT_EQ(load(), "s.json: /mhc/sinkhorn_iters: must be an integer in 1..1000, got 1001");
  scenario_["mhc"]["sinkhorn_iters"] = 20;
  cluster_["nvlink"]["latency_us"] = 1e300;
  EXPECT_EQ(load(), "cluster.json: /nvlink/latency_us: must be between 0 and 10000, got 1e+300");
  cluster_["nvlink"]["latency_us"] = 0.6;
  cluster_["nics"]["bandwidth_GBps"] = 1e-30;  // SimGrid would take ages or deadlock
  EXPECT_EQ(load(), "cluster.json: /nics/bandwidth_GBps: must be between 0.1 and 1e+09, got 1e-30");
  cluster_["nics"]["bandwidth_GBps"] = 50;
  EXPECT_EQ(load(), "ok");
}

TEST_F(ScenarioFiles, StepSizeIsBounded) {
  scenario_["parallelism"]["global_batch"] = 1 << 20;  // 2^19 micro-batches per pipeline
  EXPECT_EQ(load(), "s.json: /parallelism/global_batch: global_batch / (dp x micro_batch) = 524288 micro-batches per "
                    "pipeline; at most 16384 are simulated");
  scenario_["parallelism"]["global_batch"] = 16;
  scenario_["parallelism"]["micro_batch"] = 1 << 14;  // x 2048 tokens
  EXPECT_EQ(load(), "s.json: /parallelism/micro_batch: micro_batch x model.seq_len (33554432 tokens) must be at most 16777216");
}

TEST_F(ScenarioFiles, NvlinkRejectsUnknownKeys) {
  cluster_["nvlink"]["bandwith_GBps"] = 450;
  EXPECT_EQ(load(), "cluster.json: /nvlink/bandwith_GBps: unknown key (accepted here: bandwidth_GBps, latency_us)");
}

TEST_F(ScenarioFiles, DuplicateKeysAreErrors) {
  std::ofstream(dir_ / "model.json") << model_.dump(2);
  std::ofstream(dir_ / "cluster.json") << cluster_.dump(2);
  std::string text = scenario_.dump(2);
  text.replace(text.find("\"n\": 4"), 6, "\"n\": 4, \"n\": 8");
  std::ofstream(dir_ / "s.json") << text;
  try {
    load_scenario((dir_ / "s.json").string());
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), "/mhc/n");
    EXPECT_EQ(e.message(), "duplicate key (each key may appear once in an object)");
  }
}

TEST_F(ScenarioFiles, SetValuesAreCheckedLikeFiles) {
  scenario_["parallelism"]["stage_layers"] = {2, 2, 2, 2};
  ASSERT_EQ(load(), "ok");
  const std::string file = (dir_ / "s.json").string();
  auto error = [&](const std::string& item) {
    try {
      load_scenario(file, {item});
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("/mhc/n=1e400"),
            "--set: /mhc/n: the value: not valid JSON at byte 5: number overflow parsing '1e400'");
  EXPECT_EQ(error("/name=\xff"), "--set: /name=\\xFF: not valid UTF-8");
  EXPECT_EQ(error("/na\xffme=x"), "--set: /na\\xFFme=x: not valid UTF-8");
  EXPECT_EQ(error("/mhc/n=" + std::string(50000, '[') + std::string(50000, ']')).substr(0, 40),
            "--set: /mhc/n: the value at /0/0/0/0/0/0");
  EXPECT_EQ(error("/mhc/n={\"a\": 1, \"a\": 2}"), "--set: /mhc/n: the value at /a: duplicate key (each key may appear once in an object)");
  EXPECT_EQ(error("/~2=1"), "--set: /~2: not a valid JSON pointer");
  // An array index too large for size_t, under an existing array.
  EXPECT_NE(error("/parallelism/stage_layers/99999999999999999999/x=1")
                .find("s.json: /parallelism/stage_layers/99999999999999999999/x: --set: "),
            std::string::npos);
  // A bare word is a string, as before.
  EXPECT_EQ(error("/schedule/kind=gpipe"), "no error");
}

TEST_F(ScenarioFiles, MessagesNeverPrintAnUnboundedValue) {
  json deep = 1;
  for (int i = 0; i < 60; ++i) deep = json::array({deep});
  scenario_["mhc"]["n"] = deep;
  EXPECT_EQ(load(), "s.json: /mhc/n: expected an integer, got an array of 1 item");
  scenario_["mhc"]["n"] = std::string(1 << 20, 'x');
  const std::string msg = load();
  EXPECT_LT(msg.size(), 200u);
  EXPECT_EQ(msg.rfind("s.json: /mhc/n: expected an integer, got a string \"xxx", 0), 0u) << msg;
  EXPECT_NE(msg.find("... (1048576 bytes)\""), std::string::npos) << msg;
}

// Node-limited MoE routing and DeepEP's layout (cost/moe_traffic.h): the field's range, and the
// EP layouts the rail all-to-all cannot route.
TEST_F(ScenarioFiles, MaxNodesPerTokenIsCheckedAgainstItsRangeAndTheEpLayout) {
  model_["ffn"] = {{"kind", "moe"},         {"activation", "swiglu"}, {"expert_dim", 512},
                   {"routed_experts", 16},  {"top_k", 6},             {"shared_experts", 0},
                   {"dense_layers", 0},     {"max_nodes_per_token", 0}};
  EXPECT_EQ(load(), "model.json: /ffn/max_nodes_per_token: must be an integer in 1..65536, got 0");
  // 8 GPUs: TP1 PP1 DP8, EP8 over both nodes (4 + 4): one node holds 8 experts, top-6 fits.
  model_["ffn"]["max_nodes_per_token"] = 1;
  scenario_["parallelism"] = {{"tp", 1}, {"pp", 1}, {"ep", 8}, {"dp", 8}, {"zero_stage", 1},
                              {"micro_batch", 1}, {"global_batch", 16}, {"ep_all_to_all", "rail"}};
  scenario_["parallelism"].erase("stage_layers");
  EXPECT_EQ(load(), "ok");
  model_["ffn"]["top_k"] = 9;
  EXPECT_EQ(load(), "s.json: /parallelism/ep: with model.ffn.max_nodes_per_token = 1, a token's 9 experts "
                    "(model.ffn.top_k) must fit on 1 of the EP group's 2 nodes, which hold 8 experts each; got ep 8");
  model_["ffn"]["max_nodes_per_token"] = 2;
  EXPECT_EQ(load(), "ok");
  // 3 nodes of 4: EP6 straddles two of them unevenly (4 + 2).
  cluster_["nodes"] = 3;
  cluster_["fabric"]["nodes_per_leaf"] = 3;
  model_["ffn"]["routed_experts"] = 12;
  model_["ffn"]["top_k"] = 2;
  scenario_["parallelism"]["ep"] = 6;
  scenario_["parallelism"]["dp"] = 12;
  scenario_["parallelism"]["global_batch"] = 24;
  EXPECT_EQ(load(), "s.json: /parallelism/ep: the rail all-to-all needs the same EP members on every node: ep x tp (6) "
                    "must divide or be a multiple of the GPUs of one node (4), got ep 6");
}

TEST_F(ScenarioFiles, NcclMeasurementsAreChecked) {
  json m = {{"id", "x"}, {"link", "nvlink"}, {"op", "all_reduce"}, {"gpus", 8}, {"bytes", 4294967296.0},
            {"busbw_GBps", 475}, {"source", "nccl-tests #272"}};
  cluster_["nccl_measured"] = json::array({m});
  EXPECT_EQ(load(), "cluster.json: /nccl_measured/0/gpus: an nvlink measurement runs inside one node: expected at "
                    "most 4 GPUs, got 8 (a cluster that cannot host it needs nccl_measured [])");
  m["gpus"] = 4;
  m["link"] = "pcie";
  cluster_["nccl_measured"] = json::array({m});
  EXPECT_EQ(load().rfind("cluster.json: /nccl_measured/0/link: ", 0), 0u) << load();
  m["link"] = "network";
  m["gpus"] = 8;
  m["source"] = "";
  cluster_["nccl_measured"] = json::array({m});
  EXPECT_EQ(load(), "cluster.json: /nccl_measured/0/source: expected the published source of the figure");
  m["source"] = "s";
  cluster_["nccl_measured"] = json::array({m, m});
  EXPECT_EQ(load(), "cluster.json: /nccl_measured/1: id 'x' appears twice");
  cluster_["nccl_measured"] = json::array();  // none: NCCL's tuner bandwidth
  EXPECT_EQ(load(), "ok");
}

TEST_F(ScenarioFiles, OnlyEndStagesMayHoldNoLayers) {
  scenario_["parallelism"]["stage_layers"] = {2, 0, 3, 3};
  EXPECT_EQ(load(), "s.json: /parallelism/stage_layers: stage 1 holds no layers: only the first stage (the embedding) "
                    "or the last (the loss head) may hold none");
  scenario_["parallelism"]["stage_layers"] = {0, 4, 4, 0};  // embedding alone, loss head alone
  EXPECT_EQ(load(), "ok");
  // A set recompute block is checked against the smallest stage that holds layers.
  scenario_["mhc"]["recompute_block"] = 9;
  EXPECT_EQ(load(), "s.json: /mhc/recompute_block: blocks never cross pipeline stages: must be <= the smallest "
                    "stage's sublayers (8), got 9");
}

TEST_F(ScenarioFiles, EpSpanningTpRanksHoldsWholeTpGroups) {
  cluster_["nodes"] = 3;  // 12 GPUs: TP4 x DP3
  cluster_["fabric"]["nodes_per_leaf"] = 3;
  model_["ffn"] = {{"kind", "moe"},        {"activation", "swiglu"}, {"expert_dim", 512}, {"routed_experts", 12},
                   {"top_k", 2},           {"shared_experts", 0},    {"dense_layers", 0}};
  scenario_["parallelism"]["tp"] = 4;
  scenario_["parallelism"]["pp"] = 1;
  scenario_["parallelism"]["dp"] = 3;
  scenario_["parallelism"]["global_batch"] = 6;
  scenario_["parallelism"]["ep"] = 6;  // does not divide dp: spans TP ranks, but not whole TP groups
  EXPECT_EQ(load(), "s.json: /parallelism/ep: an EP group that does not divide dp (3) spans TP ranks and holds "
                    "whole TP groups: must be a multiple of tp (4), got 6");
  scenario_["parallelism"]["ep"] = 12;  // all three TP groups
  EXPECT_EQ(load(), "ok");
  scenario_["parallelism"]["ep"] = 3;   // divides dp: one GPU per replica, as before
  EXPECT_EQ(load(), "ok");
}

TEST_F(ScenarioFiles, DeepEpMeasurementsAreChecked) {
  json m = {{"id", "x"},       {"kernel", "dispatch"}, {"counted", "nvlink"}, {"ep", 8},
            {"tokens", 4096},  {"hidden", 7168},       {"experts", 32},       {"top_k", 8},
            {"max_nodes", 1},  {"payload", "fp8"},     {"bandwidth_GBps", 153}, {"sms", 24},
            {"source", "DeepEP README"}};
  cluster_["deepep_measured"] = json::array({m});
  EXPECT_EQ(load(), "cluster.json: /deepep_measured/0/ep: an nvlink figure is DeepEP's intranode kernel: expected at "
                    "most 4 GPUs, got 8");
  m["counted"] = "rdma";
  m["experts"] = 30;
  cluster_["deepep_measured"] = json::array({m});
  EXPECT_EQ(load(), "cluster.json: /deepep_measured/0/experts: expected a multiple of ep (8: the experts spread "
                    "evenly), got 30");
  m["experts"] = 32;
  m["top_k"] = 17;  // 16 experts on the one node a token may reach
  cluster_["deepep_measured"] = json::array({m});
  EXPECT_EQ(load().rfind("cluster.json: /deepep_measured/0/top_k: ", 0), 0u) << load();
  m["top_k"] = 8;
  m["kernel"] = "combine";
  cluster_["deepep_measured"] = json::array({m});
  EXPECT_EQ(load(), "cluster.json: /deepep_measured/0/payload: DeepEP's combine is BF16 only (its README: FP8 "
                    "dispatching, BF16 combining)");
  m["payload"] = "bf16";
  cluster_["deepep_measured"] = json::array({m, m});
  EXPECT_EQ(load(), "cluster.json: /deepep_measured/1: id 'x' appears twice");
  cluster_["deepep_measured"] = json::array({m});
  EXPECT_EQ(load(), "ok");
  cluster_["deepep_measured"] = json::array();  // none: DeepEP at the links' rates
  EXPECT_EQ(load(), "ok");
}

// An object form of saved_activations may start from a preset and change one thing.
TEST_F(ScenarioFiles, SavedActivationsObjectStartsFromAPreset) {
  scenario_["training"]["saved_activations"] = {{"preset", "deepseek-v3"}, {"fold_routing_weights", true}};
  // Folding the routing weight needs MoE layers, also when the object starts from a preset.
  EXPECT_EQ(load(), "s.json: /training/saved_activations: fold_routing_weights: the model has no MoE layers");
  model_["ffn"] = {{"kind", "moe"},        {"activation", "swiglu"}, {"expert_dim", 512}, {"routed_experts", 16},
                   {"top_k", 2},           {"shared_experts", 0},    {"dense_layers", 0}};
  ASSERT_EQ(load(), "ok");
  const Scenario s = load_scenario((dir_ / "s.json").string());
  const SavedActivationsSpec& k = s.training.saved_activations;
  EXPECT_EQ(k.name, "deepseek-v3, modified");
  EXPECT_TRUE(k.fold_routing_weights);
  ASSERT_NE(k.format_for("attention_output"), nullptr);
  EXPECT_EQ(k.format_for("attention_output")->name, "e5m6");
  EXPECT_EQ(k.format_for("moe_activation_input")->name, "fp8");
  // A listed tensor overrides the preset's format for it.
  scenario_["training"]["saved_activations"] = {{"preset", "deepseek-v3"}, {"tensors", {{"attention_output", "bf16"}}}};
  ASSERT_EQ(load(), "ok");
  EXPECT_EQ(load_scenario((dir_ / "s.json").string()).training.saved_activations.format_for("attention_output")->name,
            "bf16");
  scenario_["training"]["saved_activations"] = {{"preset", "deepseek"}};
  EXPECT_EQ(load(), "s.json: /training/saved_activations/preset: expected one of \"as-computed\", \"deepseek-v3\", got "
                    "\"deepseek\"");
}

// DeepSeek-V4's attention: one ratio per layer and MTP module, 0 or at least 2, its fields required,
// no tensor parallelism.
TEST_F(ScenarioFiles, CompressedAttentionIsChecked) {
  model_["attention"] = {{"kind", "compressed"}, {"heads", 8}, {"head_dim", 128}, {"rope_dim", 64}, {"q_rank", 256},
                         {"window", 128}, {"output_groups", 2}, {"output_rank", 256}, {"sparse_ratio", 4},
                         {"indexer", {{"heads", 4}, {"head_dim", 64}, {"topk", 64}}},
                         {"compress_ratios", {0, 4, 128, 4, 128, 4, 128, 4}}};
  EXPECT_EQ(load(), "ok");
  model_["attention"]["compress_ratios"] = {0, 4, 128};
  EXPECT_EQ(load(), "model.json: /attention/compress_ratios: expected one ratio per layer and MTP module (8), got 3");
  model_["mtp_depth"] = 1;
  model_["attention"]["compress_ratios"] = {0, 4, 128, 4, 128, 4, 128, 4};
  EXPECT_EQ(load(), "model.json: /attention/compress_ratios: expected one ratio per layer and MTP module (9), got 8");
  model_.erase("mtp_depth");
  model_["attention"]["compress_ratios"] = {0, 4, 128, 4, 1, 4, 128, 4};
  EXPECT_EQ(load(), "model.json: /attention/compress_ratios/4: a ratio of 1 compresses nothing: expected 0 (the window "
                    "alone) or at least 2");
  model_["attention"]["compress_ratios"] = {0, 4, 128, 4, 128, 4, 128, -4};
  EXPECT_EQ(load().rfind("model.json: /attention/compress_ratios/7: ", 0), 0u) << load();
  model_["attention"]["compress_ratios"] = {0, 4, 128, 4, 128, 4, 128, 4};
  model_["attention"]["output_groups"] = 3;
  EXPECT_EQ(load(), "model.json: /attention/output_groups: must divide heads (8), got 3");
  model_["attention"]["output_groups"] = 2;
  model_["attention"].erase("indexer");
  EXPECT_EQ(load(), "model.json: /attention: missing required key \"indexer\"");
  model_["attention"]["indexer"] = {{"heads", 4}, {"head_dim", 64}, {"topk", 64}};
  model_["attention"]["kind"] = "csa";
  EXPECT_EQ(load(), "model.json: /attention/kind: expected one of \"mha\", \"gqa\", \"mla\", \"compressed\", got \"csa\"");
  model_["attention"]["kind"] = "compressed";
  scenario_["parallelism"]["tp"] = 2;
  scenario_["parallelism"]["dp"] = 1;
  EXPECT_EQ(load(), "s.json: /parallelism/tp: compressed (DeepSeek-V4) attention is modelled without tensor parallelism: "
                    "expected 1, got 2");
}

TEST_F(ScenarioFiles, NewtonSchulzStepsAreMuons) {
  scenario_["training"]["optimizer"] = {{"kind", "muon"}, {"params", "bf16"}, {"gradients", "fp32"},
                                        {"master_weights", true}, {"states", "fp32"}, {"newton_schulz_steps", 10}};
  ASSERT_EQ(load(), "ok");
  EXPECT_EQ(load_scenario((dir_ / "s.json").string()).training.optimizer.newton_schulz_steps, 10);
  scenario_["training"]["optimizer"]["kind"] = "adamw";
  EXPECT_EQ(load(), "s.json: /training/optimizer/newton_schulz_steps: Newton-Schulz iterations are Muon's: kind is adamw");
  scenario_["training"]["optimizer"] = "deepseek-v4";
  ASSERT_EQ(load(), "ok");
  EXPECT_EQ(load_scenario((dir_ / "s.json").string()).training.optimizer.newton_schulz_steps, 10);
}

TEST_F(ScenarioFiles, HbmScalingIsChecked) {
  cluster_["gpu"]["hbm_scaling"] = {{"profiled_gpu_TBps", 3.35}, {"this_gpu_TBps", 4.8}, {"source", ""}};
  EXPECT_EQ(load(), "cluster.json: /gpu/hbm_scaling/source: expected the datasheets the two bandwidths come from");
  cluster_["gpu"]["hbm_scaling"] = {{"profiled_gpu_TBps", 3.35}, {"source", "datasheets"}};
  EXPECT_EQ(load(), "cluster.json: /gpu/hbm_scaling: missing required key \"this_gpu_TBps\"");
  cluster_["gpu"]["hbm_scaling"] = {{"profiled_gpu_TBps", 3.35}, {"this_gpu_TBps", 4.8}, {"source", "datasheets"}};
  ASSERT_EQ(load(), "ok");
  EXPECT_DOUBLE_EQ(load_scenario((dir_ / "s.json").string()).cluster.profile_hbm_scale, 4.8 / 3.35);
}

TEST_F(ScenarioFiles, ContextParallelLayoutErrors) {
  // 8 GPUs: TP1 CP2 PP4 DP1.
  scenario_["parallelism"]["cp"] = 2;
  scenario_["parallelism"]["dp"] = 1;
  EXPECT_EQ(load(), "ok");
  scenario_["parallelism"]["dp"] = 2;
  EXPECT_EQ(load(), "s.json: /parallelism/dp: tp x cp x pp x dp (16) must equal the cluster's GPUs (8)");
  scenario_["parallelism"]["dp"] = 1;
  scenario_["parallelism"]["cp_comm"] = "ring";
  EXPECT_EQ(load(), "s.json: /parallelism/cp_comm: expected one of \"p2p\", \"all_gather\", got \"ring\"");
  scenario_["parallelism"]["cp_comm"] = "all_gather";
  EXPECT_EQ(load(), "ok");
  model_["seq_len"] = 2046;  // not a multiple of 2 x cp
  EXPECT_EQ(load(), "s.json: /parallelism/cp: 2 x cp must divide model.seq_len (2046: each sequence is cut into 2 cp "
                    "equal chunks for load balancing), got cp 2");
  model_["seq_len"] = 2048;
  model_["attention"]["window"] = 512;
  EXPECT_EQ(load(), "s.json: /parallelism/cp: context parallelism is modelled for full causal attention (a ring over "
                    "every earlier key), not sliding-window, sparse or compressed attention, got cp 2");
  model_["attention"].erase("window");
  model_["attention"]["core"] = "unfused";
  EXPECT_EQ(load(), "s.json: /parallelism/cp: context parallelism runs the fused attention core (TransformerEngine's); "
                    "model.attention.core must be \"fused\", got cp 2");
  model_["attention"].erase("core");
  // A CP group of 2 x 3 GPUs straddles the 4-GPU nodes unevenly.
  cluster_["nodes"] = 3;
  scenario_["parallelism"]["tp"] = 2;
  scenario_["parallelism"]["cp"] = 3;
  scenario_["parallelism"]["pp"] = 2;
  model_["seq_len"] = 2052;
  EXPECT_EQ(load(), "s.json: /parallelism/cp: a CP group (cp TP groups of consecutive GPUs) must hold the same number "
                    "of GPUs on each node: tp x cp (6) must divide or be a multiple of the GPUs of one node (4), got cp 3");
}

TEST_F(ScenarioFiles, ExpertTensorParallelErrors) {
  scenario_["parallelism"]["etp"] = 2;
  EXPECT_EQ(load(), "s.json: /parallelism/etp: a dense model has no experts: etp must be 1, got etp 2");
  model_["ffn"] = {{"kind", "moe"}, {"activation", "swiglu"}, {"expert_dim", 512}, {"routed_experts", 8},
                   {"top_k", 2}, {"shared_experts", 0}, {"dense_layers", 0}};
  EXPECT_EQ(load(), "s.json: /parallelism/etp: expert tensor parallelism is simulated at 1 (experts whole) or tp (1: "
                    "experts split over the TP group), got etp 2");
  scenario_["parallelism"]["tp"] = 2;
  scenario_["parallelism"]["pp"] = 2;
  scenario_["parallelism"]["ep"] = 4;
  EXPECT_EQ(load(), "s.json: /parallelism/etp: experts split over the TP group need EP groups of one TP rank: ep (4) "
                    "must divide dp (2), got etp 2");
  scenario_["parallelism"]["ep"] = 2;
  EXPECT_EQ(load(), "ok");
}
