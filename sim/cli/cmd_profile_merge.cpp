// `mhcsim profile-merge --out OUT IN1 IN2 ...`: one profile from measured profiles of one GPU
// (see sim/profile/profile_merge.h). Warns on stderr where the parts' ceilings disagree.
#include <iostream>

#include "cli/command_registry.h"
#include "cli/output_file.h"
#include "core/cli_args.h"
#include "core/command_stamp.h"
#include "profile/profile.h"
#include "profile/profile_merge.h"

namespace {

const mhc::CommandRegistration reg(
    "profile-merge",
    mhc::Command{"merge measured profiles of one GPU (measured in parts) into one, keeping every part's provenance",
                 "mhcsim profile-merge --out OUT IN1 IN2 ...   (ceilings come from the first input that has them)",
                 [](const std::vector<std::string>& args) {
                   mhc::CliArgs cli("mhcsim profile-merge", args, {"--out"}, {});
                   const std::string out = cli.required("--out");
                   cli.positional_at(1, "at least two profiles to merge (IN1 IN2 ...)");
                   mhc::OutputFile out_file("mhcsim profile-merge", "--out", out);  // fails before any work
                   std::vector<mhc::Profile> inputs;
                   for (const std::string& path : cli.positional()) inputs.push_back(mhc::load_profile(path));
                   std::vector<std::string> words{"mhcsim", "profile-merge"};
                   words.insert(words.end(), args.begin(), args.end());
                   mhc::MergedProfile merged =
                       mhc::merge_profiles(inputs, mhc::shell_command_line(words), mhc::utc_now_iso8601());
                   for (const std::string& w : merged.warnings) std::cerr << "warning: " << w << "\n";
                   merged.profile.file = out;
                   out_file.write(mhc::profile_to_json(merged.profile).dump(2) + "\n");
                   std::cout << "wrote " << out << ": " << merged.profile.entries.size() << " entries from "
                             << merged.profile.parts.size() << " parts\n";
                   return 0;
                 }});

}  // namespace
