#include "sim/base/status.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "sim/base/file_util.h"
#include "sim/base/string_util.h"
#include "sim/proto/model.pb.h"

namespace epsim {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::BadInput("odd: " + std::to_string(x));
  return x / 2;
}

Status Quarter(int x, int* out) {
  EPSIM_ASSIGN_OR_RETURN(int h, Half(x));
  EPSIM_ASSIGN_OR_RETURN(*out, Half(h));
  return Status::Ok();
}

TEST(StatusTest, ContextIsPrependedAndCodeKept) {
  Status s = Status::BadInput("expert 300 >= num_experts 256").WithContext("layer 12");
  EXPECT_EQ(s.message(), "layer 12: expert 300 >= num_experts 256");
  EXPECT_EQ(s.ToString(), "bad input: layer 12: expert 300 >= num_experts 256");
  EXPECT_EQ(s.ExitCode(), 2);
  EXPECT_EQ(Status::Usage("x").ExitCode(), 1);
  EXPECT_EQ(Status::Ok().ExitCode(), 0);
  EXPECT_TRUE(Status::Ok().WithContext("ignored").ok());
}

TEST(StatusTest, AssignOrReturnPropagatesTheFirstFailure) {
  int out = 0;
  EXPECT_TRUE(Quarter(12, &out).ok());
  EXPECT_EQ(out, 3);
  Status s = Quarter(6, &out);
  EXPECT_EQ(s.message(), "odd: 3");
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + std::to_string(::getpid()))).string();
}

TEST(FileUtilTest, AtomicWriteLeavesNoTemporary) {
  const std::string path = TempPath("epsim_atomic_");
  ASSERT_TRUE(WriteFileAtomically(path, "abc").ok());
  EXPECT_EQ(*ReadFileToString(path), "abc");
  std::filesystem::remove(path);
  EXPECT_EQ(WriteFileAtomically("/nonexistent-dir/x", "abc").code(), Status::Code::kIoError);
}

TEST(FileUtilTest, TextProtoErrorsNameFileAndLine) {
  const std::string path = TempPath("epsim_model_");
  std::ofstream(path) << "name: \"m\"\nhidden: 2048\nnum_experts: -3\n";
  proto::Model m;
  Status s = ReadTextProto(path, &m);
  std::filesystem::remove(path);
  EXPECT_EQ(s.code(), Status::Code::kBadInput);
  EXPECT_NE(s.message().find(path + ": line 3"), std::string::npos) << s.message();
  EXPECT_EQ(ReadTextProto("/nonexistent/m.textproto", &m).code(), Status::Code::kNotFound);
}

TEST(FileUtilTest, FileStem) {
  EXPECT_EQ(FileStem("a/b/layer7.csv"), "layer7");
  EXPECT_EQ(FileStem("plain"), "plain");
}

TEST(StringUtilTest, NearestNameSuggestsTyposOnly) {
  const std::vector<std::string> names = {"simulate", "stats", "synth", "compare", "calibrate"};
  EXPECT_EQ(NearestName("simulat", names), "simulate");   // a deletion
  EXPECT_EQ(NearestName("simluate", names), "simulate");  // a swap
  EXPECT_EQ(NearestName("comapre", names), "compare");
  EXPECT_EQ(NearestName("stat", names), "stats");
  EXPECT_EQ(NearestName("calibrat", names), "calibrate");
  EXPECT_EQ(NearestName("frobnicate", names), "");  // not a typo of anything
  EXPECT_EQ(NearestName("x", names), "");
  EXPECT_EQ(NearestName("contigous", {"contiguous", "round-robin", "occult"}), "contiguous");
  EXPECT_EQ(NearestName("dedupp", {"classical", "dedup", "hierarchical"}), "dedup");
  EXPECT_EQ(NearestName("anything", {}), "");
}

TEST(StringUtilTest, SplitWhitespaceDropsSpacesAndTabs) {
  EXPECT_EQ(SplitWhitespace("  a\tbb   c \n"), (std::vector<std::string>{"a", "bb", "c"}));
  EXPECT_TRUE(SplitWhitespace(" \t ").empty());
}

TEST(StringUtilTest, SplitCommaListRejectsEmptyItems) {
  auto ok = SplitCommaList("classical,dedup", "dispatch list");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::vector<std::string>{"classical", "dedup"}));
  auto bad = SplitCommaList("a,,b", "placement list");
  EXPECT_EQ(bad.status().code(), Status::Code::kUsage);
  EXPECT_EQ(bad.status().message(), "empty item in placement list 'a,,b'");
  EXPECT_FALSE(SplitCommaList("", "x").ok());
}

}  // namespace
}  // namespace epsim
