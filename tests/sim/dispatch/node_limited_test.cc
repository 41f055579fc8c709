// Node-limited routing (sim/dispatch/node_limited.cc) and hierarchical
// dispatch (sim/dispatch/hierarchical.cc) on 2 nodes x 2 GPUs, and against
// slow references on random tokens.
#include <gtest/gtest.h>

#include "sim/dispatch/strategies.h"
#include "sim/plan/layer_traffic.h"
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

// Node 1 (experts 4..7) scores 0.30 + 0.15 = 0.45 over node 0's
// 0.20 + 0.12; the top-3 is re-taken there: 6, 4, 7.
TEST(NodeLimitedTest, KeepsTheNodeWithTheBestTwoScoreSum) {
  const RoutedToken out = Route(*MakeNodeLimited(1), HandToken(), 0, EightExpertsFourRanks(),
                                TwoNodesTwoGpus());
  EXPECT_EQ(out.experts, (Experts{6, 7, 4}));  // grouped: rank 3 first, then rank 2
  EXPECT_EQ(out.weights, (Weights{0.30f, 0.10f, 0.15f}));
  ASSERT_EQ(out.rows.size(), 2u);
  EXPECT_EQ(out.rows[0].rank, 3u);
  EXPECT_EQ(out.rows[0].count, 2u);
  EXPECT_EQ(out.rows[1].rank, 2u);
  EXPECT_EQ(out.rows[1].relay, 2u);
}

// The top-1 expert (0, on node 0) loses: node 1's best two sum higher.
TEST(NodeLimitedTest, CanDropTheTopOneExpert) {
  const Token t{{0, 4, 5, 1, 6}, {0.40f, 0.25f, 0.20f, 0.03f, 0.02f}, 3};
  const RoutedToken out =
      Route(*MakeNodeLimited(1), t, 0, EightExpertsFourRanks(), TwoNodesTwoGpus());
  EXPECT_EQ(out.experts, (Experts{4, 5, 6}));
  EXPECT_EQ(out.weights, (Weights{0.25f, 0.20f, 0.02f}));
}

// Exact tie (0.5 + 0.125 = 0.375 + 0.25): the lower node id wins, and with
// only two candidates there the token gets two experts.
TEST(NodeLimitedTest, TiesGoToTheLowerNodeAndCandidatesMayRunOut) {
  const Token t{{0, 4, 5, 1, 6}, {0.5f, 0.375f, 0.25f, 0.125f, 0.0625f}, 3};
  const RoutedToken out =
      Route(*MakeNodeLimited(1), t, 3, EightExpertsFourRanks(), TwoNodesTwoGpus());
  EXPECT_EQ(out.experts, (Experts{0, 1}));
  EXPECT_EQ(out.weights, (Weights{0.5f, 0.125f}));
}

TEST(NodeLimitedTest, AsManyNodesAsTheClusterLeavesRoutingUnchanged) {
  for (uint32_t m : {2u, 5u}) {
    const RoutedToken out = Route(*MakeNodeLimited(m), HandToken(), 0, EightExpertsFourRanks(),
                                  TwoNodesTwoGpus());
    EXPECT_EQ(out.experts, (Experts{6, 2, 4}));
  }
  const ClusterMap one = ClusterMap::SingleHost(4);
  const RoutedToken out = Route(*MakeNodeLimited(1), HandToken(), 0, EightExpertsFourRanks(), one);
  EXPECT_EQ(out.experts, (Experts{6, 2, 4}));
}

// Four tokens with top-3 6, 4, 0, token t held by rank t. Rows go to the
// relay with the source's local index on the other node, and one network
// copy per destination node; the relay forwards to the other GPU.
TEST(HierarchicalTest, OneNetworkCopyPerNodeThroughTheSameLocalIndex) {
  trace::LayerRouting layer;
  layer.num_topk = 3;
  layer.num_candidates = 3;
  const uint32_t idx[] = {6, 4, 0};
  const float w[] = {0.5f, 0.3f, 0.2f};
  for (uint64_t t = 0; t < 4; ++t) layer.Append(t, 0, idx, w);
  const placement::Placement p = EightExpertsFourRanks();
  const ClusterMap cluster = TwoNodesTwoGpus();
  const auto h = plan::CountLayer(layer, {p, cluster, nullptr}, *MakeHierarchical());
  // src 0: copy to 2 (forwarded to 3), local; src 1: copy to 3 (forwarded
  // to 2), direct to 0; src 2: local, direct to 3, copy to 0; src 3: local,
  // direct to 2, copy to 1 (forwarded to 0).
  EXPECT_EQ(h.rows, (std::vector<uint64_t>{1, 0, 1, 0,  //
                                           1, 0, 0, 1,  //
                                           1, 0, 1, 1,  //
                                           0, 1, 1, 1}));
  std::vector<uint64_t> forward(16, 0);
  forward[2 * 4 + 3] = forward[3 * 4 + 2] = forward[1 * 4 + 0] = 1;
  EXPECT_EQ(h.forward_rows, forward);
  EXPECT_EQ(h.RemoteRows(), 10u);
  EXPECT_EQ(h.topk_changed, 0u);
  const auto d = plan::CountLayer(layer, {p, cluster, nullptr}, *MakeDedup());
  EXPECT_EQ(d.RemoteRows(), 9u);
  EXPECT_EQ(h.tokens_per_rank_expert, d.tokens_per_rank_expert);  // same experts, same ranks
}

