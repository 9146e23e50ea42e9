// profile-merge: two measured parts of one GPU merge into one profile that loads (schema version 2,
// every part's provenance kept) and prices every op as the part that measured it; inputs of another
// GPU, a shape measured twice and a reference profile are refused naming file and JSON path.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>

#include <sys/wait.h>

#include "core/json_input.h"
#include "cost/cost.h"
#include "profile/profile_merge.h"
#include "support/test_profile_support.h"

namespace mhc {
namespace {

using nlohmann::json;

json attention_entry(const std::string& kernel, int64_t tokens, double seconds) {
  // The simulator's model of causal attention (sim/model/model_layer.cpp) for 16 heads of 192/128, seq 4096.
  const double heads = 16, dqk = 192, dv = 128, seq = 4096, keys = (seq + 1) / 2;
  const bool fwd = kernel == "attention_fwd";
  const double flops = 2 * heads * keys * (dqk + dv) * tokens * (fwd ? 1.0 : 2.5);
  const double qkv = heads * (2 * dqk + dv), o = heads * dv;
  return json{{"kernel", kernel},
              {"shape",
               {{"tokens", tokens}, {"seq", 4096}, {"heads", 16}, {"head_dim_qk", 192}, {"head_dim_v", 128},
                {"causal", true}}},
              {"time_s",
               {{"median", seconds}, {"min", seconds}, {"max", seconds}, {"runs", 30}, {"warmup", 5},
                {"input_sets", 2}}},
              {"model",
               {{"read_bytes", 2 * tokens * (fwd ? qkv : qkv + 2 * o)},
                {"write_bytes", 2 * tokens * (fwd ? o : qkv)},
                {"flops", flops}}},
              {"implementation", "torch SDPA efficient attention"}};
}

// Part A: mHC and GEMM entries, as mhc-profile writes them.
json part_a() {
  json doc = testing::measured_profile_json();
  doc["provenance"]["command"] = "mhc-profile --out a.json";
  doc["ceilings"]["launch_overhead_s"] = {{"value", 2e-6}, {"source", "synthetic launch"}};
  for (int64_t t : {4096, 16384})
    doc["kernels"].push_back(testing::mhc_entry("mhc_fused.post_res_fwd", 4, 2560, t, t * 1e-9, t * 3e4, t * 2e4));
  for (int64_t m : {1024, 4096}) doc["kernels"].push_back(testing::gemm_entry(m, 2560, 2560, 1, "bf16", m * 5e-9));
  return doc;
}

// Part B: attention, as measure_attention.py writes it (same GPU, its own run and ceilings).
json part_b() {
  json doc = testing::measured_profile_json();
  doc["provenance"]["command"] = "python3 profiles/attention/measure_attention.py --out b.json";
  doc["provenance"]["date"] = "2026-11-23T09:00:00Z";
  doc["provenance"]["cudnn"] = "91400";
  doc["provenance"]["notes"] = "torch 2.11";
  for (int64_t t : {4096, 8192, 16384}) {
    doc["kernels"].push_back(attention_entry("attention_fwd", t, t * 2e-8));
    doc["kernels"].push_back(attention_entry("attention_bwd", t, t * 5e-8));
  }
  return doc;
}

Profile load(const json& doc, const std::string& name) { return testing::load_json_profile(doc, name); }

MergedProfile merge(const std::vector<Profile>& inputs) {
  return merge_profiles(inputs, "mhcsim profile-merge --out m.json a.json b.json", "2026-11-23T10:00:00Z");
}

// Writes the merged profile and reads it back, so the checks go through the real writer and reader.
Profile written_and_loaded(const MergedProfile& m, const std::string& name) {
  const std::string path = testing::write_temp_json(json(), name);
  write_profile(m.profile, path);
  return load_profile(path);
}

// A query the merged profile must price as the part does: every entry's own shape, and shapes between
// and beyond them along tokens (interpolated, extrapolated) and off the measured lines (scaled).
std::vector<PriceQuery> queries_around(const Profile& part) {
  std::vector<PriceQuery> out;
  for (const ProfileEntry& e : part.entries) {
    for (double scale : {1.0, 0.75, 1.5, 3.0}) {
      PriceQuery q = query_for_entry(e);
      if (e.family == KernelFamily::gemm) q.shape.m = std::llround(q.shape.m * scale);
      else if (e.family == KernelFamily::attention) q.shape.tokens = std::llround(q.shape.tokens * scale / 4096) * 4096;
      else q.shape.tokens = std::llround(q.shape.tokens * scale);
      q.bytes *= scale, q.flops *= scale;
      out.push_back(q);
    }
    PriceQuery off = query_for_entry(e);
    off.shape.C = off.shape.C * 2, off.shape.gemm_n = off.shape.gemm_n * 2, off.shape.heads = off.shape.heads * 2;
    off.bytes *= 2, off.flops *= 2;
    out.push_back(off);
  }
  return out;
}

TEST(ProfileMerge, MergedProfileLoadsAndPricesAsEachPart) {
  const Profile a = load(part_a(), "a.json"), b = load(part_b(), "b.json");
  MergedProfile m = merge({a, b});
  EXPECT_TRUE(m.warnings.empty());
  const Profile merged = written_and_loaded(m, "merged.json");

  ASSERT_EQ(merged.parts.size(), 2u);
  EXPECT_EQ(merged.parts[0].file, a.file);
  EXPECT_EQ(merged.parts[1].file, b.file);
  EXPECT_EQ(merged.parts[0].provenance.command, "mhc-profile --out a.json");
  EXPECT_EQ(merged.parts[1].provenance.cudnn, "91400");
  EXPECT_EQ(merged.parts[1].provenance.notes, "torch 2.11");
  EXPECT_EQ(merged.provenance.command, "mhcsim profile-merge --out m.json a.json b.json");
  EXPECT_EQ(merged.provenance.gpu, "Synthetic GPU");
  ASSERT_EQ(merged.entries.size(), a.entries.size() + b.entries.size());
  for (size_t i = 0; i < merged.entries.size(); ++i)
    EXPECT_EQ(merged.entries[i].part, i < a.entries.size() ? 0 : 1) << merged.entries[i].label();
  EXPECT_EQ(merged.ceilings.copy_bandwidth_Bps.source.rfind("from " + a.file + ": synthetic", 0), 0u)
      << merged.ceilings.copy_bandwidth_Bps.source;
  ASSERT_TRUE(merged.ceilings.launch_overhead_s);  // only part A measured one
  EXPECT_DOUBLE_EQ(merged.ceilings.launch_overhead_s->value, 2e-6);

  // Part B has no launch overhead, so it prices with A's ceilings only where it has no entry: compare
  // B against a copy carrying A's ceilings (the merged profile's), A against itself.
  Profile b_on_a_ceilings = b;
  b_on_a_ceilings.ceilings = a.ceilings;
  const CostModel whole(merged);
  for (const Profile* part : std::vector<const Profile*>{&a, &b_on_a_ceilings}) {
    const CostModel alone(*part);
    for (const PriceQuery& q : queries_around(*part)) {
      const PricedOp expected = alone.price(q), got = whole.price(q);
      EXPECT_DOUBLE_EQ(got.seconds, expected.seconds) << q.kernel << " " << q.shape.describe(*q.family);
      EXPECT_EQ(got.method, expected.method) << q.kernel << " " << q.shape.describe(*q.family);
    }
  }
}

TEST(ProfileMerge, WritesVersionTwoOnlyForMergedFiles) {
  const Profile a = load(part_a(), "a.json"), b = load(part_b(), "b.json");
  EXPECT_EQ(profile_to_json(a)["schema_version"], 1);
  EXPECT_FALSE(profile_to_json(a).contains("parts"));
  const json merged = profile_to_json(merge({a, b}).profile);
  EXPECT_EQ(merged["schema_version"], 2);
  EXPECT_EQ(merged["parts"].size(), 2u);
  EXPECT_EQ(merged["kernels"][0]["part"], 0);
}

TEST(ProfileMerge, MergedInputKeepsItsParts) {
  json c_doc = testing::measured_profile_json();
  c_doc["provenance"]["command"] = "mhc-profile --skip mhc --out c.json";
  c_doc["kernels"].push_back(testing::gemm_entry(8192, 2560, 2560, 1, "bf16", 4e-5));
  const Profile ab = written_and_loaded(merge({load(part_a(), "a.json"), load(part_b(), "b.json")}), "ab.json");
  const Profile abc = written_and_loaded(merge({load(c_doc, "c.json"), ab}), "abc.json");
  ASSERT_EQ(abc.parts.size(), 3u);
  EXPECT_EQ(abc.parts[0].provenance.command, "mhc-profile --skip mhc --out c.json");
  EXPECT_EQ(abc.parts[2].provenance.command, "python3 profiles/attention/measure_attention.py --out b.json");
  EXPECT_EQ(abc.entries.front().part, 0);
  EXPECT_EQ(abc.entries.back().kernel, "attention_bwd");
  EXPECT_EQ(abc.entries.back().part, 2);
}

TEST(ProfileMerge, CeilingsThatDisagreeAreAWarningNamingBothFiles) {
  json b_doc = part_b();
  b_doc["ceilings"]["peak_flops"]["bf16"]["value"] = 4.0e14;  // A: 5e14
  b_doc["ceilings"]["copy_bandwidth_Bps"]["value"] = 2.04e12;  // A: 2e12, within 5%
  const Profile a = load(part_a(), "a.json"), b = load(b_doc, "b.json");
  MergedProfile m = merge({a, b});
  ASSERT_EQ(m.warnings.size(), 1u);
  const std::string& w = m.warnings[0];
  EXPECT_EQ(w.rfind(b.file + ": /ceilings/peak_flops/bf16: 4e+14 differs from 5e+14 of " + a.file + " by 20%", 0), 0u)
      << w;
  EXPECT_DOUBLE_EQ(m.profile.ceilings.peak_flops.at(DType::bf16).value, 5.0e14);
}

// The error merging `second` after part A: one InputError naming second's file.
InputError merge_error(const json& second, const std::string& name) {
  const Profile a = load(part_a(), "a.json"), b = load(second, name);
  try {
    merge({a, b});
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), b.file) << e.what();
    return e;
  }
  ADD_FAILURE() << "no InputError merging " << name;
  return InputError("", "", "");
}

