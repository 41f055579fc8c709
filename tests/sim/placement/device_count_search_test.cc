// Mean C_T and the swap search on it, against hand counts.
#include "sim/placement/device_count_search.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

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

// The search written the slow, obvious way: every candidate swap is tried
// by recounting C_T over all tokens. The same descent and kicks as
// device_count_search.cc, so the results must match exactly.
uint64_t TotalDevices(const LayerTokens& tokens, const std::vector<uint32_t>& ranks) {
  uint64_t total = 0;
  for (size_t t = 0; t < tokens.num_tokens(); ++t) {
    std::set<uint32_t> devices;
    for (uint32_t i = 0; i < tokens.num_topk; ++i)
      devices.insert(ranks[tokens.picks[t * tokens.num_topk + i]]);
    total += devices.size();
  }
  return total;
}

std::vector<uint32_t> SlowSearch(const LayerTokens& tokens, const std::vector<uint32_t>& classes,
                                 uint64_t seed, uint32_t kicks, std::vector<uint32_t> ranks) {
  const uint32_t n = static_cast<uint32_t>(ranks.size());
  auto allowed = [&](uint32_t a, uint32_t b) {
    return ranks[a] != ranks[b] && classes[ranks[a]] == classes[ranks[b]];
  };
  auto descend = [&] {
    for (bool improved = true; improved;) {
      improved = false;
      for (uint32_t a = 0; a < n; ++a)
        for (uint32_t b = a + 1; b < n; ++b) {
          if (!allowed(a, b)) continue;
          const uint64_t before = TotalDevices(tokens, ranks);
          std::swap(ranks[a], ranks[b]);
          if (TotalDevices(tokens, ranks) < before) {
            improved = true;
          } else {
            std::swap(ranks[a], ranks[b]);
          }
        }
    }
  };
  auto kick = [&](std::mt19937_64& rng) {
    for (int tries = 0; tries < 64; ++tries) {
      const uint32_t a = rng() % n, b = rng() % n;
      if (!allowed(a, b)) continue;
      std::swap(ranks[a], ranks[b]);
      return;
    }
  };
  descend();
  std::vector<uint32_t> best = ranks;
  std::mt19937_64 rng(seed);
  for (uint32_t k = 0; k < kicks; ++k) {
    kick(rng);
    kick(rng);
    descend();
    if (TotalDevices(tokens, ranks) <= TotalDevices(tokens, best)) {
      best = ranks;
    } else {
      ranks = best;
    }
  }
  return best;
}

TEST(SearchDevicesTest, MatchesTheSlowSearchExactly) {
  // Random skewed profiles (repeated picks within a token included), with
  // and without swap classes: the incremental tables must take every
  // decision the recount takes.
  std::mt19937_64 gen(7);
  for (int trial = 0; trial < 24; ++trial) {
    const uint32_t e = 6 + trial % 7, d = 2 + trial % 3, k = 1 + trial % 4;
    LayerTokens tokens{k, {}};
    for (int t = 0; t < 150; ++t)
      for (uint32_t i = 0; i < k; ++i) {
        const uint32_t x = static_cast<uint32_t>(gen() % e);
        tokens.picks.push_back(gen() % 3 == 0 ? x / 2 : x);  // skew toward low ids
      }
    std::vector<uint32_t> ranks(e);
    for (uint32_t x = 0; x < e; ++x) ranks[x] = x % d;
    std::vector<uint32_t> classes(d, 0);
    if (trial % 2 == 1 && d >= 2) classes[d - 1] = 1;  // the last rank swaps with no other
    const std::vector<uint32_t> want = SlowSearch(tokens, classes, trial, 6, ranks);
    SearchDevices(tokens, d, classes, trial, 6, &ranks);
    EXPECT_EQ(ranks, want) << "trial " << trial;
    EXPECT_DOUBLE_EQ(MeanDevices(tokens, ranks, d),
                     static_cast<double>(TotalDevices(tokens, want)) / 150);
  }
}

}  // namespace
}  // namespace epsim::placement
