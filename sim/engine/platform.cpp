// Topology routes and the SimGrid platform. The platform is one custom netzone whose routes are
// computed from the topology on demand: a full route table would need n^2 entries at 16384 GPUs,
// and SimGrid's built-in zones cannot express "GPU g leaves by NIC k, or by NVLink to a proxy".
#include "engine/platform.h"

#include <cmath>
#include <stdexcept>

#include <simgrid/kernel/resource/NetworkModelIntf.hpp>
#include <simgrid/kernel/routing/NetPoint.hpp>
#include <simgrid/kernel/routing/NetZoneImpl.hpp>
#include <simgrid/s4u.hpp>

#include "core/json_input.h"
#include "engine/nccl_model.h"

namespace mhc {

const char* to_string(LinkClass c) {
  switch (c) {
    case LinkClass::nvlink: return "nvlink";
    case LinkClass::nic: return "nic";
    default: return "fabric";
  }
}

namespace {

void require(bool ok, const ClusterSpec& c, const std::string& path, const std::string& message) {
  if (!ok) throw InputError(c.file.empty() ? c.name : c.file, path, message);
}

}  // namespace

Topology::Topology(const ClusterSpec& c) : cluster_(c) {
  require(c.nodes >= 1, c, "/nodes", "expected at least one node");
  require(c.gpus_per_node >= 1, c, "/gpus_per_node", "expected at least one GPU per node");
  require(c.nvlink.bandwidth_Bps > 0 || c.gpus_per_node == 1, c, "/nvlink", "expected a positive NVLink bandwidth");
  require(c.nvlink.latency_s >= 0, c, "/nvlink", "expected a latency >= 0");
  require(c.nodes == 1 || (c.nics_per_node >= 1 && c.nic.bandwidth_Bps > 0), c, "/nics_per_node",
          "a multi-node cluster needs NICs with a positive bandwidth");
  require(c.nic.latency_s >= 0 && c.fabric_hop.latency_s >= 0, c, "/nic", "expected latencies >= 0");
  require(c.oversubscription > 0, c, "/oversubscription", "expected a positive oversubscription");
  require(c.planes >= 1, c, "/planes", "expected at least one plane");
  require(c.sms >= 1, c, "/gpu/sms", "expected at least one SM");
  require(c.comm_sms >= 0 && c.comm_sms < c.sms, c, "/gpu/comm_sms", "expected 0 <= comm_sms < sms");
  nccl_calibration_ = calibrate_nccl(c);

  const int G = c.total_gpus();
  const int npl = c.nodes_per_leaf > 0 ? std::min(c.nodes_per_leaf, c.nodes) : c.nodes;
  groups_ = (c.nodes + npl - 1) / npl;
  const int rails = c.topology == FabricTopology::fat_tree ? 1
                    : c.topology == FabricTopology::rail_optimized ? c.nics_per_node
                                                                   : std::min(c.planes, c.nics_per_node);
  leaves_ = groups_ * std::max(1, rails);
  links_.reserve(2 * G + 2 * c.nodes * c.nics_per_node + 2 * leaves_);

  nvl_up0_ = static_cast<int>(links_.size());
  for (int g = 0; g < G; ++g) links_.push_back({"nvl_up" + std::to_string(g), c.nvlink.bandwidth_Bps, LinkClass::nvlink});
  nvl_down0_ = static_cast<int>(links_.size());
  for (int g = 0; g < G; ++g) links_.push_back({"nvl_dn" + std::to_string(g), c.nvlink.bandwidth_Bps, LinkClass::nvlink});
  if (c.nodes > 1) {
    nic_up0_ = static_cast<int>(links_.size());
    for (int i = 0; i < c.nodes * c.nics_per_node; ++i)
      links_.push_back({"nic_up" + std::to_string(i), c.nic.bandwidth_Bps, LinkClass::nic});
    nic_down0_ = static_cast<int>(links_.size());
    for (int i = 0; i < c.nodes * c.nics_per_node; ++i)
      links_.push_back({"nic_dn" + std::to_string(i), c.nic.bandwidth_Bps, LinkClass::nic});
    // Leaf uplinks whenever a flow can change leaf: between groups of nodes, and between rails or
    // planes even inside one group (a rail-optimised fabric's rails meet only above the leaves).
    if (leaves_ > 1) {
      // NICs under one leaf: fat tree all of the group's NICs, otherwise those of one rail/plane.
      std::vector<int> nics_in_leaf(leaves_, 0);
      for (int n = 0; n < c.nodes; ++n)
        for (int k = 0; k < c.nics_per_node; ++k) ++nics_in_leaf[leaf_of(n, k)];
      leaf_up0_ = static_cast<int>(links_.size());
      for (int L = 0; L < leaves_; ++L)
        links_.push_back({"leaf_up" + std::to_string(L), nics_in_leaf[L] * c.nic.bandwidth_Bps / c.oversubscription,
                          LinkClass::fabric});
      leaf_down0_ = static_cast<int>(links_.size());
      for (int L = 0; L < leaves_; ++L)
        links_.push_back({"leaf_dn" + std::to_string(L), nics_in_leaf[L] * c.nic.bandwidth_Bps / c.oversubscription,
                          LinkClass::fabric});
    }
  }
}

int Topology::leaf_of(int node, int nic) const {
  const ClusterSpec& c = cluster_;
  const int npl = c.nodes_per_leaf > 0 ? std::min(c.nodes_per_leaf, c.nodes) : c.nodes;
  const int group = node / npl;
  switch (c.topology) {
    case FabricTopology::fat_tree: return group;
    case FabricTopology::rail_optimized: return nic * groups_ + group;
    default: return (nic % std::min(c.planes, c.nics_per_node)) * groups_ + group;
  }
}

void Topology::fabric_route(int sn, int sk, int dn, int dk, std::vector<int>& out, double& lat) const {
  out.push_back(nic_up0_ + nic_index(sn, sk));
  lat += cluster_.nic.latency_s;
  int ls = leaf_of(sn, sk), ld = leaf_of(dn, dk);
  if (ls != ld) {
    if (leaf_up0_ < 0) throw std::logic_error("route crosses the spine of a fabric built without leaf uplinks");
    out.push_back(leaf_up0_ + ls);
    out.push_back(leaf_down0_ + ld);
    lat += 2 * cluster_.fabric_hop.latency_s;
  }
  out.push_back(nic_down0_ + nic_index(dn, dk));
}

void Topology::route(int src, int dst, std::vector<int>& out, double& lat) const {
  out.clear();
  lat = 0.0;
  const ClusterSpec& c = cluster_;
  const int sn = node_of(src), dn = node_of(dst);
  if (sn == dn) {
    out.push_back(nvl_up0_ + src);
    out.push_back(nvl_down0_ + dst);
    lat = c.nvlink.latency_s;
    return;
  }
  const int sk = nic_of_local_gpu(c, src % c.gpus_per_node);
  const int dk = nic_of_local_gpu(c, dst % c.gpus_per_node);
  if (c.topology == FabricTopology::multi_plane) {
    const int planes = std::min(c.planes, c.nics_per_node);
    if (sk % planes != dk % planes) {
      // PXN: NVLink to the first GPU on this node whose NIC is the target's NIC index.
      int proxy_local = 0;
      while (nic_of_local_gpu(c, proxy_local) != dk) ++proxy_local;
      int proxy = sn * c.gpus_per_node + proxy_local;
      out.push_back(nvl_up0_ + src);
      out.push_back(nvl_down0_ + proxy);
      lat += c.nvlink.latency_s;
      fabric_route(sn, dk, dn, dk, out, lat);
      return;
    }
  }
  fabric_route(sn, sk, dn, dk, out, lat);
}

double Topology::route_latency(int src, int dst) const {
  std::vector<int> l;
  double lat;
  route(src, dst, l, lat);
  return lat;
}

double Topology::route_bandwidth(int src, int dst) const {
  std::vector<int> l;
  double lat, bw = INFINITY;
  route(src, dst, l, lat);
  for (int i : l) bw = std::min(bw, links_[i].bandwidth_Bps);
  return bw;
}

namespace {

// Every route reports the same tiny raw latency, so CM02 (which weights a flow's share of a link by
// its route latency: SimGrid 3.32 src/kernel/resource/models/network_cm02.cpp, NetworkCm02Model::
// communicate sets sharing_penalty_ = latency) shares links fairly; the latency factor callback then
// restores each route's real latency.
constexpr double kRawLatency = 1e-9;

class TopologyZone : public simgrid::kernel::routing::NetZoneImpl {
 public:
  TopologyZone(const std::string& name, const Topology& t) : NetZoneImpl(name), topology_(t) {}

