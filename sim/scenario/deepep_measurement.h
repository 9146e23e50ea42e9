// One published DeepEP benchmark figure on a cluster's hardware ("deepep_measured" in a cluster file):
// the bandwidth DeepEP's own test reported for its dispatch or combine kernel on an EP group, with the
// test's shape (tokens, hidden, experts, top-k, node limit, payload precision) so the figure can be
// replayed through the same byte formula the simulator prices MoE layers with (cost/moe_traffic.h).
// cost/deepep_calibration.h turns each into an efficiency of the link class the figure counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace mhc {

class JsonValue;

struct DeepEpMeasurement {
  enum class Kernel { dispatch, combine };
  enum class Counted { rdma, nvlink };  // what DeepEP's test divides by the time (its "bottleneck")
  std::string id;  // the accuracy suite's case id for the same figure (held out when it is checked)
  Kernel kernel = Kernel::dispatch;
  Counted counted = Counted::rdma;
  int ep = 0;              // EP group size: the cluster's first `ep` GPUs, whole nodes first
  int64_t tokens = 0;      // tokens per rank in the test's batch
  int64_t hidden = 0;
  int64_t experts = 0;     // routed experts over the whole group
  int64_t top_k = 0;
  int64_t max_nodes = 0;   // node-limited routing (DeepEP's test: top-k groups); 0 = none
  DType payload = DType::bf16;
  double bandwidth_Bps = 0;  // as the test reports it
  int sms = 0;               // SMs the kernel ran on in the test
  std::string source;
  std::string pointer;       // JSON path of the entry, for messages
};

const char* to_string(DeepEpMeasurement::Kernel k);
const char* to_string(DeepEpMeasurement::Counted c);

// Reads the cluster's "deepep_measured" array. `gpus_per_node` and `total_gpus` bound the groups:
// an nvlink figure runs in one node, an rdma one on whole nodes. Throws InputError with the JSON path.
std::vector<DeepEpMeasurement> parse_deepep_measured(const JsonValue& v, int gpus_per_node, int total_gpus);

}  // namespace mhc
