// `mhcsim validate` reads the profile the cluster names, and prices the scenario's ops with it.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/validate_command.h"
#include "core/json_input.h"

namespace fs = std::filesystem;

TEST(ValidateCommand, ReportsTheProfileItChecked) {
  std::ostringstream out;
  EXPECT_EQ(mhc::run_validate_command({"scenarios/small.json"}, out), 0);
  EXPECT_NE(out.str().find("  profile     profiles/measured/h100-sxm-quick.json\n"
                           "              measured profile of NVIDIA H100 80GB HBM3, "),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("prices the scenario's"), std::string::npos) << out.str();
}

TEST(ValidateCommand, ABrokenProfileFailsValidation) {
  const fs::path dir = fs::temp_directory_path() / ("mhcsim_validate_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  nlohmann::json profile = nlohmann::json::parse(std::ifstream("profiles/h100-sxm-reference.json"));
  profile["ceilings"]["copy_bandwidth_Bps"]["value"] = 1e-30;  // gave a 6e39 s step with exit 0
  std::ofstream(dir / "p.json") << profile.dump();
  nlohmann::json cluster = nlohmann::json::parse(std::ifstream("scenarios/clusters/small-2x4.json"));
  cluster["gpu"]["profile"] = (dir / "p.json").string();
  std::ofstream(dir / "c.json") << cluster.dump();
  nlohmann::json scenario = nlohmann::json::parse(std::ifstream("scenarios/small.json"));
  scenario["cluster"] = (dir / "c.json").string();
  scenario["model"] = fs::absolute("scenarios/models/small-moe.json").string();
  std::ofstream(dir / "s.json") << scenario.dump();
  std::ostringstream out;
  try {
    mhc::run_validate_command({(dir / "s.json").string()}, out);
    FAIL() << "no error";
  } catch (const mhc::InputError& e) {
    EXPECT_EQ(e.file(), (dir / "p.json").string());
    EXPECT_EQ(e.path(), "/ceilings/copy_bandwidth_Bps/value");
    EXPECT_EQ(e.message(), "must be between 1e+10 and 1e+14, got 1e-30");
  }
  fs::remove_all(dir);
}
