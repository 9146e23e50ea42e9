// load_profile: a valid profile loads; every kind of malformed profile is one InputError naming the
// file and the JSON path of the problem.
#include <gtest/gtest.h>

#include "core/json_input.h"
#include "profile/profile.h"
#include "support/test_profile_support.h"

namespace mhc {
namespace {

using nlohmann::json;
using testing::gemm_entry;
using testing::measured_profile_json;
using testing::mhc_entry;

json valid_doc() {
  json doc = measured_profile_json();
  doc["kernels"].push_back(mhc_entry("mhc_fused.post_res_fwd", 4, 2560, 16384, 1e-3, 1e8, 8e7));
  doc["kernels"].push_back(gemm_entry(4096, 4096, 4096, 1, "bf16", 2e-4));
  return doc;
}

// Loads `doc` and returns the InputError it raised; fails the test when none was raised.
InputError expect_error(const json& doc, const std::string& name) {
  std::string path = testing::write_temp_json(doc, name);
  try {
    load_profile(path);
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    return e;
  }
  ADD_FAILURE() << "no InputError for " << name;
  return InputError(path, "", "");
}

TEST(ProfileLoad, ValidMeasuredProfileLoadsEveryField) {
  Profile p = testing::load_json_profile(valid_doc(), "valid.json");
  EXPECT_EQ(p.kind, ProfileKind::measured);
  EXPECT_EQ(p.provenance.gpu, "Synthetic GPU");
  EXPECT_EQ(p.provenance.sm_count, 100);
  EXPECT_DOUBLE_EQ(p.ceilings.copy_bandwidth_Bps.value, 2.0e12);
  EXPECT_DOUBLE_EQ(p.ceilings.peak_flops.at(DType::fp8).value, 1.0e15);
  ASSERT_EQ(p.entries.size(), 2u);
  EXPECT_EQ(p.entries[0].family, KernelFamily::mhc);
  EXPECT_EQ(p.entries[0].shape.n, 4);
  EXPECT_EQ(p.entries[0].shape.C, 2560);
  EXPECT_DOUBLE_EQ(p.entries[0].seconds, 1e-3);
  EXPECT_EQ(p.entries[0].pointer, "/kernels/0");
  EXPECT_EQ(p.entries[1].family, KernelFamily::gemm);
  EXPECT_EQ(p.entries[1].shape.gemm_n, 4096);
  EXPECT_DOUBLE_EQ(p.entries[1].model_flops, 2.0 * 4096.0 * 4096.0 * 4096.0);
}

TEST(ProfileLoad, MissingProvenance) {
  json doc = valid_doc();
  doc.erase("provenance");
  InputError e = expect_error(doc, "no_provenance.json");
  EXPECT_EQ(e.path(), "/");
  EXPECT_NE(e.message().find("\"provenance\""), std::string::npos) << e.what();
}

TEST(ProfileLoad, MissingProvenanceField) {
  json doc = valid_doc();
  doc["provenance"].erase("driver");
  InputError e = expect_error(doc, "no_driver.json");
  EXPECT_EQ(e.path(), "/provenance");
  EXPECT_NE(e.message().find("\"driver\""), std::string::npos) << e.what();
}

TEST(ProfileLoad, NegativeTime) {
  json doc = valid_doc();
  doc["kernels"][1]["time_s"]["median"] = -1e-4;
  InputError e = expect_error(doc, "negative_time.json");
  EXPECT_EQ(e.path(), "/kernels/1/time_s/median");
  EXPECT_EQ(e.message(), "must be between 1e-08 and 1000, got -0.0001");
}

TEST(ProfileLoad, MedianOutsideMinMax) {
  json doc = valid_doc();
  doc["kernels"][0]["time_s"]["max"] = 0.5e-3;
  InputError e = expect_error(doc, "median_above_max.json");
  EXPECT_EQ(e.path(), "/kernels/0/time_s/median");
}

TEST(ProfileLoad, UnknownKernel) {
  json doc = valid_doc();
  doc["kernels"][0]["kernel"] = "mhc_fused.teleport_fwd";
  InputError e = expect_error(doc, "unknown_kernel.json");
  EXPECT_EQ(e.path(), "/kernels/0/kernel");
  EXPECT_NE(e.message().find("mhc_fused.teleport_fwd"), std::string::npos) << e.what();
}

TEST(ProfileLoad, WrongSchemaVersion) {
  json doc = valid_doc();
  doc["schema_version"] = 4;
  InputError e = expect_error(doc, "schema_v4.json");
  EXPECT_EQ(e.path(), "/schema_version");
  EXPECT_NE(e.message().find("version"), std::string::npos) << e.what();
}

TEST(ProfileLoad, NotAProfile) {
  json doc = valid_doc();
  doc["schema"] = "mhcsim-cluster";
  EXPECT_EQ(expect_error(doc, "not_profile.json").path(), "/schema");
}

TEST(ProfileLoad, UnknownKeyAnywhere) {
  json top = valid_doc();
  top["extra"] = 1;
  EXPECT_EQ(expect_error(top, "unknown_top.json").path(), "/extra");
  json prov = valid_doc();
  prov["provenance"]["gpu_name"] = "x";
  EXPECT_EQ(expect_error(prov, "unknown_prov.json").path(), "/provenance/gpu_name");
  json shape = valid_doc();
  shape["kernels"][0]["shape"]["sinkhorn_iters"] = 20;  // post_res has no Sinkhorn
  EXPECT_EQ(expect_error(shape, "unknown_shape.json").path(), "/kernels/0/shape/sinkhorn_iters");
  json ceil = valid_doc();
  ceil["ceilings"]["peak_flops"]["int4"] = {{"value", 1.0}, {"source", "x"}};
  EXPECT_EQ(expect_error(ceil, "unknown_dtype.json").path(), "/ceilings/peak_flops/int4");
}

TEST(ProfileLoad, MissingShapeKey) {
  json doc = valid_doc();
  doc["kernels"][0]["shape"].erase("n");
  InputError e = expect_error(doc, "no_n.json");
  EXPECT_EQ(e.path(), "/kernels/0/shape");
  EXPECT_NE(e.message().find("\"n\""), std::string::npos);
}

TEST(ProfileLoad, CeilingWithoutSource) {
  json doc = valid_doc();
  doc["ceilings"]["copy_bandwidth_Bps"]["source"] = "";
  EXPECT_EQ(expect_error(doc, "no_source.json").path(), "/ceilings/copy_bandwidth_Bps/source");
}

TEST(ProfileLoad, BadDtype) {
  json doc = valid_doc();
  doc["kernels"][1]["shape"]["dtype"] = "fp16";
  EXPECT_EQ(expect_error(doc, "bad_dtype.json").path(), "/kernels/1/shape/dtype");
}

TEST(ProfileLoad, DuplicateEntry) {
  json doc = valid_doc();
  doc["kernels"].push_back(doc["kernels"][0]);
  InputError e = expect_error(doc, "duplicate.json");
  EXPECT_EQ(e.path(), "/kernels/2");
  EXPECT_NE(e.message().find("/kernels/0"), std::string::npos);
}

TEST(ProfileLoad, ReferenceProfileMayNotHoldEntries) {
  json doc = valid_doc();
  doc["kind"] = "reference";
  doc["provenance"] = {{"gpu", "x"}, {"date", "2026-11-22"}, {"compiled_from", "test"}};
  EXPECT_EQ(expect_error(doc, "reference_entries.json").path(), "/kernels");
}

TEST(ProfileLoad, MissingFileAndBadJson) {
  EXPECT_THROW(load_profile("/nonexistent/profile.json"), InputError);
  std::string path = testing::write_temp_json(json(), "placeholder.json");
  std::ofstream(path) << "{ not json";
  EXPECT_THROW(load_profile(path), InputError);
}

TEST(ProfileLoad, EveryKnownKernelHasAFamily) {
  for (const std::string& id : known_kernel_ids()) EXPECT_TRUE(kernel_family(id).has_value()) << id;
  EXPECT_FALSE(kernel_family("gemm_fp8").has_value());
  EXPECT_EQ(kernel_family("mhc_unfused.apply_res_bwd"), KernelFamily::mhc);
  EXPECT_EQ(kernel_family("residual.merge_fwd"), KernelFamily::residual);
}

}  // namespace
}  // namespace mhc