TEST(ProfileMerge, AnotherGpuIsRefused) {
  json other = part_b();
  other["provenance"]["gpu"] = "NVIDIA H200";
  InputError e = merge_error(other, "h200.json");
  EXPECT_EQ(e.path(), "/provenance/gpu");
  EXPECT_NE(e.message().find("\"Synthetic GPU\""), std::string::npos) << e.what();
  json fewer_sms = part_b();
  fewer_sms["provenance"]["sm_count"] = 114;
  EXPECT_EQ(merge_error(fewer_sms, "pcie.json").path(), "/provenance/sm_count");
}

TEST(ProfileMerge, ShapeMeasuredTwiceIsRefusedNamingBothFiles) {
  json twice = part_b();
  twice["kernels"].push_back(part_a()["kernels"][2]);  // a GEMM part A measured too
  InputError e = merge_error(twice, "twice.json");
  EXPECT_EQ(e.path(), "/kernels/6");
  EXPECT_NE(e.message().find(load(part_a(), "a.json").file + " /kernels/2"), std::string::npos) << e.what();
}

TEST(ProfileMerge, ReferenceProfileIsRefused) {
  const Profile reference = load_profile(std::string(MHC_SOURCE_DIR) + "/profiles/h100-sxm-reference.json");
  try {
    merge({load(part_a(), "a.json"), reference});
    ADD_FAILURE() << "a reference profile was merged";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), reference.file);
    EXPECT_EQ(e.path(), "/kind");
  }
}

