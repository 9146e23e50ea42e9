// mhc-profile's clock samples summarised into the profile (the CPU side of the NVML sampler), and the
// record round-tripping through the profile writer and reader.
#include <gtest/gtest.h>

#include "clock_summary.h"
#include "core/json_input.h"

using namespace mhc;
using namespace mhc::profiler;

TEST(ClockSummary, MedianRangeAndEveryReasonSeen) {
  // Four samples: a boost clock, then the power cap pulling it down.
  std::vector<ClockSample> s{{1980, 2619, 300, 0x0}, {1755, 2619, 699, 0x4}, {1710, 2619, 700, 0x4 | 0x20},
                             {1830, 2619, -1, 0x1}};
  ClockPart p = summarize_clocks("gemm", s);
  EXPECT_EQ(p.samples, 4);
  EXPECT_DOUBLE_EQ(p.sm_clock_mhz.min, 1710);
  EXPECT_DOUBLE_EQ(p.sm_clock_mhz.median, (1755 + 1830) / 2.0);
  EXPECT_DOUBLE_EQ(p.sm_clock_mhz.max, 1980);
  ASSERT_TRUE(p.power_w.has_value());
  EXPECT_DOUBLE_EQ(p.power_w->median, 699);  // the unreadable sample left out
  EXPECT_EQ(p.throttle_reasons, (std::vector<std::string>{"gpu_idle", "sw_power_cap", "sw_thermal_slowdown"}));
  EXPECT_EQ(clock_event_reason_names(0x200), std::vector<std::string>{"0x200"});
  EXPECT_THROW(summarize_clocks("empty", {}), std::invalid_argument);
}

TEST(ClockSummary, RecordRoundTripsThroughTheProfile) {
  Profile p;
  p.kind = ProfileKind::measured;
  p.provenance = {};
  p.provenance.gpu = "NVIDIA H100 80GB HBM3";
  p.provenance.date = "2026-11-30T00:00:00Z";
  p.provenance.command = "mhc-profile --sustained 30";
  p.provenance.sm_count = 132;
  p.provenance.sm_clock_mhz = 1980;
  p.provenance.memory_clock_mhz = 2619;
  p.provenance.memory_bytes = 8e10;
  p.provenance.driver = "580";
  p.provenance.cuda_runtime = "13.0";
  p.provenance.cupti = "130001";
  ClockRecord c;
  c.mode = "sustained";
  c.sustained_load_s = 30;
  c.source = "NVML";
  c.parts.push_back(summarize_clocks("gemm", {{1755, 2619, 699, 0x4}}));
  p.provenance.clocks = c;
  p.ceilings.copy_bandwidth_Bps = {3e12, "measured"};
  p.ceilings.peak_flops[DType::bf16] = {8e14, "measured"};
  const nlohmann::json j = profile_to_json(p);
  EXPECT_EQ(j["schema_version"], 3);
  const Profile q = parse_profile(parse_json_text(j.dump(), "clocks.json"));
  ASSERT_TRUE(q.provenance.clocks.has_value());
  EXPECT_EQ(q.provenance.clocks->mode, "sustained");
  EXPECT_DOUBLE_EQ(q.provenance.clocks->parts.at(0).sm_clock_mhz.median, 1755);
  EXPECT_EQ(q.provenance.clocks->parts.at(0).throttle_reasons, std::vector<std::string>{"sw_power_cap"});
}
