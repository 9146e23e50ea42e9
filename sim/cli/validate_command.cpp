#include "cli/validate_command.h"

#include <iomanip>
#include <map>
#include <utility>

#include "core/cli_args.h"
#include "cost/cost.h"
#include "cost/scenario_profile.h"
#include "cost/stage_costs.h"
#include "model/model.h"
#include "profile/profile.h"
#include "schedule/scenario_schedule.h"

namespace mhc {

const char* const kValidateUsage =
    "mhcsim validate SCENARIO.json [--set /JSON/POINTER=VALUE ...]\n"
    "  checks the scenario, its model and cluster, its schedule, and the profile its cluster names\n"
    "  (read completely, and able to price every op of the scenario); nothing is simulated";

int run_validate_command(const std::vector<std::string>& argv, std::ostream& out) {
  CliArgs args("mhcsim validate", argv, {"--set"}, {});
  args.expect_positional(1, "SCENARIO.json");
  const auto s = load_scenario(args.positional_at(0, "SCENARIO.json"), args.all("--set"));
  check_scenario_schedule(s);
  // The profile and its published parts load together (kinds, duplicates) as `run` loads them, and
  // price every op a run would price, once.
  const CostModel cost(scenario_profile(s));
  const PipelineCostTable table = price_pipeline(s, cost);
  std::map<std::string, int> by_method;
  for (const PricedOpRecord& op : table.priced) ++by_method[op.method];

  const auto params = count_params(s.model, s.mhc);
  const auto& p = s.parallel;
  out << std::fixed << std::setprecision(2);
  out << s.file << ": ok\n"
      << "  scenario    " << s.name << "\n"
      << "  model       " << s.model.name << ": " << s.model.layers << " layers, C = " << s.model.hidden << ", "
      << params.total() / 1e9 << "B parameters (" << params.active / 1e9 << "B active)\n"
      << "  residual    " << to_string(s.mhc.variant) << ", n = " << s.mhc.n
      << (s.mhc.variant == ResidualVariant::mhc ? (s.mhc.fused ? ", fused kernels" : ", unfused kernels") : "")
      << (s.mhc.recompute ? ", recompute" : "") << (s.mhc.high_priority_stream ? ", high-priority stream" : "")
      << "\n"
      << "  layout      TP" << p.tp << (p.cp > 1 ? " CP" + std::to_string(p.cp) + " (" + p.cp_comm + ")" : std::string())
      << " PP" << p.pp << " EP" << p.ep << (p.etp > 1 ? " ETP" + std::to_string(p.etp) : std::string()) << " DP" << p.dp
      << (s.model.ffn.kind == FfnSpec::Kind::moe ? " (expert DP " + std::to_string(p.expert_dp()) + ")" : std::string())
      << ", ZeRO-" << p.zero_stage
      << ", " << p.micro_batches() << " micro-batches of " << p.micro_batch << " sequence(s) per pipeline\n"
      << "  schedule    " << s.schedule.kind << ", " << s.model_stages() << " model stages, layers per stage:";
  for (auto l : p.stage_layers) out << " " << l;
  out << "\n";
  if (s.mhc.recompute) {
    out << "  recompute   L_r per stage, in sublayers"
        << (s.mhc.recompute_block_auto ? " (auto, paper Eq. 20 for one live micro-batch; `mhcsim run` weighs the "
                                         "chunks its schedule holds)"
                                       : "")
        << ":";
    for (auto l : p.stage_layers) out << " " << recompute_block_for(s.mhc, s.model.hidden, l);
    out << "\n";
  }
  out << "  cluster     " << s.cluster.name << ": " << s.cluster.total_gpus() << " x " << s.cluster.gpu << "\n"
      << "  profile     " << s.profile << (s.cluster.profile_note.empty() ? "" : " (" + s.cluster.profile_note + ")")
      << "\n"
      << "              " << to_string(cost.profile().kind) << " profile of " << cost.profile().provenance.gpu << ", "
      << cost.profile().entries.size() << " entries; prices the scenario's " << table.priced.size() << " distinct ops:";
  const char* sep = " ";
  for (const auto& [method, count] : by_method) out << std::exchange(sep, ", ") << count << " " << method;
  out << "\n";
  for (const auto& part : cost.profile().published)
    out << "              + published " << part.file << " (" << part.provenance.gpu << ")\n";
  out << "  precision   " << s.model.precision.name << ": GEMMs " << to_string(s.model.precision.gemm)
      << ", MoE dispatch " << to_string(s.model.precision.moe_dispatch) << "\n";
  return 0;
}

}  // namespace mhc