// The reader's rules for version 2: parts are full measured provenances of the same GPU, and every
// entry of a merged file names a part that exists.
TEST(ProfileMerge, ReaderValidatesParts) {
  const json merged = profile_to_json(merge({load(part_a(), "a.json"), load(part_b(), "b.json")}).profile);
  auto error_path = [](const json& doc, const std::string& name) {
    const std::string path = testing::write_temp_json(doc, name);
    try {
      load_profile(path);
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), path);
      return e.path();
    }
    return std::string("no error");
  };
  json no_part = merged;
  no_part["kernels"][3].erase("part");
  EXPECT_EQ(error_path(no_part, "no_part.json"), "/kernels/3");
  json bad_part = merged;
  bad_part["kernels"][3]["part"] = 2;
  EXPECT_EQ(error_path(bad_part, "bad_part.json"), "/kernels/3/part");
  json other_gpu = merged;
  other_gpu["parts"][1]["provenance"]["gpu"] = "NVIDIA H200";
  EXPECT_EQ(error_path(other_gpu, "part_gpu.json"), "/parts/1/provenance/gpu");
  json thin_part = merged;
  thin_part["parts"][0]["provenance"].erase("cupti");
  EXPECT_EQ(error_path(thin_part, "thin_part.json"), "/parts/0/provenance");
  json version1 = merged;
  version1["schema_version"] = 1;  // version 1 knows no parts
  EXPECT_EQ(error_path(version1, "v1_parts.json"), "/kernels/0/part");
  version1.erase("parts");
  for (auto& e : version1["kernels"]) e.erase("part");
  EXPECT_EQ(error_path(version1, "v1.json"), "no error");
}

