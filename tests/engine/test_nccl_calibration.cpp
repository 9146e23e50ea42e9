// NCCL's bandwidth put on a published nccl-tests figure: the efficiency one measurement gives (hand
// computed), the engine reproducing the figure it was calibrated on, and everything else untouched.
#include <gtest/gtest.h>

#include "core/json_input.h"
#include "engine/engine.h"
#include "engine/nccl_calibration.h"
#include "support/collective_run.h"
#include "support/engine_test_util.h"

using namespace mhc;
using namespace mhc::test;

namespace {

// nccl-tests #272's figure (8 H200, NVLink 450 GB/s like h100_cluster: 475 GB/s busbw at 4 GiB).
NcclMeasurement nvls_figure() {
  NcclMeasurement m;
  m.id = "h200";
  m.link = "nvlink";
  m.gpus = 8;
  m.bytes = 4294967296.0;
  m.busbw_Bps = 475e9;
  m.source = "test";
  return m;
}

}  // namespace

TEST(NcclCalibration, OneFigureGivesTheEfficiencyOfItsLinkAndAlgorithm) {
  ClusterSpec c = h100_cluster(1);
  c.nccl_measured = {nvls_figure()};
  NcclCalibration cal = calibrate_nccl(c);
  ASSERT_EQ(cal.points.size(), 1u);
  EXPECT_EQ(cal.points[0].link, LinkKind::nvlink);
  EXPECT_EQ(cal.points[0].algo, NcclAlgo::nvls);  // NCCL's choice for 4 GiB on one NVSwitch node
  // nccl-tests' time: 4 GiB x 2(8-1)/8 / 475 GB/s = 15.8236 ms. The tuner: NVLS latency 25 us and
  // 4 GiB at 450 x 5/6 = 375 GB/s = 11.4533 ms. Efficiency 11.4533 / (15.8236 - 0.025) = 0.72496.
  const double T = 4294967296.0 * 1.75 / 475e9;
  const double bw = 4294967296.0 / 375e9;
  EXPECT_NEAR(T, 15.8236e-3, 1e-7);
  EXPECT_NEAR(cal.points[0].efficiency, bw / (T - 25e-6), 1e-12);
  EXPECT_NEAR(cal.points[0].efficiency, 0.72496, 1e-5);
  EXPECT_NEAR(cal.efficiency(LinkKind::nvlink, NcclAlgo::nvls), 0.72496, 1e-5);
  EXPECT_EQ(cal.efficiency(LinkKind::nvlink, NcclAlgo::ring), 1.0);     // nothing measured: the tuner
  EXPECT_EQ(cal.efficiency(LinkKind::network, NcclAlgo::nvls), 1.0);
}

TEST(NcclCalibration, SeveralFiguresOfOneKindTakeTheirMean) {
  NcclCalibration cal;
  cal.points = {{"a", LinkKind::network, NcclAlgo::tree, 0.8}, {"b", LinkKind::network, NcclAlgo::tree, 0.9},
                {"c", LinkKind::nvlink, NcclAlgo::nvls, 0.5}};
  EXPECT_NEAR(cal.efficiency(LinkKind::network, NcclAlgo::tree), 0.85, 1e-12);
  EXPECT_EQ(cal.describe(), "nvlink/nvls x0.5 (c); network/tree x0.85 (a, b)");
}

TEST(NcclCalibration, TheEngineReproducesTheFigureItWasCalibratedOnAndLeavesOtherAlgorithmsAlone) {
  ClusterSpec plain = h100_cluster(1);
  ClusterSpec c = plain;
  c.nccl_measured = {nvls_figure()};
  const double S = 4294967296.0;
  const double T = S * 1.75 / 475e9;
  // The same operation as the figure lands on it (the calibration only scales the bandwidth term).
  EXPECT_NEAR(collective_seconds(c, CollectiveOp::all_reduce, range(0, 8), S) / T, 1.0, 1e-6);
  // At another size: latency + the bandwidth term slowed by the efficiency.
  const double eff = calibrate_nccl(c).points[0].efficiency;
  EXPECT_NEAR(collective_seconds(c, CollectiveOp::all_reduce, range(0, 8), S / 16) / (25e-6 + S / 16 / (375e9 * eff)), 1.0, 1e-6);
  // A ring (NCCL_ALGO=ring), across-node groups, and the uncalibrated cluster keep NCCL's tuner times.
  EXPECT_NEAR(collective_seconds(c, CollectiveOp::all_reduce, range(0, 8), S, NcclAlgo::ring) / collective_seconds(plain, CollectiveOp::all_reduce, range(0, 8), S, NcclAlgo::ring), 1.0, 1e-9);
  EXPECT_NEAR(collective_seconds(plain, CollectiveOp::all_reduce, range(0, 8), S) / (25e-6 + S / 375e9), 1.0, 1e-6);
}

TEST(NcclCalibration, AFigureBelowTheTunersLatencyIsAnInputError) {
  ClusterSpec c = h100_cluster(1);
  c.file = "cluster.json";
  NcclMeasurement m = nvls_figure();
  m.bytes = 4096;  // 4 KiB at 475 GB/s busbw: 15 ns, far below NVLS's 25 us latency
  m.pointer = "/nccl_measured/0";
  c.nccl_measured = {m};
  try {
    calibrate_nccl(c);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "cluster.json");
    EXPECT_EQ(e.path(), "/nccl_measured/0");
  }
}
