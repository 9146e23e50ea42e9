#include "scenario/cluster.h"

#include <filesystem>

#include "core/json_input.h"

namespace mhc {

namespace {
constexpr double kGB = 1e9;   // GB/s and GB in cluster files are decimal (datasheet convention)
constexpr double kUs = 1e-6;

LinkSpec parse_link(JsonObject obj) {
  LinkSpec link;
  link.bandwidth_Bps = obj.required("bandwidth_GBps").positive() * kGB;
  link.latency_s = obj.required("latency_us").non_negative() * kUs;
  return link;
}

}  // namespace

ClusterSpec parse_cluster(JsonObject obj, const std::string& base_dir) {
  ClusterSpec c;
  c.file = obj.value().file();
  c.name = obj.required("name").string();
  if (auto notes = obj.optional("notes")) notes->string();
  c.nodes = static_cast<int>(obj.required("nodes").integer_at_least(1));
  c.gpus_per_node = static_cast<int>(obj.required("gpus_per_node").integer_at_least(1));

  auto gpu = obj.required("gpu").object();
  c.gpu = gpu.required("kind").string();
  c.gpu_memory_bytes = gpu.required("memory_GB").positive() * kGB;
  // One profile file, or a list: the measured (or reference) profile first, then published parts.
  auto profile = gpu.required("profile");
  auto one = [&](const JsonValue& item) {
    std::string path = resolve_relative(base_dir, item.string());
    if (!std::filesystem::is_regular_file(path)) item.fail("profile file not found: " + path);
    return path;
  };
  if (profile.is_array()) {
    auto items = profile.non_empty_array();
    c.profile = one(items.front());
    for (size_t i = 1; i < items.size(); ++i) c.published_parts.push_back(one(items[i]));
  } else {
    c.profile = one(profile);
  }
  if (auto note = gpu.optional("profile_note")) c.profile_note = note->string();
  // Communication kernels hold SMs while they move data (DeepSeek-V3 gives 20 of 132 to communication).
  c.sms = static_cast<int>(gpu.required("sms").integer_at_least(1));
  auto comm_sms = gpu.required("comm_sms");
  c.comm_sms = static_cast<int>(comm_sms.integer_at_least(0));
  if (c.comm_sms >= c.sms) comm_sms.fail("must be fewer than the GPU's sms (" + std::to_string(c.sms) + ")");
  gpu.finish();

  c.nvlink = parse_link(obj.required("nvlink").object());

  auto nics = obj.required("nics").object();
  auto per_node = nics.required("per_node");
  c.nics_per_node = static_cast<int>(per_node.integer_at_least(1));
  if (c.nics_per_node > c.gpus_per_node || c.gpus_per_node % c.nics_per_node != 0)
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
    c.planes = static_cast<int>(planes->integer_at_least(1));
    if (c.topology != FabricTopology::multi_plane && c.planes != 1)
      planes->fail("only a multi_plane fabric has more than one plane");
    if (c.nics_per_node % c.planes != 0)
      planes->fail("must divide nics.per_node (" + std::to_string(c.nics_per_node) + "), got " +
                   std::to_string(c.planes));
  }
  auto per_leaf = fabric.required("nodes_per_leaf");
  c.nodes_per_leaf = static_cast<int>(per_leaf.integer_at_least(1));
  auto oversub = fabric.required("oversubscription");
  c.oversubscription = oversub.number();
  if (c.oversubscription < 1.0) oversub.fail("must be >= 1 (1 = non-blocking), got " + std::to_string(c.oversubscription));
  c.fabric_hop.latency_s = fabric.required("hop_latency_us").non_negative() * kUs;
  fabric.finish();

  obj.finish();
  return c;
}

ClusterSpec load_cluster_file(const std::string& path) {
  auto doc = load_json_file(path);
  return parse_cluster(doc.object(), std::filesystem::path(path).parent_path().string());
}

}  // namespace mhc
