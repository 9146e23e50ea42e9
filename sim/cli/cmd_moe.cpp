// mhcsim moe: the MoE dispatch and combine bytes per GPU, per token and per micro-batch of one MoE
// layer, by link class (cost/moe_traffic.h holds the formula and its sources).
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command_registry.h"
#include "core/cli_args.h"
#include "core/json_input.h"
#include "cost/moe_traffic.h"
#include "scenario/scenario.h"

namespace {

nlohmann::json links_json(const mhc::LinkBytes& b) { return {{"nvlink", b.nvlink}, {"network", b.network}}; }

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
  return 0;
}

const mhc::CommandRegistration reg(
    "moe", mhc::Command{"MoE dispatch/combine bytes per GPU per token and MoE layer, by link class (NVLink, network)",
                        "mhcsim moe SCENARIO.json [--set /JSON/POINTER=VALUE ...] [--json]\n"
                        "  forward and backward dispatch and combine as the scenario's all-to-all moves them\n"
                        "  (parallelism.ep_all_to_all: direct = NCCL, rail = DeepEP with node-limited routing)",
                        run_moe});

}  // namespace