  void set_links(std::vector<simgrid::kernel::resource::StandardLinkImpl*> links) { links_ = std::move(links); }
  void add_gpu(int gpu) { gpu_of_point_.push_back(gpu); }
  void set_control_link(int gpu, simgrid::kernel::resource::StandardLinkImpl* link) {
    if (control_.size() <= static_cast<size_t>(gpu)) control_.resize(gpu + 1, nullptr);
    control_[gpu] = link;
  }
  size_t gpu_of_point_size() const { return gpu_of_point_.size(); }
  int gpu_of(const simgrid::kernel::routing::NetPoint* p) const {
    return p->id() < gpu_of_point_.size() ? gpu_of_point_[p->id()] : -1;
  }

  void get_local_route(const simgrid::kernel::routing::NetPoint* src,
                       const simgrid::kernel::routing::NetPoint* dst,
                       simgrid::kernel::routing::Route* into, double* latency) override {
    const int s = gpu_of(src), d = gpu_of(dst);
    if (s < 0 || d < 0 || s == d)
      throw std::logic_error("no network route between " + src->get_name() + " and " + dst->get_name());
    double lat;
    topology_.route(s, d, scratch_, lat);
    // A route over a link that was not built carries no data flow (the engine builds every link
    // its flows cross), only the engine's zero-byte wake-ups: send those over the target's private
    // control link, which nothing else uses (an empty route would never deliver them).
    for (int i : scratch_)
      if (!links_[i]) {
        into->link_list_.push_back(control_[d]);
        return;
      }
    for (int i : scratch_) into->link_list_.push_back(links_[i]);
    if (latency) *latency += kRawLatency;
  }

