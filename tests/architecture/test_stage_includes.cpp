// The flow is visible in the tree and holds in the code: sim/ has one folder per stage, each with a
// README; every quoted #include names its stage ("engine/platform.h"); a stage includes only itself
// and the stages it declares in sim/CMakeLists.txt; and those declarations point backwards only.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Stage {
  std::string name;
  std::set<std::string> deps;
};

// MHC_STAGE_DEPS: "core: scenario:core model:core,scenario ..." in declaration (flow) order.
std::vector<Stage> declared_stages() {
  std::vector<Stage> stages;
  std::istringstream in(MHC_STAGE_DEPS);
  std::string item;
  while (in >> item) {
    Stage s;
    auto colon = item.find(':');
    s.name = item.substr(0, colon);
    std::istringstream deps(item.substr(colon + 1));
    for (std::string d; std::getline(deps, d, ',');)
      if (!d.empty()) s.deps.insert(d);
    stages.push_back(s);
  }
  return stages;
}

const fs::path kSim = fs::path(MHC_SOURCE_DIR) / "sim";

std::vector<std::string> quoted_includes(const fs::path& file) {
  static const std::regex include_re(R"re(^\s*#\s*include\s+"([^"]+)")re");
  std::vector<std::string> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, include_re)) out.push_back(m[1]);
  }
  return out;
}

}  // namespace

TEST(Architecture, StagesAreDeclaredInFlowOrder) {
  auto stages = declared_stages();
  ASSERT_GE(stages.size(), 10u);
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < stages.size(); ++i) position[stages[i].name] = i;
  for (const Stage& s : stages)
    for (const std::string& d : s.deps) {
      ASSERT_TRUE(position.count(d)) << s.name << " depends on an undeclared stage " << d;
      EXPECT_LT(position[d], position[s.name]) << s.name << " depends on the later stage " << d;
    }
  // The engine runs graphs on clusters; it knows nothing of transformers or of the report.
  for (const Stage& s : stages) {
    if (s.name != "engine") continue;
    for (const char* banned : {"model", "cost", "profile", "run", "report"}) {
      EXPECT_FALSE(s.deps.count(banned)) << "the engine must not use " << banned;
    }
  }
}

TEST(Architecture, SimHoldsOnlyStageFoldersEachWithReadme) {
  std::set<std::string> names;
  for (const Stage& s : declared_stages()) names.insert(s.name);
  for (const auto& entry : fs::directory_iterator(kSim)) {
    const fs::path& p = entry.path();
    if (entry.is_directory()) {
      EXPECT_TRUE(names.count(p.filename().string())) << p << " is not a declared stage";
      EXPECT_TRUE(fs::exists(p / "README.md")) << p << " has no README.md";
    } else {
      EXPECT_TRUE(p.filename() == "CMakeLists.txt" || p.filename() == "README.md")
          << p << ": sim/ holds stage folders only";
    }
  }
  for (const std::string& n : names) EXPECT_TRUE(fs::is_directory(kSim / n)) << "stage " << n << " has no folder";
}

TEST(Architecture, EveryIncludeNamesAStageItsStageMayUse) {
  int checked = 0;
  for (const Stage& s : declared_stages()) {
    for (const auto& entry : fs::recursive_directory_iterator(kSim / s.name)) {
      auto ext = entry.path().extension();
      if (ext != ".h" && ext != ".cpp") continue;
      for (const std::string& inc : quoted_includes(entry.path())) {
        ++checked;
        auto slash = inc.find('/');
        ASSERT_NE(slash, std::string::npos) << entry.path() << ": #include \"" << inc << "\" names no stage";
        std::string target = inc.substr(0, slash);
        EXPECT_TRUE(target == s.name || s.deps.count(target))
            << entry.path() << " (stage " << s.name << ") includes \"" << inc << "\" from stage " << target
            << ", which sim/CMakeLists.txt does not let it use";
        EXPECT_TRUE(fs::exists(kSim / inc)) << entry.path() << ": \"" << inc << "\" does not exist";
      }
    }
  }
  EXPECT_GT(checked, 100);
}
