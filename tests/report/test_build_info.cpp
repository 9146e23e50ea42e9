// The version and commit every page prints: generated at build time by sim/report/build_info.cmake,
// with a fallback outside a git checkout.
#include <filesystem>
#include <regex>

#include <gtest/gtest.h>

#include "report/build_info.h"
#include "support/page_run.h"

using namespace mhc;

TEST(BuildInfo, NamesTheProjectVersionAndACommit) {
  EXPECT_STREQ(mhcsim_version(), MHC_PROJECT_VERSION);
  const std::string commit = mhcsim_commit();
  EXPECT_TRUE(std::regex_match(commit, std::regex("[0-9a-f]{40}(-dirty)?")) || commit == "unknown (not a git checkout)")
      << commit;
}

TEST(BuildInfo, ScriptFallsBackOutsideGitAndReadsTheCommitInside) {
  namespace fs = std::filesystem;
  const std::string dir = test::scratch_dir("build-info");
  const std::string script = std::string(MHC_SOURCE_DIR) + "/sim/report/build_info.cmake";
  const std::string tmpl = std::string(MHC_SOURCE_DIR) + "/sim/report/build_info.cpp.in";
  auto generate = [&](const std::string& source_dir, const std::string& out) {
    const auto r = test::run_command(std::string(MHC_CMAKE_COMMAND) + " -DSOURCE_DIR=" + source_dir +
                                         " -DVERSION=9.8 -DTEMPLATE=" + tmpl + " -DOUT=" + out + " -P " + script,
                                     true);
    EXPECT_EQ(r.exit_code, 0) << r.all;
    return test::read_file(out);
  };
  fs::create_directories(dir + "/not-git");
  const std::string outside = generate(dir + "/not-git", dir + "/a.cpp");
  EXPECT_NE(outside.find("return \"9.8\";"), std::string::npos) << outside;
  EXPECT_NE(outside.find("return \"unknown (not a git checkout)\";"), std::string::npos) << outside;
  if (!fs::exists(fs::path(MHC_SOURCE_DIR) / ".git")) GTEST_SKIP() << "the sources are not a git checkout";
  const std::string inside = generate(MHC_SOURCE_DIR, dir + "/b.cpp");
  EXPECT_TRUE(std::regex_search(inside, std::regex("return \"[0-9a-f]{40}(-dirty)?\";"))) << inside;
}
