// mhcsim moe: the MoE dispatch and combine bytes per GPU, per token and per micro-batch of one MoE
// layer, by link class (cost/moe_traffic.h holds the formula and its sources), and for DeepEP's rail
// all-to-all the efficiency per link class its published figures give (cost/deepep_calibration.h).
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command_registry.h"
#include "core/cli_args.h"
#include "core/json_input.h"
#include "cost/deepep_calibration.h"
#include "cost/moe_traffic.h"
#include "scenario/scenario.h"

namespace {

nlohmann::json links_json(const mhc::LinkBytes& b) { return {{"nvlink", b.nvlink}, {"network", b.network}}; }

using Kernel = mhc::DeepEpMeasurement::Kernel;
using mhc::RailLink;

nlohmann::json deepep_json(const mhc::DeepEpCalibration& cal) {
  nlohmann::json j;
  for (Kernel k : {Kernel::dispatch, Kernel::combine})
    for (RailLink l : {RailLink::nvlink, RailLink::network})
      j["efficiency"][to_string(k)][to_string(l)] = {{"value", cal.efficiency(k, l)}, {"from", cal.ids(k, l)}};
  j["figures"] = nlohmann::json::array();
  for (const mhc::DeepEpReplay& r : cal.points)
    j["figures"].push_back({{"id", r.id}, {"kernel", to_string(r.kernel)}, {"counted", to_string(r.counted_as)},
                            {"counted_bytes", r.counted_bytes}, {"measured_s", r.measured_s},
                            {"data_bytes", links_json(r.data)}, {"nvlink_s", r.nvlink_s}, {"network_s", r.network_s},
                            {"bound", to_string(r.bound)}, {"efficiency", r.efficiency}});
  return j;
}

void print_deepep(const mhc::DeepEpCalibration& cal, const mhc::ClusterSpec& cluster) {
  if (cal.empty()) {
    std::cout << "  DeepEP at the links' rates: " << cluster.file << " has no deepep_measured\n";
    return;
  }
  std::cout << "  DeepEP's achieved bandwidth, replayed from " << cluster.file << " deepep_measured\n"
            << "  (per GPU at NVLink " << std::setprecision(0) << cluster.nvlink.bandwidth_Bps / 1e9 << " GB/s and NIC "
            << cluster.nic.bandwidth_Bps * cluster.nics_per_node / cluster.gpus_per_node / 1e9
            << " GB/s; efficiency = the bound link's time at its rate / DeepEP's time):\n"
            << "    figure                            counted   DeepEP ms  NVLink ms  network ms  bound    efficiency\n";
  for (const mhc::DeepEpReplay& r : cal.points)
    std::cout << "    " << std::left << std::setw(34) << r.id << std::setw(8) << to_string(r.counted_as) << std::right
              << std::setprecision(3) << std::setw(11) << r.measured_s * 1e3 << std::setw(11) << r.nvlink_s * 1e3
              << std::setw(12) << r.network_s * 1e3 << "  " << std::left << std::setw(9) << to_string(r.bound)
              << std::right << std::setw(9) << r.efficiency << "\n";
  for (Kernel k : {Kernel::dispatch, Kernel::combine}) {
    std::cout << "  " << to_string(k) << ":";
    for (RailLink l : {RailLink::nvlink, RailLink::network}) {
      const std::string ids = cal.ids(k, l);
      std::cout << " " << to_string(l) << " x" << cal.efficiency(k, l) << " ("
                << (ids.empty() ? std::string("no figure: the link's rate") : ids) << ")"
                << (l == RailLink::nvlink ? ";" : "\n");
    }
  }
}

int run_moe(const std::vector<std::string>& argv) {
  mhc::CliArgs args("mhcsim moe", argv, {"--set"}, {"--json"});
  args.expect_positional(1, "SCENARIO.json");
  const mhc::Scenario s = mhc::load_scenario(args.positional_at(0, "SCENARIO.json"), args.all("--set"));
  if (s.model.ffn.kind != mhc::FfnSpec::Kind::moe)
    throw mhc::InputError(s.model.file.empty() ? s.file : s.model.file, "/ffn/kind",
                          "expected a MoE model (kind \"moe\"): a dense model has no all-to-all");
  const mhc::MoeTrafficInput in = mhc::moe_traffic_input(s);
  const mhc::MoeTraffic t = mhc::moe_traffic(in);
  const double tokens = double(s.parallel.micro_batch * s.model.seq_len) / s.parallel.tp;  // per GPU
  const std::vector<std::pair<const char*, mhc::LinkBytes>> rows = {{"forward dispatch", t.forward_dispatch},
                                                                   {"forward combine", t.forward_combine},
                                                                   {"backward dispatch", t.backward_dispatch},
                                                                   {"backward combine", t.backward_combine}};
  if (args.flag("--json")) {
    nlohmann::json j;
    j["scenario"] = s.file;
    j["mode"] = in.mode;
    j["ep"] = s.parallel.ep;
    j["ep_nodes"] = in.nodes;
    j["ep_gpus_per_node"] = in.gpus_per_node;
    j["max_nodes_per_token"] = in.max_nodes;
    j["expected_per_token"] = {{"nodes_hit", t.nodes_hit},
                               {"gpus_hit", t.gpus_hit},
                               {"network_copies", t.network_copies},
                               {"nvlink_copies", t.nvlink_copies}};
    j["copy_bytes"] = {{"dispatch", t.dispatch_copy}, {"backward_dispatch", t.dispatch_backward_copy},
                       {"combine", t.combine_copy}};
    nlohmann::json per_token, per_mb;
    for (const auto& [name, b] : rows) {
      per_token[name] = links_json(b);
      per_mb[name] = links_json({b.nvlink * tokens, b.network * tokens});
    }
    j["bytes_per_gpu_per_token_per_layer"] = per_token;
    j["tokens_per_gpu_per_micro_batch"] = tokens;
    j["bytes_per_gpu_per_micro_batch_per_layer"] = per_mb;
    if (in.mode == "rail") j["deepep"] = deepep_json(mhc::calibrate_deepep(s.cluster));
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << std::fixed << std::setprecision(3);
  std::cout << "MoE all-to-all of " << s.name << "\n"
            << "  " << (in.mode == "rail" ? "rail (DeepEP: one network copy per node, NVLink forwarding)"
                                           : "direct (NCCL all-to-all: top_k rows per token)")
            << ", EP" << s.parallel.ep << " over " << in.nodes << " node(s) x " << in.gpus_per_node << " GPUs, "
            << in.experts << " experts, top-" << in.top_k << ", "
            << (in.max_nodes > 0 ? "at most " + std::to_string(in.max_nodes) + " nodes per token" : std::string("no node limit"))
            << "\n"
            << "  per token (expected" << (in.mode == "rail" ? ", uniform node-limited routing" : "") << "): "
            << t.nodes_hit << " nodes and " << t.gpus_hit << " GPUs hit, " << t.network_copies << " network copies, "
            << t.nvlink_copies << " NVLink copies\n"
            << std::setprecision(0) << "  bytes per copy: dispatch " << t.dispatch_copy << " (" << to_string(in.dispatch)
            << "), backward dispatch " << t.dispatch_backward_copy << " (" << to_string(in.dispatch_backward)
            << "), combine " << t.combine_copy << " (bf16)\n"
            << std::setprecision(1) << "  per GPU, one MoE layer        per token (B)          per micro-batch of "
            << std::setprecision(0) << tokens << " tokens (MB)\n"
            << "                                NVLink    network      NVLink    network\n";
  for (const auto& [name, b] : rows)
    std::cout << "    " << std::left << std::setw(24) << name << std::right << std::setprecision(1) << std::setw(10)
              << b.nvlink << std::setw(11) << b.network << std::setw(12) << b.nvlink * tokens / 1e6 << std::setw(11)
              << b.network * tokens / 1e6 << "\n";
  if (in.mode == "rail") print_deepep(mhc::calibrate_deepep(s.cluster), s.cluster);
  return 0;
}

const mhc::CommandRegistration reg(
    "moe", mhc::Command{"MoE dispatch/combine bytes per GPU per token and MoE layer, by link class (NVLink, network)",
                        "mhcsim moe SCENARIO.json [--set /JSON/POINTER=VALUE ...] [--json]\n"
                        "  forward and backward dispatch and combine as the scenario's all-to-all moves them\n"
                        "  (parallelism.ep_all_to_all: direct = NCCL, rail = DeepEP with node-limited routing);\n"
                        "  rail also prints the efficiency per link class the cluster's DeepEP figures give",
                        run_moe});

}  // namespace
