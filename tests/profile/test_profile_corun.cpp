// The corun section (schema version 4): read, validated, written back, merged; and the SMs a
// bandwidth needs on its copy curve.
#include <gtest/gtest.h>

#include "core/json_input.h"
#include "profile/profile.h"
#include "profile/profile_corun.h"
#include "profile/profile_merge.h"
#include "support/test_profile_support.h"

namespace mhc {
namespace {

using nlohmann::json;

json with_corun() {
  json doc = testing::measured_profile_json();
  doc["schema_version"] = 4;
  doc["corun"] = testing::corun_json();
  return doc;
}

InputError load_error(const json& doc, const std::string& name) {
  const std::string path = testing::write_temp_json(doc, name);
  try {
    load_profile(path);
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), path);
    return e;
  }
  ADD_FAILURE() << "no InputError for " << name;
  return InputError(path, "", "");
}

TEST(ProfileCorun, LoadsEveryField) {
  Profile p = testing::load_json_profile(with_corun(), "corun.json");
  ASSERT_TRUE(p.corun);
  const ProfileCorun& c = *p.corun;
  ASSERT_EQ(c.copy_by_sms.size(), 3u);
  EXPECT_EQ(c.copy_by_sms[1].sms, 50);
  EXPECT_DOUBLE_EQ(c.copy_by_sms[1].bandwidth_Bps, 1.6e12);
  EXPECT_EQ(c.gemm_shape.gemm_n, 4096);
  EXPECT_EQ(c.post_res_shape.n, 4);
  EXPECT_DOUBLE_EQ(c.post_res_alone_s, 1e-4);
  EXPECT_DOUBLE_EQ(c.post_res_high_priority.post_res_s, 1.1e-4);
  EXPECT_EQ(c.copy_sms, 20);
  EXPECT_DOUBLE_EQ(c.copy_beside_gemm_Bps, 8.5e11);
  EXPECT_EQ(c.pointer, "/corun");
}

TEST(ProfileCorun, SmsForABandwidthFollowTheCurve) {
  Profile p = testing::load_json_profile(with_corun(), "corun_curve.json");
  const ProfileCorun& c = *p.corun;
  EXPECT_DOUBLE_EQ(c.sms_for_bandwidth(0.5e12), 12.5);  // from (0, 0) to the first point
  EXPECT_DOUBLE_EQ(c.sms_for_bandwidth(1.3e12), 37.5);  // halfway from 25 to 50 SMs
  EXPECT_DOUBLE_EQ(c.sms_for_bandwidth(2.0e12), 100.0);
  EXPECT_DOUBLE_EQ(c.sms_for_bandwidth(2.5e12), 100.0);  // beyond the curve: the whole GPU
}

TEST(ProfileCorun, WrittenAndReadBackUnchanged) {
  Profile p = testing::load_json_profile(with_corun(), "corun_write.json");
  const json out = profile_to_json(p);
  EXPECT_EQ(out["schema_version"], 4);
  EXPECT_EQ(out["corun"], with_corun()["corun"]);
  p.corun.reset();
  EXPECT_EQ(profile_to_json(p)["schema_version"], 1);  // the lowest version that holds the file
}

TEST(ProfileCorun, RejectedWhereTheSchemaDoesNotAllowIt) {
  json v3 = with_corun();
  v3["schema_version"] = 3;
  EXPECT_EQ(load_error(v3, "corun_v3.json").path(), "/corun");  // an unknown key before version 4

  json reference = with_corun();
  reference["kind"] = "reference";
  reference["provenance"] = {{"gpu", "Synthetic GPU"}, {"date", "2026-01-01"}, {"compiled_from", "test"}};
  EXPECT_EQ(load_error(reference, "corun_ref.json").path(), "/corun");
}

TEST(ProfileCorun, BadValuesNameTheirPath) {
  json doc = with_corun();
  doc["corun"]["copy_by_sms"][1]["sms"] = 25;
  EXPECT_EQ(load_error(doc, "corun_order.json").path(), "/corun/copy_by_sms/1/sms");

  doc = with_corun();
  doc["corun"]["copy_by_sms"][2]["sms"] = 90;
  InputError whole = load_error(doc, "corun_short.json");
  EXPECT_EQ(whole.path(), "/corun/copy_by_sms");
  EXPECT_NE(whole.message().find("whole GPU"), std::string::npos) << whole.what();

  doc = with_corun();
  doc["corun"]["same_priority"]["span_s"] = 1e-4;  // shorter than the GEMM it contains
  EXPECT_EQ(load_error(doc, "corun_span.json").path(), "/corun/same_priority/span_s");

  doc = with_corun();
  doc["corun"]["gemm_beside_copy"]["copy_sms"] = 100;
  EXPECT_EQ(load_error(doc, "corun_copy_sms.json").path(), "/corun/gemm_beside_copy/copy_sms");

  doc = with_corun();
  doc["corun"]["post_res"]["alone_s"] = 0;
  EXPECT_EQ(load_error(doc, "corun_zero.json").path(), "/corun/post_res/alone_s");

  doc = with_corun();
  doc["corun"]["extra"] = 1;
  EXPECT_EQ(load_error(doc, "corun_unknown.json").path(), "/corun/extra");
}

TEST(ProfileCorun, MergeKeepsTheFirstSectionWithItsPart) {
  Profile a = testing::load_json_profile(testing::measured_profile_json(), "merge_a.json");
  Profile b = testing::load_json_profile(with_corun(), "merge_b.json");
  Profile c = testing::load_json_profile(with_corun(), "merge_c.json");
  MergedProfile m = merge_profiles({a, b, c}, "mhcsim profile-merge", "2026-01-01T00:00:00Z");
  ASSERT_TRUE(m.profile.corun);
  EXPECT_EQ(m.profile.corun->part, 1);
  EXPECT_FALSE(m.warnings.empty());
  const json out = profile_to_json(m.profile);  // validates by the reader's rules
  EXPECT_EQ(out["schema_version"], 4);
  EXPECT_EQ(out["corun"]["part"], 1);
}

}  // namespace
}  // namespace mhc
