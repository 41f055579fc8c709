#include "sim/base/data_paths.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace epsim {
namespace {

namespace fs = std::filesystem;

// Each test runs in its own process (CTest), so changing the working
// directory and the environment here touches no other test.
class DataPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("epsim-data-paths-test-" + std::to_string(getpid()));
    fs::create_directories(root_ / "env" / "models");
    fs::create_directories(root_ / "cwd" / "models");
    old_cwd_ = fs::current_path();
    fs::current_path(root_ / "cwd");
    unsetenv("EPSIM_DATA_DIR");
  }
  void TearDown() override {
    fs::current_path(old_cwd_);
    fs::remove_all(root_);
    unsetenv("EPSIM_DATA_DIR");
  }
  void Touch(const fs::path& p) { std::ofstream(p) << "name: \"x\"\n"; }
  fs::path root_, old_cwd_;
};

TEST_F(DataPathsTest, EnvironmentBeatsWorkingDirectory) {
  Touch(root_ / "env" / "models" / "m.textproto");
  Touch(root_ / "cwd" / "models" / "m.textproto");
  setenv("EPSIM_DATA_DIR", (root_ / "env").c_str(), 1);
  EXPECT_EQ(*ResolveDataFile("models", "m"), (root_ / "env" / "models" / "m.textproto").string());
  unsetenv("EPSIM_DATA_DIR");
  EXPECT_EQ(DisplayPath(*ResolveDataFile("models", "m")), "models/m.textproto");
}

TEST_F(DataPathsTest, SearchPathStartsWithEnvironmentThenWorkingDirectory) {
  setenv("EPSIM_DATA_DIR", (root_ / "env").c_str(), 1);
  const std::vector<DataDir> path = DataSearchPath();
  ASSERT_GE(path.size(), 3u);
  EXPECT_EQ(path[0].label, "$EPSIM_DATA_DIR");
  EXPECT_EQ(path[1].label, "the working directory");
  EXPECT_EQ(path[2].label, "the binary's directory");
  EXPECT_EQ(path.back().label, "the source tree");
}

TEST_F(DataPathsTest, SourceTreeIsTheLastResort) {
  Result<std::string> f = ResolveDataFile("models", "tiny-moe");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*f, std::string(EPSIM_SOURCE_DIR) + "/models/tiny-moe.textproto");
}

TEST_F(DataPathsTest, UnknownNameListsWhereItLooked) {
  setenv("EPSIM_DATA_DIR", (root_ / "env").c_str(), 1);
  Result<std::string> f = ResolveDataFile("topologies", "nope");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().ExitCode(), 2);
  const std::string& m = f.status().message();
  EXPECT_NE(m.find("topology 'nope': no topologies/nope.textproto in $EPSIM_DATA_DIR (" +
                   (root_ / "env").string() + "), then the working directory (" +
                   (root_ / "cwd").string() + ")"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("the source tree (" + std::string(EPSIM_SOURCE_DIR) + ")"), std::string::npos) << m;
}

TEST_F(DataPathsTest, PathsAreTakenAsGiven) {
  EXPECT_EQ(*ResolveDataFile("models", "sub/none.textproto"), "sub/none.textproto");
  Touch(root_ / "cwd" / "local");
  EXPECT_EQ(*ResolveDataFile("models", "local"), "local");
}

TEST_F(DataPathsTest, DisplayPathIsRelativeUnderTheWorkingDirectoryOnly) {
  EXPECT_EQ(DisplayPath((root_ / "cwd" / "a" / "b.txt").string()), "a/b.txt");
  EXPECT_EQ(DisplayPath("a/./b.txt"), "a/b.txt");
  EXPECT_EQ(DisplayPath((root_ / "env" / "x").string()), (root_ / "env" / "x").string());
  EXPECT_EQ(DisplayPath("../env/x"), (root_ / "env" / "x").string());
}

}  // namespace
}  // namespace epsim