 private:
  const Topology& topology_;
  std::vector<simgrid::kernel::resource::StandardLinkImpl*> links_;
  std::vector<int> gpu_of_point_;  // netpoint id -> GPU id (-1: the timer)
  std::vector<simgrid::kernel::resource::StandardLinkImpl*> control_;  // by GPU: wake-ups only
  std::vector<int> scratch_;
};

}  // namespace

SimPlatform build_simgrid_platform(const Topology& t, const std::vector<int>& gpus_used,
                                   const std::vector<bool>& links_used) {
  auto* zone = new TopologyZone("cluster", t);
  simgrid::s4u::NetZone* iface = zone->get_iface();
  SimPlatform p;
  p.gpu_hosts.assign(t.gpus(), nullptr);
  for (int g : gpus_used) {
    if (g < 0 || g >= t.gpus() || p.gpu_hosts[g]) throw std::logic_error("bad or repeated GPU in platform");
    simgrid::s4u::Host* h = iface->create_host("gpu" + std::to_string(g), 1.0);
    if (h->get_netpoint()->id() != static_cast<unsigned long>(zone->gpu_of_point_size()))
      throw std::logic_error("host ids out of order");
    zone->add_gpu(g);
    p.gpu_hosts[g] = h;
  }
  p.timer_host = iface->create_host("timer", 1.0)->set_core_count(1 << 30);
  zone->add_gpu(-1);
  std::vector<simgrid::kernel::resource::StandardLinkImpl*> impls(t.links().size(), nullptr);
  for (size_t i = 0; i < t.links().size(); ++i) {
    if (!links_used[i]) continue;
    const NetLink& l = t.links()[i];
    impls[i] = iface->create_link(l.name, l.bandwidth_Bps)->set_latency(0)->get_impl();
  }
  zone->set_links(std::move(impls));
  for (int g : gpus_used)
    zone->set_control_link(g, iface->create_link("ctl" + std::to_string(g), 1e18)->set_latency(0)->get_impl());
  iface->seal();
  // Restore each route's real latency; zero-byte messages (the engine's wake-ups) are instant.
  iface->get_network_model()->set_lat_factor_cb(
      [&t, zone](double size, const simgrid::s4u::Host* src, const simgrid::s4u::Host* dst,
                 const std::vector<simgrid::s4u::Link*>&, const std::unordered_set<simgrid::s4u::NetZone*>&) {
        if (size <= 0) return 0.0;
        return t.route_latency(zone->gpu_of(src->get_netpoint()), zone->gpu_of(dst->get_netpoint())) / kRawLatency;
      });
  return p;
}

}  // namespace mhc
