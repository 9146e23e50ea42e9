// Small synthetic profiles for the profile and cost tests: built as JSON, written to a temporary
// file, loaded back through load_profile (so the tests exercise the real reader).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "profile/profile.h"

namespace mhc::testing {

inline nlohmann::json measured_profile_json() {
  using nlohmann::json;
  return json{{"schema", "mhcsim-profile"},
              {"schema_version", 1},
              {"kind", "measured"},
              {"provenance",
               {{"gpu", "Synthetic GPU"},
                {"date", "2026-11-22T10:00:00Z"},
                {"command", "test"},
                {"sm_count", 100},
                {"sm_clock_mhz", 1500.0},
                {"memory_clock_mhz", 2000.0},
                {"memory_bytes", 8.0e10},
                {"driver", "0.0"},
                {"cuda_runtime", "13.0"},
                {"cupti", "1"}}},
              {"ceilings",
               {{"copy_bandwidth_Bps", {{"value", 2.0e12}, {"source", "synthetic"}}},
                {"peak_flops",
                 {{"bf16", {{"value", 5.0e14}, {"source", "synthetic"}}},
                  {"fp8", {{"value", 1.0e15}, {"source", "synthetic"}}},
                  {"tf32", {{"value", 2.5e14}, {"source", "synthetic"}}}}}}},
              {"kernels", json::array()}};
}

// A corun section (schema version 4) for a 100-SM GPU: the copy reaches 1, 1.6 and 2 TB/s on 25, 50
// and 100 SMs.
inline nlohmann::json corun_json() {
  using nlohmann::json;
  return json{{"method", "synthetic"},
              {"copy_by_sms",
               json::array({{{"sms", 25}, {"bandwidth_Bps", 1.0e12}},
                            {{"sms", 50}, {"bandwidth_Bps", 1.6e12}},
                            {{"sms", 100}, {"bandwidth_Bps", 2.0e12}}})},
              {"gemm", {{"shape", {{"m", 4096}, {"n", 4096}, {"k", 4096}, {"groups", 1}, {"dtype", "bf16"}}},
                        {"alone_s", 3e-4}}},
              {"post_res", {{"shape", {{"n", 4}, {"C", 2560}, {"tokens", 16384}}}, {"alone_s", 1e-4}}},
              {"same_priority", {{"gemm_s", 3.5e-4}, {"post_res_s", 2e-4}, {"span_s", 3.6e-4}}},
              {"post_res_high_priority", {{"gemm_s", 3.6e-4}, {"post_res_s", 1.1e-4}, {"span_s", 3.7e-4}}},
              {"gemm_beside_copy", {{"copy_sms", 20}, {"copy_alone_Bps", 9e11}, {"copy_Bps", 8.5e11}, {"gemm_s", 3.6e-4}}}};
}

// One mHC entry with a given time; model bytes follow the fused post_res formula for bf16/fp32.
inline nlohmann::json mhc_entry(const std::string& kernel, int n, int64_t C, int64_t tokens, double seconds,
                                double read_bytes, double write_bytes, double flops = 0.0) {
  nlohmann::json shape{{"n", n}, {"C", C}, {"tokens", tokens}};
  if (is_sinkhorn_kernel(kernel)) shape["sinkhorn_iters"] = 20;
  return nlohmann::json{{"kernel", kernel},
                        {"shape", shape},
                        {"time_s",
                         {{"median", seconds},
                          {"min", seconds},
                          {"max", seconds},
                          {"runs", 50},
                          {"warmup", 5},
                          {"input_sets", 4}}},
                        {"model", {{"read_bytes", read_bytes}, {"write_bytes", write_bytes}, {"flops", flops}}},
                        {"implementation", "synthetic"}};
}

inline nlohmann::json gemm_entry(int64_t m, int64_t n, int64_t k, int64_t groups, const std::string& dtype,
                                 double seconds) {
  double elem = dtype == "fp8" ? 1.0 : 2.0;
  return nlohmann::json{
      {"kernel", "gemm"},
      {"shape", {{"m", m}, {"n", n}, {"k", k}, {"groups", groups}, {"dtype", dtype}}},
      {"time_s",
       {{"median", seconds}, {"min", seconds}, {"max", seconds}, {"runs", 50}, {"warmup", 5}, {"input_sets", 4}}},
      {"model",
       {{"read_bytes", groups * (m * k + k * n) * elem}, {"write_bytes", groups * m * n * 2.0},
        {"flops", 2.0 * groups * m * n * k}}},
      {"implementation", "synthetic"}};
}

inline std::string write_temp_json(const nlohmann::json& doc, const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("mhcsim_profile_tests_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / name).string();
  std::ofstream(path) << doc.dump(2);
  return path;
}

inline Profile load_json_profile(const nlohmann::json& doc, const std::string& name) {
  return load_profile(write_temp_json(doc, name));
}

}  // namespace mhc::testing
