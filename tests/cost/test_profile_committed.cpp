// Checks over every committed measured profile: every profile under profiles/ (any depth) and every
// profile a shipped cluster prices with, wherever it lies. Leave-one-out interpolation accuracy and
// measured DRAM bytes against the I/O model. The harness itself is tested on synthetic profiles so
// that it is known to catch a bad profile.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "cost/profile_checks.h"
#include "scenario/cluster.h"
#include "support/test_profile_support.h"

namespace mhc {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Every profile file committed under profiles/, and the first profile of every shipped cluster.
std::set<std::string> committed_profile_files() {
  std::set<std::string> files;
  for (const auto& f : fs::recursive_directory_iterator(std::string(MHC_SOURCE_DIR) + "/profiles"))
    if (f.path().extension() == ".json") files.insert(fs::canonical(f.path()).string());
  for (const auto& f : fs::directory_iterator(std::string(MHC_SOURCE_DIR) + "/scenarios/clusters"))
    if (f.path().extension() == ".json") files.insert(fs::canonical(load_cluster_file(f.path().string()).profile).string());
  return files;
}

std::vector<Profile> committed_measured_profiles() {
  std::vector<Profile> out;
  for (const std::string& file : committed_profile_files()) {
    Profile p = load_profile(file);  // every committed profile must load
    if (p.kind == ProfileKind::measured) out.push_back(std::move(p));
  }
  return out;
}

TEST(CommittedProfiles, TheClustersProfilesAreAmongThoseChecked) {
  const auto files = committed_profile_files();
  size_t measured = 0;
  for (const Profile& p : committed_measured_profiles()) measured += !p.entries.empty();
  // profiles/measured/h100-sxm-quick.json (the clusters') and h100-sxm-gemm-layer.json.
  EXPECT_GE(measured, 2u);
  EXPECT_TRUE(files.count(fs::canonical(std::string(MHC_SOURCE_DIR) + "/profiles/measured/h100-sxm-quick.json").string()));
}

// What the committed data meets today, per family (profiles/measured/README.md says why): every
// interior mHC and residual entry within 5%; GEMMs within 10% except where cuBLASLt's heuristic
// switches algorithm between neighbouring shapes, a step no interpolation can place. Measured on
// 2026-11-22: h100-sxm-gemm-layer.json 30 of 487 interior GEMMs over 10%, worst 30.4%;
// h100-sxm-quick.json 7 of 71, worst 16.6%. Held here: at most 10% of a file's interior GEMMs over
// 10%, none over 35%. Tighten as the autotuned GEMM sweep (mhc-profile now takes the fastest of
// cuBLASLt's top 8) replaces these files.
constexpr double kGemmStepShare = 0.10;
constexpr double kGemmWorst = 0.35;

TEST(CommittedProfiles, LeaveOneOutMeetsItsTargetsWhereTheDataAllows) {
  for (const Profile& p : committed_measured_profiles()) {
    size_t gemm_interior = 0, gemm_over = 0;
    for (const LeaveOneOutResult& r : leave_one_out(p))
      if (r.interior && r.entry->family == KernelFamily::gemm) ++gemm_interior;
    for (const auto& v : leave_one_out_violations(p)) {
      const double err = std::abs(v.result.relative_error());
      if (v.result.entry->family == KernelFamily::gemm) {
        ++gemm_over;
        EXPECT_LE(err, kGemmWorst) << p.file << " " << v.describe();
      } else {
        ADD_FAILURE() << p.file << " " << v.describe();
      }
    }
    EXPECT_LE(static_cast<double>(gemm_over), kGemmStepShare * static_cast<double>(gemm_interior))
        << p.file << ": " << gemm_over << " of " << gemm_interior << " interior GEMMs off by more than 10%";
  }
}

// Reads are held at every size (the profiler rotates inputs over sets spanning four L2s). Writes only
// where the kernel's output exceeds any Hopper L2 (H100 SXM 50 MB: NVIDIA H100 architecture
// whitepaper; the H200 reports 60 MB): a smaller output partly stays in L2 and reaches DRAM after the
// measured range ends, so its write count reads low (0.86x at 4096 tokens, C = 2560).
constexpr double kOutputBeyondL2Bytes = 64.0 * 1024 * 1024;

TEST(CommittedProfiles, MeasuredBytesMatchTheIoModel) {
  size_t profiles_with_bytes = 0;
  for (const Profile& p : committed_measured_profiles()) {
    size_t reads = 0, writes = 0;
    for (const ByteCheck& c : byte_checks(p, formula_expected_bytes())) {
      if (!byte_check_required(c.entry->kernel)) continue;
      ++reads;
      EXPECT_NEAR(c.read_ratio(), 1.0, kByteCheckTolerance) << p.file << " " << c.entry->pointer << " " << c.entry->label();
      if (c.expected.write * static_cast<double>(c.entry->shape.tokens) < kOutputBeyondL2Bytes) continue;
      ++writes;
      EXPECT_NEAR(c.write_ratio(), 1.0, kByteCheckTolerance) << p.file << " " << c.entry->pointer << " " << c.entry->label();
    }
    const bool has_mhc = std::any_of(p.entries.begin(), p.entries.end(),
                                     [](const ProfileEntry& e) { return e.family == KernelFamily::mhc; });
    if (!has_mhc) continue;  // e.g. the GEMM and layer sweep: nothing the I/O model speaks of
    ++profiles_with_bytes;
    EXPECT_GT(reads, 0u) << p.file << " has mHC entries but no DRAM byte counts for post_res or the unfused kernels";
    EXPECT_GT(writes, 0u) << p.file << " has no mHC entry whose output exceeds L2";
  }
  EXPECT_GE(profiles_with_bytes, 1u) << "no committed profile measures the mHC kernels' DRAM bytes";
}

TEST(CommittedProfiles, PartialMeasuredProfileLoadsAndPricesItsGemmsByMeasurement) {
  Profile p = load_profile(std::string(MHC_SOURCE_DIR) + "/profiles/measured/h100-sxm-gemm-layer.json");
  ASSERT_EQ(p.kind, ProfileKind::measured);
  ASSERT_FALSE(p.entries.empty());
  size_t mhc_entries = 0;
  for (const auto& e : p.entries) mhc_entries += e.family == KernelFamily::mhc;
  EXPECT_EQ(mhc_entries, 0u) << "this file is documented as holding no mHC kernels";
  CostModel model(p);
  for (const auto& e : p.entries) {
    PricedOp hit = model.price(query_for_entry(e));
    ASSERT_EQ(hit.method, PriceMethod::measured) << e.label();
    EXPECT_DOUBLE_EQ(hit.seconds, e.seconds);
  }
}

// --- the harness on synthetic profiles ---

json post_res_entry(int64_t tokens, double seconds, double read_per_token, double write_per_token) {
  const int n = 4;
  const int64_t C = 2560;
  auto model = *io_model_bytes_per_token("mhc_fused.post_res_fwd", n, C);
  json e = testing::mhc_entry("mhc_fused.post_res_fwd", n, C, tokens, seconds, model.read * tokens,
                              model.write * tokens);
  e["dram_bytes"] = {{"read", read_per_token * tokens}, {"write", write_per_token * tokens}};
  return e;
}

TEST(ProfileChecks, IoModelFormulas) {
  // Fused post_res: (n+1)C bf16 + n^2+n fp32 read, nC bf16 written.
  auto pr = *io_model_bytes_per_token("mhc_fused.post_res_fwd", 4, 2560);
  EXPECT_DOUBLE_EQ(pr.read, 2.0 * 5 * 2560 + 4.0 * 20);
  EXPECT_DOUBLE_EQ(pr.write, 2.0 * 4 * 2560);
  // Table 2 totals, n = 4: read (5n+1)C + n^2+2n, write (3n+1)C + n^2+2n (streams bf16, coefs fp32).
  double read = 0, write = 0;
  for (const char* k : {"compute_h", "apply_pre", "apply_post", "apply_res", "merge"}) {
    auto b = *io_model_bytes_per_token(std::string("mhc_unfused.") + k + "_fwd", 4, 1000);
    read += b.read;
    write += b.write;
  }
  EXPECT_DOUBLE_EQ(read, 2.0 * 21 * 1000 + 4.0 * (16 + 8));
  EXPECT_DOUBLE_EQ(write, 2.0 * 13 * 1000 + 4.0 * (16 + 8));
  auto merge = *io_model_bytes_per_token("residual.merge_fwd", 1, 1000);
  EXPECT_DOUBLE_EQ(merge.read, 4000);
  EXPECT_DOUBLE_EQ(merge.write, 2000);
  EXPECT_FALSE(io_model_bytes_per_token("mhc_fused.post_res_bwd", 4, 1000));
}

TEST(ProfileChecks, ByteCheckCatchesBytesOffTheModel) {
  auto model = *io_model_bytes_per_token("mhc_fused.post_res_fwd", 4, 2560);
  json doc = testing::measured_profile_json();
  doc["kernels"].push_back(post_res_entry(4096, 1e-4, model.read * 1.03, model.write * 0.98));  // fine
  doc["kernels"].push_back(post_res_entry(16384, 4e-4, model.read * 1.5, model.write));  // L2 spill, say
  Profile p = testing::load_json_profile(doc, "bytes.json");
  auto checks = byte_checks(p, formula_expected_bytes());
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_NEAR(checks[0].read_ratio(), 1.03, 1e-12);
  auto bad = byte_check_violations(p, formula_expected_bytes());
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find("/kernels/1"), std::string::npos) << bad[0];
  EXPECT_NE(bad[0].find("read"), std::string::npos) << bad[0];
}

TEST(ProfileChecks, LeaveOneOutCatchesAnOutlier) {
  json doc = testing::measured_profile_json();
  for (int64_t t : {1024, 2048, 4096, 8192, 16384}) {
    double s = 5e-6 + 4e-8 * t;
    if (t == 4096) s *= 1.5;  // an outlier in the middle of the sweep
    doc["kernels"].push_back(post_res_entry(t, s, 1, 1));
  }
  Profile p = testing::load_json_profile(doc, "outlier.json");
  auto bad = leave_one_out_violations(p);
  ASSERT_FALSE(bad.empty());
  for (const auto& v : bad) EXPECT_TRUE(v.result.interior) << v.describe();
  bool found = false;
  for (const auto& v : bad) found |= v.result.entry->shape.tokens == 4096;
  EXPECT_TRUE(found);
  EXPECT_DOUBLE_EQ(bad[0].tolerance, 0.05);
  // The ends of the sweep (1024 and 16384 tokens) test extrapolation: reported, never violations.
  for (const auto& r : leave_one_out(p))
    EXPECT_EQ(r.interior, r.entry->shape.tokens != 1024 && r.entry->shape.tokens != 16384) << r.entry->label();
}

}  // namespace
}  // namespace mhc
