// The Perfetto trace of a run shows each GPU's streams with the share each kernel got: per-event
// arguments and counter tracks of SMs held and HBM bandwidth by stream.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "report/trace.h"
#include "support/engine_test_util.h"

namespace mhc {
namespace {

using nlohmann::json;

TEST(TraceShares, EventsAndCountersShowEachKernelsShare) {
  ClusterSpec c = test::h100_cluster(1, 2);
  c.comm_sms = 20;
  TaskGraph g;
  // A memory-bound kernel on 40 SMs beside a GEMM for 0.2 s, then a transfer out of GPU 0.
  const TaskId m = test::add_compute(g, "post-res", 0, 0.2, Stream::high_priority, 40.0 / 132, 0.2 * 1.5e12);
  test::add_compute(g, "gemm", 0, 1.0);
  const TaskId t = test::add_transfer(g, "send", 0, 1, 450e9 * 0.1 - 450e9 * 1e-6);
  boost::add_edge(m, t, g);
  EngineOptions o;
  o.gpu.hbm_Bps = 3e12;
  o.gpu.record_segments = true;
  const EngineResult r = simulate(c, g, o);
  const TraceShares shares{&r.shares, &r.comm_segments, 132.0};
  const json doc = json::parse(chrome_trace_json(g, r.timings, 1e6, &shares));

  std::map<std::string, json> events;
  std::vector<json> sms;  // "SMs held" counters of GPU 0, in time order
  for (const json& e : doc["traceEvents"]) {
    if (e["ph"] == "X" && e["pid"] == 0) events[e["name"].get<std::string>()] = e["args"];
    if (e["ph"] == "C" && e["pid"] == 0 && e["name"] == "SMs held") sms.push_back(e);
  }
  ASSERT_TRUE(events.count("gemm") && events.count("post-res"));
  EXPECT_NEAR(events["post-res"]["speed"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR(events["post-res"]["mean_sms"].get<double>(), 40.0, 1e-6);
  EXPECT_NEAR(events["post-res"]["mean_hbm_GBps"].get<double>(), 1500.0, 1e-3);
  // The GEMM lost 40/132 of 0.2 s to post-res and 20/132 of 0.1 s to the send.
  EXPECT_NEAR(events["gemm"]["lost_to_corun_s"].get<double>(), 0.2 * 40 / 132, 1e-9);
  EXPECT_NEAR(events["gemm"]["lost_to_comm_s"].get<double>(), 0.1 * 20 / 132, 1e-9);
  ASSERT_GE(sms.size(), 3u);
  EXPECT_NEAR(sms[0]["args"]["compute"].get<double>(), 92.0, 1e-9);
  EXPECT_NEAR(sms[0]["args"]["high_priority"].get<double>(), 40.0, 1e-9);
  EXPECT_NEAR(sms[1]["ts"].get<double>(), 0.2e6, 1e-3);  // post-res ends, the send begins
  EXPECT_NEAR(sms[1]["args"]["high_priority"].get<double>(), 0.0, 1e-9);
  EXPECT_NEAR(sms[1]["args"]["communication kernels"].get<double>(), 20.0, 1e-9);
  EXPECT_NEAR(sms[1]["args"]["compute"].get<double>(), 112.0, 1e-9);
  // Without shares the trace is what it was: no counters.
  const json plain = json::parse(chrome_trace_json(g, r.timings, 1e6));
  for (const json& e : plain["traceEvents"]) EXPECT_NE(e["ph"], "C");
}

}  // namespace
}  // namespace mhc