namespace mhc {
namespace {

// Issue 20: a copy bandwidth of 1e-30 gave a 6e39 s step with exit code 0, and 1e-300 deadlocked
// SimGrid. Every ceiling and measurement has a physically plausible range (profiles/SCHEMA.md).
TEST(ProfileLoad, ValuesOutsideTheirPlausibleRangesAreRefused) {
  struct Case {
    std::string pointer;
    json value;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"/ceilings/copy_bandwidth_Bps/value", 1e-30, "must be between 1e+10 and 1e+14, got 1e-30"},
      {"/ceilings/copy_bandwidth_Bps/value", 1e-300, "must be between 1e+10 and 1e+14, got 1e-300"},
      {"/ceilings/peak_flops/bf16/value", 1e30, "must be between 1e+11 and 1e+17, got 1e+30"},
      {"/provenance/sm_count", int64_t{1} << 32, "must be an integer in 1..1024, got 4294967296"},
      {"/kernels/0/time_s/median", 1e-12, "must be between 1e-08 and 1000, got 1e-12"},
      {"/kernels/0/shape/n", 17, "must be an integer in 1..16, got 17"},
      {"/kernels/1/shape/k", int64_t{1} << 40, "must be an integer in 1..67108864, got 1099511627776"},
      {"/kernels/0/model/read_bytes", -1, "must be between 0 and 1e+14, got -1"},
  };
  for (const Case& c : cases) {
    json doc = valid_doc();
    doc[json::json_pointer(c.pointer)] = c.value;
    InputError e = expect_error(doc, "range.json");
    EXPECT_EQ(e.path(), c.pointer);
    EXPECT_EQ(e.message(), c.message) << c.pointer;
  }
}

TEST(ProfileLoad, DuplicateEntriesAreFoundWithoutComparingEveryPair) {
  json doc = valid_doc();
  for (int t = 1; t <= 3000; ++t) doc["kernels"].push_back(gemm_entry(t, 4096, 4096, 1, "bf16", 2e-4));
  doc["kernels"].push_back(gemm_entry(77, 4096, 4096, 1, "bf16", 3e-4));
  InputError e = expect_error(doc, "dups.json");
  EXPECT_EQ(e.path(), "/kernels/3002");
  EXPECT_EQ(e.message(), "duplicate entry: same kernel and shape as /kernels/78");
}

}  // namespace
}  // namespace mhc
