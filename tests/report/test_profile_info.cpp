// profile-info's text on the committed reference profile and on a synthetic measured profile.
#include <gtest/gtest.h>

#include <sstream>

#include "report/profile_info.h"
#include "support/test_profile_support.h"

namespace mhc {
namespace {

TEST(ProfileInfo, ReferenceProfileShowsProvenanceCeilingsAndNoKernels) {
  Profile p = load_profile(std::string(MHC_SOURCE_DIR) + "/profiles/h100-sxm-reference.json");
  std::ostringstream out;
  write_profile_info(out, p, {});
  const std::string s = out.str();
  EXPECT_NE(s.find("kind: reference"), std::string::npos) << s;
  EXPECT_NE(s.find("copy bandwidth      3 TB/s"), std::string::npos) << s;
  EXPECT_NE(s.find("peak bf16           690 TFLOP/s"), std::string::npos) << s;
  EXPECT_NE(s.find("launch overhead     none measured"), std::string::npos) << s;
  EXPECT_NE(s.find("every op is priced by roofline"), std::string::npos) << s;
}

TEST(ProfileInfo, MeasuredProfileShowsShapesBandwidthAndBytesPerToken) {
  nlohmann::json doc = testing::measured_profile_json();
  const int n = 4;
  const int64_t C = 2560;
  auto model = *io_model_bytes_per_token("mhc_fused.post_res_fwd", n, C);
  for (int64_t t : {4096, 16384}) {
    // Half the copy bandwidth on the model bytes; DRAM counts 2% above the model.
    const double bytes = (model.read + model.write) * t;
    auto e = testing::mhc_entry("mhc_fused.post_res_fwd", n, C, t, bytes / 1.0e12, model.read * t, model.write * t);
    e["dram_bytes"] = {{"read", 1.02 * model.read * t}, {"write", 1.02 * model.write * t}};
    doc["kernels"].push_back(e);
  }
  Profile p = testing::load_json_profile(doc, "info.json");
  std::ostringstream out;
  ProfileInfoOptions opt;
  opt.list_entries = true;
  write_profile_info(out, p, opt);
  const std::string s = out.str();
  EXPECT_NE(s.find("mhc_fused.post_res_fwd      2    shapes: n{4} C{2560} tokens{4096,16384}"), std::string::npos) << s;
  EXPECT_NE(s.find("= 51% of copy"), std::string::npos) << s;  // 1.02 x 1 TB/s of 2 TB/s
  EXPECT_NE(s.find("(x1.02 / x1.02)"), std::string::npos) << s;
  // Both entries end the token range; each priced by the other's efficiency (equal here) is exact.
  EXPECT_NE(s.find("mhc         interpolated none over 0 entries (target 5%, 0 over it); extrapolated (ends of "
                   "ranges) worst 0%, p95 0% over 2"),
            std::string::npos)
      << s;
  EXPECT_EQ(s.find("OFF BY"), std::string::npos) << s;
}

}  // namespace
}  // namespace mhc
