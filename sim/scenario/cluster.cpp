#include "scenario/cluster.h"

#include <filesystem>

#include "core/json_input.h"
#include "scenario/input_limits.h"

namespace mhc {

namespace {
constexpr double kGB = 1e9;   // GB/s and GB in cluster files are decimal (datasheet convention)
constexpr double kUs = 1e-6;

// Reads bandwidth_GBps and latency_us of `obj` (the caller finishes it: a NIC object has more keys).
LinkSpec parse_link(JsonObject& obj) {
  LinkSpec link;
  link.bandwidth_Bps = obj.required("bandwidth_GBps").number(limits::kMinLinkGBps, limits::kMaxLinkGBps) * kGB;
  link.latency_s = obj.required("latency_us").number(0, limits::kMaxLatencyUs) * kUs;
  return link;
}

}  // namespace

void parse_profile_list(const JsonValue& v, const std::string& base, std::string& main,
                        std::vector<std::string>& published) {
  auto one = [&](const JsonValue& item) {
    std::string path = resolve_relative(base, item.string());
    if (!is_regular_file_path(path)) item.fail("profile file not found: " + bounded(path, 240));
    return path;
  };
  published.clear();
  if (!v.is_array()) {
    main = one(v);
    return;
  }
  auto items = v.non_empty_array();
  main = one(items.front());
  for (size_t i = 1; i < items.size(); ++i) published.push_back(one(items[i]));
}

ClusterSpec parse_cluster(JsonObject obj, const std::string& base_dir) {
  ClusterSpec c;
  c.file = obj.value().file();
  c.pointer = obj.value().pointer();
  c.name = obj.required("name").string();
  if (auto notes = obj.optional("notes")) notes->string();
  c.nodes = static_cast<int>(obj.required("nodes").integer(1, limits::kMaxNodes));
  auto gpus_per_node = obj.required("gpus_per_node");
  c.gpus_per_node = static_cast<int>(gpus_per_node.integer(1, limits::kMaxGpusPerNode));
  if (int64_t(c.nodes) * c.gpus_per_node > limits::kMaxGpus)
    gpus_per_node.fail("nodes x gpus_per_node (" + std::to_string(int64_t(c.nodes) * c.gpus_per_node) +
                       ") must be at most " + std::to_string(limits::kMaxGpus) + " GPUs");

  auto gpu = obj.required("gpu").object();
  c.gpu = gpu.required("kind").string();
  c.gpu_memory_bytes = gpu.required("memory_GB").number(1, limits::kMaxGpuMemoryGB) * kGB;
  parse_profile_list(gpu.required("profile"), base_dir, c.profile, c.published_parts);
  if (auto note = gpu.optional("profile_note")) c.profile_note = note->string();
  if (auto hbm = gpu.optional("hbm_scaling")) {
    JsonObject h = hbm->object();
    const double from = h.required("profiled_gpu_TBps").number(0.1, 100);
    const double to = h.required("this_gpu_TBps").number(0.1, 100);
    c.profile_hbm_scale = to / from;
    c.profile_hbm_source = h.required("source").string();
    if (c.profile_hbm_source.empty()) h.required("source").fail("expected the datasheets the two bandwidths come from");
    h.finish();
  }
  // Communication kernels hold SMs while they move data (DeepSeek-V3 gives 20 of 132 to communication).
  const int64_t sms = gpu.required("sms").integer(1, limits::kMaxSms);
  const int64_t comm = gpu.required("comm_sms").integer(0, sms - 1);  // fewer than the GPU's SMs
  c.sms = static_cast<int>(sms);
  c.comm_sms = static_cast<int>(comm);
  gpu.finish();

  auto nvlink = obj.required("nvlink").object();
  c.nvlink = parse_link(nvlink);
  nvlink.finish();

  auto nics = obj.required("nics").object();
  auto per_node = nics.required("per_node");
  c.nics_per_node = static_cast<int>(per_node.integer(1, c.gpus_per_node));
  if (c.gpus_per_node % c.nics_per_node != 0)
    per_node.fail("must divide gpus_per_node (" + std::to_string(c.gpus_per_node) + "), got " +
                  std::to_string(c.nics_per_node));
  c.nic = parse_link(nics);  // reads bandwidth_GBps and latency_us of the same object
  nics.finish();

  auto fabric = obj.required("fabric").object();
  std::string topo = fabric.required("topology").one_of({"fat_tree", "rail_optimized", "multi_plane"});
  c.topology = topo == "fat_tree"         ? FabricTopology::fat_tree
               : topo == "rail_optimized" ? FabricTopology::rail_optimized
                                          : FabricTopology::multi_plane;
  c.planes = 1;
  if (auto planes = fabric.optional("planes")) {
    c.planes = static_cast<int>(planes->integer(1, c.nics_per_node));
    if (c.topology != FabricTopology::multi_plane && c.planes != 1)
      planes->fail("only a multi_plane fabric has more than one plane");
    if (c.nics_per_node % c.planes != 0)
      planes->fail("must divide nics.per_node (" + std::to_string(c.nics_per_node) + "), got " +
                   std::to_string(c.planes));
  }
  auto per_leaf = fabric.required("nodes_per_leaf");
  // At least `nodes` puts every node under one leaf group.
  c.nodes_per_leaf = static_cast<int>(per_leaf.integer(1, limits::kMaxNodes));
  // 1 = non-blocking.
  c.oversubscription = fabric.required("oversubscription").number(1, limits::kMaxOversubscription);
  c.fabric_hop.latency_s = fabric.required("hop_latency_us").number(0, limits::kMaxLatencyUs) * kUs;
  fabric.finish();

  if (auto measured = obj.optional("nccl_measured")) {
    for (const JsonValue& v : measured->array()) {  // [] runs on NCCL's tuner bandwidth
      auto m = v.object();
      NcclMeasurement x;
      x.pointer = v.pointer();
      x.id = m.required("id").string();
      if (x.id.empty()) m.required("id").fail("expected a non-empty case id");
      x.link = m.required("link").one_of({"nvlink", "network"});
      const std::string op = m.required("op").one_of({"all_reduce", "reduce_scatter", "all_gather"});
      x.op = op == "all_reduce" ? CollectiveOp::all_reduce
             : op == "reduce_scatter" ? CollectiveOp::reduce_scatter : CollectiveOp::all_gather;
      auto gpus = m.required("gpus");
      x.gpus = static_cast<int>(gpus.integer(2, c.total_gpus()));
      if (x.link == "nvlink" && x.gpus > c.gpus_per_node)
        gpus.fail("an nvlink measurement runs inside one node: expected at most " +
                  std::to_string(c.gpus_per_node) + " GPUs, got " + std::to_string(x.gpus) +
                  " (a cluster that cannot host it needs nccl_measured [])");
      if (x.link == "network" && (x.gpus <= c.gpus_per_node || x.gpus % c.gpus_per_node != 0))
        gpus.fail("a network measurement spans whole nodes: expected a multiple of " +
                  std::to_string(c.gpus_per_node) + " above it, got " + std::to_string(x.gpus) +
                  " (a cluster that cannot host it needs nccl_measured [])");
      x.bytes = m.required("bytes").number(1, 1e15);
      x.busbw_Bps = m.required("busbw_GBps").number(limits::kMinLinkGBps, limits::kMaxLinkGBps) * kGB;
      x.source = m.required("source").string();
      if (x.source.empty()) m.required("source").fail("expected the published source of the figure");
      if (auto notes = m.optional("notes")) notes->string();
      m.finish();
      for (const NcclMeasurement& y : c.nccl_measured)
        if (y.id == x.id) v.fail("id '" + x.id + "' appears twice");
      c.nccl_measured.push_back(x);
    }
  }

  if (auto measured = obj.optional("deepep_measured"))
    c.deepep_measured = parse_deepep_measured(*measured, c.gpus_per_node, c.total_gpus());

  obj.finish();
  return c;
}

ClusterSpec load_cluster_file(const std::string& path) {
  return read_guarded(path, [&] {
    return parse_cluster(load_json_file(path).object(), std::filesystem::path(path).parent_path().string());
  });
}

}  // namespace mhc
