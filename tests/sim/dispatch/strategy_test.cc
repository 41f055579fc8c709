// Dispatch strategies on hand-checkable tokens and against a slow, obvious
// reference on random ones.
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "sim/dispatch/strategy.h"
#include "sim/dispatch/token_split.h"

namespace epsim::dispatch {
namespace {

placement::Placement FourExpertsTwoRanks() { return *placement::Contiguous(4, 2); }

// Routes `topk` (scores 0.5, 0.4, ... descending) with a one-node cluster.
RoutedToken RouteTopk(const Strategy& s, std::vector<uint32_t> topk, uint32_t src,
                      const placement::Placement& p) {
  static const float kScores[] = {0.5f, 0.4f, 0.3f, 0.2f, 0.1f, 0.09f, 0.08f, 0.07f};
  const std::vector<float> scores(kScores, kScores + topk.size());
  const ClusterMap cluster = ClusterMap::SingleHost(p.num_ranks());
  RoutedToken out;
  s.Route({topk, scores, static_cast<uint32_t>(topk.size())}, src, {p, cluster, nullptr}, &out);
  return out;
}

TEST(ClassicalTest, OneRowPerExpertInRouterOrder) {
  RoutedToken out = RouteTopk(*MakeClassical(), {3, 0, 1}, 0, FourExpertsTwoRanks());
  ASSERT_EQ(out.rows.size(), 3u);
  EXPECT_EQ(out.rows[0].rank, 1u);
  EXPECT_EQ(out.rows[1].rank, 0u);
  EXPECT_EQ(out.rows[2].rank, 0u);
  for (const DispatchRow& r : out.rows) EXPECT_EQ(r.count, 1u);
  EXPECT_EQ(out.experts, (std::vector<uint32_t>{3, 0, 1}));
}

TEST(DedupTest, OneRowPerDeviceFeedingItsExperts) {
  RoutedToken out = RouteTopk(*MakeDedup(), {3, 0, 2, 1}, 0, FourExpertsTwoRanks());
  ASSERT_EQ(out.rows.size(), 2u);
  EXPECT_EQ(out.rows[0].rank, 1u);  // device of the top-1 expert first
  EXPECT_EQ(out.rows[0].count, 2u);
  EXPECT_EQ(out.rows[1].rank, 0u);
  EXPECT_EQ(out.rows[1].count, 2u);
  EXPECT_EQ(out.experts, (std::vector<uint32_t>{3, 2, 0, 1}));
  EXPECT_EQ(out.weights, (std::vector<float>{0.5f, 0.3f, 0.4f, 0.2f}));  // follow their experts
}

TEST(StrategyTest, ParsesListsAndRejectsUnknownNames) {
  auto list = MakeStrategies("classical,dedup");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1]->name(), "dedup");
  EXPECT_EQ(MakeStrategies("classical,,dedup").status().code(), Status::Code::kUsage);
  auto bad = MakeStrategy("broadcast");
  EXPECT_EQ(bad.status().code(), Status::Code::kUsage);
  EXPECT_NE(bad.status().message().find("broadcast"), std::string::npos);
}

// Property: on random tokens, dedup sends exactly one row per distinct
// device, classical one per expert, both cover every selected expert once.
TEST(StrategyTest, MatchesSlowReferenceOnRandomTokens) {
  std::mt19937_64 rng(7);
  const placement::Placement p = *placement::Contiguous(64, 8);
  auto classical = MakeClassical();
  auto dedup = MakeDedup();
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<uint32_t> all(64);
    for (uint32_t i = 0; i < 64; ++i) all[i] = i;
    std::shuffle(all.begin(), all.end(), rng);
    std::vector<uint32_t> topk(all.begin(), all.begin() + 8);
    const uint32_t src = static_cast<uint32_t>(rng() % 8);
    const RoutedToken c = RouteTopk(*classical, topk, src, p);
    const RoutedToken d = RouteTopk(*dedup, topk, src, p);
    std::set<uint32_t> devices;
    for (uint32_t e : topk) devices.insert(e / 8);
    EXPECT_EQ(d.rows.size(), devices.size());
    EXPECT_EQ(c.rows.size(), topk.size());
    std::multiset<uint32_t> fed;
    for (const DispatchRow& r : d.rows)
      for (uint32_t i = r.first; i < r.first + r.count; ++i) {
        EXPECT_EQ(p.RankOf(d.experts[i]), r.rank);
        fed.insert(d.experts[i]);
      }
    EXPECT_EQ(fed, std::multiset<uint32_t>(topk.begin(), topk.end()));
  }
}

TEST(TokenSplitTest, RemainderGoesToLastBlocks) {
  TokenSplit split(10, 4);
  EXPECT_EQ(split.TokensPerRank(), (std::vector<uint64_t>{2, 2, 3, 3}));
  const std::vector<uint32_t> expected = {0, 0, 1, 1, 2, 2, 2, 3, 3, 3};
  for (uint64_t t = 0; t < 10; ++t) EXPECT_EQ(split.RankOf(t), expected[t]) << t;
  EXPECT_EQ(split.FirstToken(3), 7u);
}

TEST(TokenSplitTest, FewerTokensThanRanks) {
  TokenSplit split(2, 4);
  EXPECT_EQ(split.TokensPerRank(), (std::vector<uint64_t>{0, 0, 1, 1}));
  EXPECT_EQ(split.RankOf(0), 2u);
  EXPECT_EQ(split.RankOf(1), 3u);
}

// With replicas, dedup picks the copy on the source, then copies on ranks
// the token already uses, so a replicated expert joins an existing row.
TEST(DedupTest, ReplicasJoinRowsTheTokenAlreadyUses) {
  // Expert 0 on ranks 0 and 2, expert 1 on rank 2, expert 2 on rank 1.
  auto p = placement::Placement::MakeReplicated("r", 3, {{0, 2}, {2}, {1}});
  ASSERT_TRUE(p.ok());
  RoutedToken from1 = RouteTopk(*MakeDedup(), {1, 0}, 1, *p);
  ASSERT_EQ(from1.rows.size(), 1u);  // both on rank 2
  EXPECT_EQ(from1.rows[0].rank, 2u);
  EXPECT_EQ(from1.rows[0].count, 2u);
  RoutedToken from0 = RouteTopk(*MakeDedup(), {1, 0}, 0, *p);
  ASSERT_EQ(from0.rows.size(), 2u);  // expert 0 stays local on rank 0
  EXPECT_EQ(from0.rows[1].rank, 0u);
  RoutedToken classical = RouteTopk(*MakeClassical(), {0, 2}, 2, *p);
  EXPECT_EQ(classical.rows[0].rank, 2u);  // the local copy
}

}  // namespace
}  // namespace epsim::dispatch
