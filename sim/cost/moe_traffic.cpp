#include "cost/moe_traffic.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <stdexcept>

namespace mhc {
namespace {

// C(n - m, k) / C(n, k): the chance that k draws without replacement from n miss a given m.
double miss_all(int64_t n, int64_t m, int64_t k) {
  double p = 1.0;
  for (int64_t i = 0; i < k; ++i) p *= double(std::max<int64_t>(0, n - m - i)) / double(n - i);
  return p;
}

// DeepEP's token message (csrc/kernels/legacy/internode.cu get_num_bytes_per_token): payload, FP32
// scales, the 8-byte SourceMeta, 4-byte top-k indices and weights, padded to 16 bytes (int4).
double deepep_message(double payload, double scales, int64_t topk_idx, int64_t topk_weights) {
  const double raw = payload + 8.0 + 4.0 * (scales + double(topk_idx) + double(topk_weights));
  return 16.0 * std::ceil(raw / 16.0);
}

// FP32 scales of an FP8 payload: one per 128 values (DeepSeek-V3 sec. 3.3.2, 1x128 tiles).
double fp8_scales(DType t, int64_t hidden) { return t == DType::fp8 ? std::ceil(double(hidden) / 128.0) : 0.0; }

}  // namespace

MoeTraffic moe_traffic(const MoeTrafficInput& in) {
  if (in.hidden < 1 || in.experts < 1 || in.top_k < 1 || in.top_k > in.experts || in.nodes < 1 ||
      in.gpus_per_node < 1 || in.max_nodes < 0)
    throw std::invalid_argument("moe_traffic: hidden, experts, top_k (<= experts), nodes and GPUs per node must be >= 1");
  const int64_t N = in.nodes, g = in.gpus_per_node, G = N * g, k = in.top_k, C = in.hidden;
  if (in.experts % G != 0) throw std::invalid_argument("moe_traffic: the experts must spread evenly over the EP group");
  MoeTraffic t;
  if (in.mode == "direct") {
    t.network_copies = double(k) * double(G - g) / double(G);
    t.nvlink_copies = double(k) * double(g - 1) / double(G);
    t.gpus_hit = double(k);
    t.nodes_hit = double(N);
    t.dispatch_copy = double(C) * dtype_bytes(in.dispatch);
    t.dispatch_backward_copy = double(C) * dtype_bytes(in.dispatch_backward);
    t.combine_copy = double(C) * 2.0;
  } else if (in.mode == "rail") {
    const int64_t M = in.max_nodes > 0 ? std::min(in.max_nodes, N) : N;
    const int64_t per_node = in.experts / N, per_gpu = in.experts / G, K = M * per_node;
    if (k > K)
      throw std::invalid_argument("moe_traffic: top_k (" + std::to_string(k) + ") exceeds the experts on " +
                                  std::to_string(M) + " node(s) (" + std::to_string(K) + ")");
    const double p_node = 1.0 - miss_all(K, per_node, k), p_gpu = 1.0 - miss_all(K, per_gpu, k);
    t.nodes_hit = double(M) * p_node;
    t.gpus_hit = double(M * g) * p_gpu;
    t.network_copies = t.nodes_hit * double(N - 1) / double(N);
    t.nvlink_copies = double(M) * double(g - 1) * p_gpu;
    t.dispatch_copy = deepep_message(double(C) * dtype_bytes(in.dispatch), fp8_scales(in.dispatch, C), k, k);
    t.dispatch_backward_copy =
        deepep_message(double(C) * dtype_bytes(in.dispatch_backward), fp8_scales(in.dispatch_backward, C), k, k);
    t.combine_copy = deepep_message(double(C) * 2.0, 0.0, 0, k);
  } else {
    throw std::invalid_argument("moe_traffic: mode must be direct or rail, got '" + in.mode + "'");
  }
  auto on_links = [&](double copy) { return LinkBytes{t.nvlink_copies * copy, t.network_copies * copy}; };
  t.forward_dispatch = on_links(t.dispatch_copy);
  t.forward_combine = on_links(t.combine_copy);
  t.backward_dispatch = on_links(t.dispatch_backward_copy);
  t.backward_combine = on_links(t.combine_copy);
  if (in.mode == "direct") {
    t.forward_buffer = double(k) * (t.dispatch_copy + t.combine_copy);
    t.backward_buffer = double(k) * (t.dispatch_backward_copy + t.combine_copy);
  } else {
    t.forward_buffer = t.forward().total();
    t.backward_buffer = t.backward().total();
  }
  return t;
}

MoeTrafficInput moe_traffic_input(const Scenario& s) {
  MoeTrafficInput in;
  const EpNodes en = ep_nodes(s.parallel, s.cluster.gpus_per_node);
  in.mode = s.parallel.ep_all_to_all;
  in.hidden = s.model.hidden;
  in.experts = s.model.ffn.routed_experts;
  in.top_k = s.model.ffn.top_k;
  in.nodes = en.nodes;
  in.gpus_per_node = en.gpus_per_node;
  in.max_nodes = s.model.ffn.max_nodes_per_token;
  in.dispatch = s.model.precision.moe_dispatch;
  in.dispatch_backward = s.model.precision.moe_dispatch_backward;
  return in;
}

}  // namespace mhc
