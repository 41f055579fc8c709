#include "sim/base/output_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sim/base/file_util.h"

namespace epsim {
namespace {

namespace fs = std::filesystem;

class OutputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("epsim-output-file-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string In(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(OutputFileTest, NotGivenIsNoOutput) {
  Result<OutputFile> out = OutputFile::Open("--csv", "", OutputFile::Dash::kRefuse);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->given());
}

TEST_F(OutputFileTest, PlainFileIsWrittenWhereNamed) {
  Result<OutputFile> out = OutputFile::Open("-o", In("a.txt"), OutputFile::Dash::kText);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->path(), In("a.txt"));
  EXPECT_FALSE(fs::exists(In("a.txt")));  // the check leaves nothing behind
  ASSERT_TRUE(WriteFileAtomically(out->path(), "hello\n").ok());
  ASSERT_TRUE(out->Finish().ok());
  EXPECT_EQ(*ReadFileToString(In("a.txt")), "hello\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(OutputFileTest, RejectsMissingDirectoryNamingFlagAndPath) {
  Result<OutputFile> out = OutputFile::Open("--csv", In("nodir/a.csv"), OutputFile::Dash::kRefuse);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().ExitCode(), 2);
  EXPECT_NE(out.status().message().find("--csv " + In("nodir/a.csv") + ": no directory"),
            std::string::npos)
      << out.status().message();
}

TEST_F(OutputFileTest, RejectsADirectory) {
  Result<OutputFile> out = OutputFile::Open("-o", dir_.string(), OutputFile::Dash::kText);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().ExitCode(), 2);
  EXPECT_NE(out.status().message().find("is a directory"), std::string::npos);
}

TEST_F(OutputFileTest, RejectsAPathBelowAFile) {
  std::ofstream(In("f")) << "x";
  Result<OutputFile> out = OutputFile::Open("-o", In("f/x"), OutputFile::Dash::kText);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("is not a directory"), std::string::npos);
}

TEST_F(OutputFileTest, RejectsADirectoryThatTakesNoFiles) {
  // A read-only directory; root may write anyway, so the expectation follows
  // what a real file creation there does.
  fs::create_directories(In("ro"));
  chmod(In("ro").c_str(), 0555);
  const std::string probe = In("ro/probe");
  const bool writable = std::ofstream(probe).good();
  std::remove(probe.c_str());
  Result<OutputFile> out = OutputFile::Open("-o", In("ro/a.txt"), OutputFile::Dash::kText);
  EXPECT_EQ(out.ok(), writable) << out.status().ToString();
  if (!writable) {
    EXPECT_NE(out.status().message().find("cannot create files in"), std::string::npos);
  }
  chmod(In("ro").c_str(), 0755);
}

TEST_F(OutputFileTest, DashIsRefusedWhereStdoutHoldsTheResults) {
  Result<OutputFile> out = OutputFile::Open("--csv", "-", OutputFile::Dash::kRefuse);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().ExitCode(), 1);
}

TEST_F(OutputFileTest, DashWritesAScratchFileAndRemovesIt) {
  std::string scratch;
  {
    Result<OutputFile> out = OutputFile::Open("-o", "-", OutputFile::Dash::kText);
    ASSERT_TRUE(out.ok());
    EXPECT_TRUE(out->to_stdout());
    EXPECT_EQ(out->label(), "stdout");
    scratch = out->path();
    EXPECT_NE(scratch, "-");
    ASSERT_TRUE(WriteFileAtomically(scratch, "").ok());
    testing::internal::CaptureStdout();
    EXPECT_TRUE(out->Finish().ok());  // an empty output is fine
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
  }
  EXPECT_FALSE(fs::exists(fs::path(scratch).parent_path()));
}

TEST_F(OutputFileTest, DeviceIsWrittenInPlace) {
  Result<OutputFile> out = OutputFile::Open("-o", "/dev/null", OutputFile::Dash::kText);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_NE(out->path(), "/dev/null");
  ASSERT_TRUE(WriteFileAtomically(out->path(), "data").ok());
  EXPECT_TRUE(out->Finish().ok());
  struct stat st;
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

}  // namespace
}  // namespace epsim
