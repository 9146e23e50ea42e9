// mhcsim validate: checks a scenario completely (files, keys, types, ranges, cross-field rules and the
// pipeline schedule it asks for) and prints what it resolved to. Nothing is simulated.
#include <iomanip>
#include <iostream>

#include "cli/command_registry.h"
#include "core/cli_args.h"
#include "model/model.h"
#include "profile/profile.h"
#include "schedule/scenario_schedule.h"

namespace {

int run_validate(const std::vector<std::string>& argv) {
  mhc::CliArgs args("mhcsim validate", argv, {"--set"}, {});
  args.expect_positional(1, "SCENARIO.json");
  const auto s = mhc::load_scenario(args.positional_at(0, "SCENARIO.json"), args.all("--set"));
  mhc::check_scenario_schedule(s);

  const auto params = mhc::count_params(s.model, s.mhc);
  const auto& p = s.parallel;
  std::cout << std::fixed << std::setprecision(2);
  std::cout << s.file << ": ok\n"
            << "  scenario    " << s.name << "\n"
            << "  model       " << s.model.name << ": " << s.model.layers << " layers, C = " << s.model.hidden
            << ", " << params.total() / 1e9 << "B parameters (" << params.active / 1e9 << "B active)\n"
            << "  residual    " << mhc::to_string(s.mhc.variant) << ", n = " << s.mhc.n
            << (s.mhc.variant == mhc::ResidualVariant::mhc ? (s.mhc.fused ? ", fused kernels" : ", unfused kernels")
                                                           : "")
            << (s.mhc.recompute ? ", recompute" : "") << (s.mhc.high_priority_stream ? ", high-priority stream" : "")
            << "\n"
            << "  layout      TP" << p.tp << " PP" << p.pp << " EP" << p.ep << " DP" << p.dp << ", ZeRO-"
            << p.zero_stage << ", " << p.micro_batches() << " micro-batches of " << p.micro_batch
            << " sequence(s) per pipeline\n"
            << "  schedule    " << s.schedule.kind << ", " << s.model_stages() << " model stages, layers per stage:";
  for (auto l : p.stage_layers) std::cout << " " << l;
  std::cout << "\n";
  if (s.mhc.recompute) {
    std::cout << "  recompute   L_r per stage, in sublayers" << (s.mhc.recompute_block_auto ? " (auto, paper Eq. 20)" : "")
              << ":";
    for (auto l : p.stage_layers) std::cout << " " << mhc::recompute_block_for(s.mhc, s.model.hidden, l);
    std::cout << "\n";
  }
  std::cout << "  cluster     " << s.cluster.name << ": " << s.cluster.total_gpus() << " x " << s.cluster.gpu << "\n"
            << "  profile     " << s.profile << (s.cluster.profile_note.empty() ? "" : " (" + s.cluster.profile_note + ")")
            << "\n";
  // The profile and its published parts load together (kinds, duplicates) as `run` will load them.
  const mhc::Profile profile = mhc::load_profile_parts(s.profile, s.published_parts);
  for (const auto& part : profile.published)
    std::cout << "              + published " << part.file << " (" << part.provenance.gpu << ")\n";
  std::cout << "  precision   " << s.model.precision.name << ": GEMMs " << mhc::to_string(s.model.precision.gemm)
            << ", MoE dispatch " << mhc::to_string(s.model.precision.moe_dispatch) << "\n";
  return 0;
}

const mhc::CommandRegistration reg(
    "validate", mhc::Command{"checks a scenario and its schedule completely; nothing is simulated",
                             "mhcsim validate SCENARIO.json [--set /JSON/POINTER=VALUE ...]", run_validate});

}  // namespace
