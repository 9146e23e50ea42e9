// Output files (--trace, --out, --html) are opened before any work, fail naming the flag and path,
// keep an old file until written, and leave nothing behind when the command fails.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/cli_args.h"
#include "cli/output_file.h"
#include "core/json_input.h"

namespace fs = std::filesystem;
using mhc::InputError;
using mhc::OutputFile;

namespace {

class OutputFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mhcsim_out_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  fs::path dir_;
};

}  // namespace

TEST_F(OutputFiles, AnUnwritablePathFailsAtOnceNamingFlagAndPath) {
  const std::string path = (dir_ / "no" / "such" / "t.json").string();
  try {
    OutputFile f("mhcsim run", "--trace", path);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "mhcsim run: --trace: cannot write '" + path + "': No such file or directory");
  }
  EXPECT_THROW(OutputFile("mhcsim run", "--trace", dir_.string()), InputError);  // a folder
  EXPECT_THROW(OutputFile("mhcsim run", "--trace", ""), InputError);
}

TEST_F(OutputFiles, WritesReplaceTheOldContentOnlyWhenWritten) {
  const fs::path path = dir_ / "t.json";
  std::ofstream(path) << "old content, longer than the new";
  {
    OutputFile f("mhcsim run", "--trace", path.string());
    EXPECT_EQ(read(path), "old content, longer than the new");  // opened, not truncated
    f.write("new");
  }
  EXPECT_EQ(read(path), "new");
  {
    OutputFile f("mhcsim run", "--trace", path.string());  // the command fails before writing
  }
  EXPECT_EQ(read(path), "new");
}

TEST_F(OutputFiles, AFileCreatedButNeverWrittenIsRemoved) {
  const fs::path path = dir_ / "fresh.json";
  {
    OutputFile f("mhcsim run", "--trace", path.string());
    EXPECT_TRUE(fs::exists(path));
  }
  EXPECT_FALSE(fs::exists(path));
  {
    OutputFile f("mhcsim run", "--trace", path.string());
    f.write("");
  }
  EXPECT_TRUE(fs::exists(path));  // written (empty) is kept
}

TEST_F(OutputFiles, AFailedWriteIsAnError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full here";
  OutputFile f("mhcsim profile-merge", "--out", "/dev/full");
  try {
    f.write("x");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "mhcsim profile-merge: --out: writing '/dev/full' failed: No space left on device");
  }
}

TEST_F(OutputFiles, OnlyWhenTheFlagIsGiven) {
  mhc::CliArgs none("mhcsim run", {}, {"--trace"}, {});
  EXPECT_FALSE(OutputFile::open_if_given(none, "mhcsim run", "--trace").has_value());
  const std::string path = (dir_ / "t.json").string();
  mhc::CliArgs given("mhcsim run", {"--trace", path}, {"--trace"}, {});
  auto f = OutputFile::open_if_given(given, "mhcsim run", "--trace");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->path(), path);
  f->write("{}");
  EXPECT_EQ(read(path), "{}");
}
