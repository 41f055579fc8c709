// Mean C_T and the swap search on it, against hand counts.
#include "sim/placement/device_count_search.h"

#include <gtest/gtest.h>

namespace epsim::placement {
namespace {

TEST(MeanDevicesTest, CountsDistinctDevicesPerToken) {
  // Tokens {0,1} {0,2} {1,3}; experts 0,1 on rank 0 and 2,3 on rank 1:
  // C_T = 1, 2, 2.
  const LayerTokens tokens{2, {0, 1, 0, 2, 1, 3}};
  EXPECT_DOUBLE_EQ(MeanDevices(tokens, {0, 0, 1, 1}, 2), 5.0 / 3);
  EXPECT_DOUBLE_EQ(MeanDevices(tokens, {0, 1, 0, 1}, 2), 4.0 / 3);
}

TEST(SearchDevicesTest, FindsTheOneDeviceSplitAndKeepsBalance) {
  // Tokens only ever pick within {0,3} or within {1,2}: the best split puts
  // each pair on one rank (C_T = 1 for every token).
  const LayerTokens tokens{2, {0, 3, 1, 2, 3, 0, 2, 1, 0, 3}};
  std::vector<uint32_t> ranks = {0, 0, 1, 1};
  SearchDevices(tokens, 2, {}, 1, 4, &ranks);
  EXPECT_DOUBLE_EQ(MeanDevices(tokens, ranks, 2), 1.0);
  EXPECT_EQ(ranks[0], ranks[3]);
  EXPECT_EQ(ranks[1], ranks[2]);
  EXPECT_NE(ranks[0], ranks[1]);
}

TEST(SearchDevicesTest, SwapsOnlyWithinASwapClass) {
  const LayerTokens tokens{2, {0, 3, 1, 2}};
  std::vector<uint32_t> ranks = {0, 1, 2, 3};  // one expert per rank
  SearchDevices(tokens, 4, {0, 0, 1, 1}, 1, 4, &ranks);
  // Swapping within {0,1} or {2,3} changes nothing here; across is barred.
  EXPECT_DOUBLE_EQ(MeanDevices(tokens, ranks, 4), 2.0);
  EXPECT_LT(ranks[0], 2u);
  EXPECT_LT(ranks[1], 2u);
}

}  // namespace
}  // namespace epsim::placement