TEST(ProfileMerge, CommandWarnsAndFailsWithOneLine) {
  auto run = [](const std::string& args) {
    std::array<char, 4096> buf{};
    std::string out;
    FILE* pipe = popen((std::string(MHC_BINARY_DIR) + "/sim/mhcsim profile-merge " + args + " 2>&1").c_str(), "r");
    while (pipe && fgets(buf.data(), buf.size(), pipe)) out += buf.data();
    const int status = pipe ? pclose(pipe) : -1;
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
  };
  json b_doc = part_b();
  b_doc["ceilings"]["copy_bandwidth_Bps"]["value"] = 1.5e12;
  const std::string a = testing::write_temp_json(part_a(), "cmd_a.json"), b = testing::write_temp_json(b_doc, "cmd_b.json");
  const std::string out = testing::write_temp_json(json(), "cmd_out.json");
  auto [code, text] = run("--out " + out + " " + a + " " + b);
  EXPECT_EQ(code, 0) << text;
  EXPECT_NE(text.find("warning: " + b + ": /ceilings/copy_bandwidth_Bps: 1.5e+12 differs"), std::string::npos) << text;
  EXPECT_EQ(load_profile(out).parts.size(), 2u);

  json h200 = part_b();
  h200["provenance"]["gpu"] = "NVIDIA H200";
  const std::string c = testing::write_temp_json(h200, "cmd_h200.json");
  std::tie(code, text) = run("--out " + out + " " + a + " " + c);
  EXPECT_EQ(code, 2);
  EXPECT_EQ(text.rfind("error: " + c + ": /provenance/gpu: \"NVIDIA H200\" differs", 0), 0u) << text;
  std::tie(code, text) = run("--out " + out + " " + a);
  EXPECT_EQ(code, 2);
  EXPECT_NE(text.find("at least two profiles"), std::string::npos) << text;
}

}  // namespace
}  // namespace mhc
