#include <gtest/gtest.h>

#include "sim/placement/placement.h"

namespace epsim::placement {
namespace {

TEST(PlacementTest, ContiguousAndUnknownNameIsUsage) {
  auto p = Contiguous(8, 4);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->RankOf(5), 2u);
  EXPECT_EQ(p->ExpertsOn(3), (std::vector<uint32_t>{6, 7}));
  EXPECT_EQ(MakePlacement("magic", 8, 2).status().code(), Status::Code::kUsage);
}

TEST(PlacementTest, RejectsRankOutOfRange) {
  auto bad = Placement::Make("custom", 2, {0, 1, 2});
  EXPECT_EQ(bad.status().code(), Status::Code::kBadInput);
  EXPECT_NE(bad.status().message().find("expert 2 on rank 2"), std::string::npos);
}

}  // namespace
}  // namespace epsim::placement
