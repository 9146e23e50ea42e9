#include "scenario/deepep_measurement.h"

#include "core/json_input.h"
#include "scenario/input_limits.h"

namespace mhc {

const char* to_string(DeepEpMeasurement::Kernel k) {
  return k == DeepEpMeasurement::Kernel::dispatch ? "dispatch" : "combine";
}
const char* to_string(DeepEpMeasurement::Counted c) {
  return c == DeepEpMeasurement::Counted::rdma ? "rdma" : "nvlink";
}

std::vector<DeepEpMeasurement> parse_deepep_measured(const JsonValue& v, int gpus_per_node, int total_gpus) {
  std::vector<DeepEpMeasurement> out;
  for (const JsonValue& item : v.array()) {  // [] leaves DeepEP's kernels at the links' rates
    auto m = item.object();
    DeepEpMeasurement x;
    x.pointer = item.pointer();
    x.id = m.required("id").string();
    if (x.id.empty()) m.required("id").fail("expected a non-empty case id");
    x.kernel = m.required("kernel").one_of({"dispatch", "combine"}) == "dispatch" ? DeepEpMeasurement::Kernel::dispatch
                                                                                   : DeepEpMeasurement::Kernel::combine;
    x.counted = m.required("counted").one_of({"rdma", "nvlink"}) == "rdma" ? DeepEpMeasurement::Counted::rdma
                                                                           : DeepEpMeasurement::Counted::nvlink;
    auto ep = m.required("ep");
    x.ep = static_cast<int>(ep.integer(2, total_gpus));
    if (x.counted == DeepEpMeasurement::Counted::nvlink && x.ep > gpus_per_node)
      ep.fail("an nvlink figure is DeepEP's intranode kernel: expected at most " + std::to_string(gpus_per_node) +
              " GPUs, got " + std::to_string(x.ep));
    if (x.counted == DeepEpMeasurement::Counted::rdma && (x.ep <= gpus_per_node || x.ep % gpus_per_node != 0))
      ep.fail("an rdma figure is DeepEP's internode kernel on whole nodes: expected a multiple of " +
              std::to_string(gpus_per_node) + " above it, got " + std::to_string(x.ep));
    x.tokens = m.required("tokens").integer(1, limits::kMaxTokens);
    x.hidden = m.required("hidden").integer(1, limits::kMaxHidden);
    auto experts = m.required("experts");
    x.experts = experts.integer(1, limits::kMaxExperts);
    if (x.experts % x.ep != 0)
      experts.fail("expected a multiple of ep (" + std::to_string(x.ep) + ": the experts spread evenly), got " +
                   std::to_string(x.experts));
    const int64_t nodes = x.ep > gpus_per_node ? x.ep / gpus_per_node : 1;
    x.max_nodes = m.required("max_nodes").integer(0, nodes);
    // Node-limited routing picks the top-k among the experts of max_nodes nodes.
    const int64_t candidates = (x.max_nodes > 0 ? x.max_nodes : nodes) * (x.experts / nodes);
    x.top_k = m.required("top_k").integer(1, candidates);
    x.payload = m.required("payload").one_of({"fp8", "bf16"}) == "fp8" ? DType::fp8 : DType::bf16;
    if (x.kernel == DeepEpMeasurement::Kernel::combine && x.payload != DType::bf16)
      m.required("payload").fail("DeepEP's combine is BF16 only (its README: FP8 dispatching, BF16 combining)");
    x.bandwidth_Bps = m.required("bandwidth_GBps").number(limits::kMinLinkGBps, limits::kMaxLinkGBps) * 1e9;
    x.sms = static_cast<int>(m.required("sms").integer(1, limits::kMaxSms));
    x.source = m.required("source").string();
    if (x.source.empty()) m.required("source").fail("expected the published source of the figure");
    if (auto notes = m.optional("notes")) notes->string();
    m.finish();
    for (const DeepEpMeasurement& y : out)
      if (y.id == x.id) item.fail("id '" + x.id + "' appears twice");
    out.push_back(x);
  }
  return out;
}

}  // namespace mhc
