// The GPU model's sharing rule (engine/gpu_share.h) on its own: closed forms, no simulation.
#include <gtest/gtest.h>

#include "engine/gpu_share.h"

using namespace mhc;

TEST(GpuShare, WaterFillGivesSmallDemandsInFullAndSplitsTheRestEvenly) {
  const std::vector<double> got = water_fill(100.0, {10.0, 80.0, 60.0});
  EXPECT_DOUBLE_EQ(got[0], 10.0);
  EXPECT_DOUBLE_EQ(got[1], 45.0);
  EXPECT_DOUBLE_EQ(got[2], 45.0);
  const std::vector<double> room = water_fill(100.0, {10.0, 20.0});
  EXPECT_DOUBLE_EQ(room[0], 10.0);
  EXPECT_DOUBLE_EQ(room[1], 20.0);
}

TEST(GpuShare, TheScarcerResourceSetsThePace) {
  const GpuCapacity gpu{132.0, 3.0e12};
  // Alone, a kernel runs at full speed.
  EXPECT_DOUBLE_EQ(share_gpu(gpu, 0, 0, {{132.0, 1.0e12, false}})[0].speed, 1.0);
  // Two HBM-saturating kernels on few SMs: half the bandwidth each.
  auto two = share_gpu(gpu, 0, 0, {{20.0, 3.0e12, false}, {20.0, 3.0e12, false}});
  EXPECT_DOUBLE_EQ(two[0].speed, 0.5);
  EXPECT_DOUBLE_EQ(two[1].hbm_Bps, 1.5e12);
  EXPECT_DOUBLE_EQ(two[1].sms, 20.0);  // a kernel waiting on memory keeps its SMs
  // Communication holding 20 SMs and 1 TB/s: a GEMM gets the other 112 SMs.
  auto gemm = share_gpu(gpu, 20, 1.0e12, {{132.0, 0.3e12, false}});
  EXPECT_DOUBLE_EQ(gemm[0].speed, 112.0 / 132.0);
  // ... and a memory-bound kernel on 40 SMs the other 2 TB/s.
  auto mem = share_gpu(gpu, 20, 1.0e12, {{40.0, 3.0e12, false}});
  EXPECT_DOUBLE_EQ(mem[0].speed, 2.0 / 3.0);
}

TEST(GpuShare, HighPriorityIsServedFirstForSmsOnly) {
  const GpuCapacity gpu{132.0, 3.0e12};
  auto s = share_gpu(gpu, 0, 0, {{132.0, 0.0, false}, {120.0, 0.0, true}});
  EXPECT_DOUBLE_EQ(s[1].sms, 120.0);
  EXPECT_DOUBLE_EQ(s[0].sms, 12.0);
  // HBM carries no priority: two kernels wanting all of it split it evenly whatever their streams.
  auto h = share_gpu(gpu, 0, 0, {{20.0, 3.0e12, false}, {20.0, 3.0e12, true}});
  EXPECT_DOUBLE_EQ(h[0].speed, 0.5);
  EXPECT_DOUBLE_EQ(h[1].speed, 0.5);
}

TEST(GpuShare, TimelineSplitsLostTimeByCause) {
  GpuTimeline tl({100.0, 0.0}, false);
  tl.add(7, 1.0, {100.0, 0.0, false}, 0.0);
  tl.set_comm(20.0, 0.0, 0.0);  // 80 SMs left: speed 0.8
  tl.advance(0.5);
  tl.set_comm(0.0, 0.0, 0.5);
  EXPECT_DOUBLE_EQ(tl.next_finish(), 0.5 + 0.6);
  tl.advance(1.1);
  auto done = tl.take_finished(1.1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, 7u);
  EXPECT_NEAR(done[0].lost_to_comm_s, 0.1, 1e-12);
  EXPECT_NEAR(done[0].lost_to_corun_s, 0.0, 1e-12);
  EXPECT_TRUE(tl.idle());
}
