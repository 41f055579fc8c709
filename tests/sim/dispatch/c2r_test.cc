// Collaboration-constrained routing (sim/dispatch/c2r.cc): hand-checked
// tokens and a slow reference on random tokens and partner lists.
#include <gtest/gtest.h>

#include "sim/dispatch/strategies.h"
#include "tests/sim/dispatch/dispatch_test_util.h"

namespace epsim::dispatch {
namespace {

using testing::EightExpertsFourRanks;
using testing::HandToken;
using testing::Route;
using testing::Summarize;
using testing::Token;
using testing::TwoNodesTwoGpus;

using Experts = std::vector<uint32_t>;
using Weights = std::vector<float>;

// Every expert's partners are the others by ascending id, except expert 6's.
LayerProfile PartnersOfSix(Experts six) {
  LayerProfile profile;
  for (uint32_t e = 0; e < 8; ++e) {
    Experts others;
    for (uint32_t o = 0; o < 8; ++o)
      if (o != e) others.push_back(o);
    profile.partners.push_back(others);
  }
  profile.partners[6] = std::move(six);
  return profile;
}

// Top-1 is 6; its first three partners 7 (0.10), 0 (0.05) and 1 (not a
// candidate): the two known ones win, weights unchanged.
TEST(C2RTest, PicksBestScoringOfTheFirstTPartners) {
  const LayerProfile profile = PartnersOfSix({7, 0, 1, 2, 3, 4, 5});
  const RoutedToken out = Route(*MakeC2R(3), HandToken(), 0, EightExpertsFourRanks(),
                                TwoNodesTwoGpus(), &profile);
  EXPECT_EQ(out.experts, (Experts{6, 7, 0}));
  EXPECT_EQ(out.weights, (Weights{0.30f, 0.10f, 0.05f}));
  ASSERT_EQ(out.rows.size(), 2u);
  EXPECT_EQ(out.rows[0].rank, 3u);
  EXPECT_EQ(out.rows[0].count, 2u);
  EXPECT_EQ(out.rows[1].rank, 0u);
  EXPECT_EQ(out.rows[1].count, 1u);
}

// T = 5 reaches 2 (0.20) and 3 (0.12), which beat 7 and 0 by score.
TEST(C2RTest, ScoreOrdersThePartnersNotProfileOrder) {
  const LayerProfile profile = PartnersOfSix({7, 0, 1, 2, 3, 4, 5});
  const RoutedToken out = Route(*MakeC2R(5), HandToken(), 0, EightExpertsFourRanks(),
                                TwoNodesTwoGpus(), &profile);
  EXPECT_EQ(out.experts, (Experts{6, 2, 3}));
  EXPECT_EQ(out.weights, (Weights{0.30f, 0.20f, 0.12f}));
}

// Partner 1 is not among the candidates: it ranks after the known 7 and
// takes the token's lowest listed score (0.05) as its weight.
TEST(C2RTest, UnlistedPartnerRanksLastWithLowestListedScore) {
  const LayerProfile profile = PartnersOfSix({1, 7, 0, 2, 3, 4, 5});
  const RoutedToken out = Route(*MakeC2R(2), HandToken(), 1, EightExpertsFourRanks(),
                                TwoNodesTwoGpus(), &profile);
  EXPECT_EQ(out.experts, (Experts{6, 7, 1}));
  EXPECT_EQ(out.weights, (Weights{0.30f, 0.10f, 0.05f}));
}

TEST(C2RTest, RequiresTAtLeastKMinusOne) {
  EXPECT_EQ(CheckStrategyFits(*MakeC2R(1), 3).code(), Status::Code::kUsage);
  EXPECT_NE(CheckStrategyFits(*MakeC2R(1), 3).message().find("T >= k - 1"), std::string::npos);
  EXPECT_TRUE(CheckStrategyFits(*MakeC2R(2), 3).ok());
  EXPECT_TRUE(CheckStrategyFits(*MakeDedup(), 8).ok());
  EXPECT_TRUE(CheckStrategyFits(*MakePruned(1, PruneScheme::kScore), 8).ok());
}

// ---- Slow reference --------------------------------------------------

std::map<uint32_t, float> RefC2R(const Token& t, uint32_t num_partners,
                                 const std::vector<uint32_t>& partners) {
  std::map<uint32_t, size_t> position_of;
  for (size_t i = 0; i < t.candidates.size(); ++i) position_of[t.candidates[i]] = i;
  // (unknown, -score, candidate or partner position, expert)
  std::vector<std::tuple<int, float, size_t, uint32_t>> ranked;
  for (size_t i = 0; i < partners.size() && i < num_partners; ++i) {
    const auto it = position_of.find(partners[i]);
    if (it != position_of.end())
      ranked.emplace_back(0, -t.scores[it->second], it->second, partners[i]);
    else
      ranked.emplace_back(1, 0.0f, i, partners[i]);
  }
  std::sort(ranked.begin(), ranked.end());
  std::map<uint32_t, float> out = {{t.candidates[0], t.scores[0]}};
  const float lowest = *std::min_element(t.scores.begin(), t.scores.end());
  for (size_t i = 0; i + 1 < t.num_topk && i < ranked.size(); ++i)
    out[std::get<3>(ranked[i])] = std::get<0>(ranked[i]) ? lowest : -std::get<1>(ranked[i]);
  return out;
}

TEST(C2RTest, MatchesSlowReferenceOnRandomTokens) {
  std::mt19937_64 rng(21);
  const ClusterMap cluster = testing::EvenNodes(8, 4);
  for (int iter = 0; iter < 3000; ++iter) {
    LayerProfile profile;
    for (uint32_t e = 0; e < 32; ++e) {
      Experts others;
      for (uint32_t o = 0; o < 32; ++o)
        if (o != e) others.push_back(o);
      std::shuffle(others.begin(), others.end(), rng);
      profile.partners.push_back(others);
    }
    const placement::Placement p = testing::RandomPlacement(rng, 32, 8, iter % 2 == 1);
    const uint32_t k = 1 + rng() % 6, c = k + rng() % 8;
    const uint32_t num_partners = std::max<uint32_t>(1, k - 1 + rng() % 8);
    const Token t = testing::RandomToken(rng, 32, k, c);
    const uint32_t src = rng() % 8;
    const RoutedToken out = Route(*MakeC2R(num_partners), t, src, p, cluster, &profile);
    const testing::Summary s = Summarize(out);
    EXPECT_EQ(s.weight_of, RefC2R(t, num_partners, profile.partners[t.candidates[0]])) << iter;
    EXPECT_EQ(s.weight_of.size(), std::min<size_t>(k, 1 + num_partners)) << iter;
    // Dispatch is dedup's on the chosen experts.
    RoutedToken dedup;
    GroupByDevice(out.experts, out.weights, src, {p, cluster, nullptr}, &dedup);
    EXPECT_EQ(s, Summarize(dedup)) << iter;
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace epsim::dispatch
