// --placement values: algorithm names and placement files (resolve.h).
#include "sim/placement/resolve.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace epsim::placement {
namespace {

std::string WriteFile() {
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "resolve.textproto").string();
  std::ofstream(path) << "algorithm: \"custom\" num_experts: 4 num_ranks: 2\n"
                         "layers { layer: 1 experts { ranks: 1 } experts { ranks: 0 } "
                         "experts { ranks: 1 } experts { ranks: 0 } }\n";
  return path;
}

TEST(ResolvePlacementTest, ReadsAFileForTheRightRankCount) {
  const std::string path = WriteFile();
  auto p = ResolvePlacement(path, 2, "", nullptr);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->ForLayer(1).RankOf(0), 1u);
  auto wrong = ResolvePlacement(path, 4, "", nullptr);
  EXPECT_EQ(wrong.status().code(), Status::Code::kBadInput);
  EXPECT_NE(wrong.status().message().find("placement for 2 ranks, this run has 4"),
            std::string::npos);
}

TEST(ResolvePlacementTest, NamesNeedATraceAndOnlyReplicateTakesACount) {
  EXPECT_EQ(ResolvePlacement("occult", 2, "", nullptr).status().code(), Status::Code::kUsage);
  EXPECT_EQ(ResolvePlacement("replicate:x", 2, "t.trace", nullptr).status().code(),
            Status::Code::kUsage);
  EXPECT_EQ(ResolvePlacement("partition:2", 2, "t.trace", nullptr).status().code(),
            Status::Code::kUsage);
  // Not a name, so a file, which does not exist.
  EXPECT_FALSE(ResolvePlacement("no-such-placement.textproto", 2, "", nullptr).ok());
}

}  // namespace
}  // namespace epsim::placement