TEST(HierarchicalTest, SmallerDestinationNodeUsesLocalIndexModuloItsSize) {
  const ClusterMap cluster{{0, 0, 0, 1, 1}, 2};  // node 0: ranks 0-2, node 1: ranks 3-4
  const auto p = *placement::Placement::Make("p", 5, {0, 1, 2, 3, 4});
  const Token t{{4, 3, 0}, {0.5f, 0.3f, 0.2f}, 3};
  const RoutedToken from2 = Route(*MakeHierarchical(), t, 2, p, cluster);
  ASSERT_EQ(from2.rows.size(), 3u);
  EXPECT_EQ(from2.rows[0].relay, 3u);  // local index 2 % 2 = 0
  EXPECT_EQ(from2.rows[1].relay, 3u);
  EXPECT_EQ(from2.rows[2].relay, 0u);  // same node: direct
  const RoutedToken from4 = Route(*MakeHierarchical(), t, 4, p, cluster);
  EXPECT_EQ(from4.rows[2].rank, 0u);
  EXPECT_EQ(from4.rows[2].relay, 1u);  // local index 1 on node 0
}

// ---- Slow references -------------------------------------------------

std::map<uint32_t, float> RefNodeLimited(const Token& t, uint32_t m,
                                         const placement::Placement& p, const ClusterMap& c) {
  std::map<uint32_t, std::vector<float>> scores_on;  // node -> candidate scores
  for (size_t i = 0; i < t.candidates.size(); ++i)
    scores_on[c.HostOf(p.RankOf(t.candidates[i]))].push_back(t.scores[i]);
  std::vector<std::pair<double, uint32_t>> nodes;  // (-score, node)
  for (uint32_t n = 0; n < c.num_hosts; ++n) {
    std::vector<float> s = scores_on[n];
    std::sort(s.rbegin(), s.rend());
    double sum = 0;
    for (size_t i = 0; i < s.size() && i < 2; ++i) sum += s[i];
    nodes.emplace_back(-sum, n);
  }
  std::sort(nodes.begin(), nodes.end());
  std::set<uint32_t> chosen;
  for (size_t i = 0; i < nodes.size() && i < m; ++i) chosen.insert(nodes[i].second);
  std::map<uint32_t, float> out;
  for (size_t i = 0; i < t.candidates.size() && out.size() < t.num_topk; ++i)
    if (chosen.count(c.HostOf(p.RankOf(t.candidates[i])))) out[t.candidates[i]] = t.scores[i];
  return out;
}

TEST(NodeLimitedTest, MatchesSlowReferenceOnRandomTokens) {
  std::mt19937_64 rng(31);
  const ClusterMap cluster = testing::EvenNodes(8, 4);
  for (int iter = 0; iter < 3000; ++iter) {
    const placement::Placement p = testing::RandomPlacement(rng, 32, 8, iter % 2 == 1);
    const uint32_t k = 1 + rng() % 6, c = k + rng() % 10, m = 1 + rng() % 4;
    const Token t = testing::RandomToken(rng, 32, k, c);
    const uint32_t src = rng() % 8;
    const RoutedToken out = Route(*MakeNodeLimited(m), t, src, p, cluster);
    const testing::Summary s = Summarize(out);
    EXPECT_EQ(s.weight_of, RefNodeLimited(t, m, p, cluster)) << iter;
    for (const auto& [rank, row] : s.rows)
      for (uint32_t e : row.first) {
        const auto& ranks = p.RanksOf(e);
        EXPECT_TRUE(std::count(ranks.begin(), ranks.end(), rank)) << e << " not on " << rank;
      }
    EXPECT_LE(testing::DistinctOver(out, [&](const auto& r) { return cluster.HostOf(r.rank); }), m);
    if (::testing::Test::HasFailure()) break;
  }
}

uint32_t RefRelay(uint32_t src, uint32_t rank, const ClusterMap& c) {
  if (c.HostOf(rank) == c.HostOf(src)) return rank;
  std::vector<uint32_t> src_node, dst_node;
  for (uint32_t r = 0; r < c.host_of_rank.size(); ++r) {
    if (c.HostOf(r) == c.HostOf(src)) src_node.push_back(r);
    if (c.HostOf(r) == c.HostOf(rank)) dst_node.push_back(r);
  }
  const size_t local = std::find(src_node.begin(), src_node.end(), src) - src_node.begin();
  return dst_node[local % dst_node.size()];
}

TEST(HierarchicalTest, MatchesSlowReferenceOnRandomTokens) {
  std::mt19937_64 rng(41);
  for (int iter = 0; iter < 3000; ++iter) {
    const uint32_t num_nodes = 1 << (rng() % 4);  // 1, 2, 4 or 8 nodes of 8 ranks
    const ClusterMap cluster = testing::EvenNodes(8, num_nodes);
    const placement::Placement p = testing::RandomPlacement(rng, 32, 8, iter % 2 == 1);
    const uint32_t k = 1 + rng() % 8;
    const Token t = testing::RandomToken(rng, 32, k, k);
    const uint32_t src = rng() % 8;
    const RoutedToken out = Route(*MakeHierarchical(), t, src, p, cluster);
    testing::Summary expected = Summarize(Route(*MakeDedup(), t, src, p, cluster));
    for (auto& [rank, row] : expected.rows) row.second = RefRelay(src, rank, cluster);
    EXPECT_EQ(Summarize(out), expected) << iter;
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace epsim::dispatch
