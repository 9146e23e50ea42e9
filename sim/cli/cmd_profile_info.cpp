// `mhcsim profile-info FILE [--entries]`: summarises a GPU profile (see sim/report/profile_info.h).
#include <iostream>

#include "cli/command_registry.h"
#include "core/cli_args.h"
#include "profile/profile.h"
#include "report/profile_info.h"

namespace {

const mhc::CommandRegistration reg(
    "profile-info",
    mhc::Command{"summarise a GPU profile: provenance, ceilings, kernels, bandwidth, bytes vs the I/O model",
                 "mhcsim profile-info FILE [--entries]   (--entries: one line per measured entry)",
                 [](const std::vector<std::string>& args) {
                   mhc::CliArgs cli("mhcsim profile-info", args, {}, {"--entries"});
                   cli.expect_positional(1, "FILE (a profile, e.g. profiles/h100-sxm-reference.json)");
                   mhc::Profile profile = mhc::load_profile(cli.positional_at(0, "FILE"));
                   mhc::ProfileInfoOptions options;
                   options.list_entries = cli.flag("--entries");
                   mhc::write_profile_info(std::cout, profile, options);
                   return 0;
                 }});

}  // namespace
