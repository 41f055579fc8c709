// Strategies that change nothing on a cluster say so (NoEffectReason), and
// then route every token exactly as dedup does; a strategy listed twice in
// a list is kept once.
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/dispatch/strategies.h"
#include "sim/dispatch/strategy.h"
#include "tests/sim/dispatch/dispatch_test_util.h"

namespace epsim::dispatch {
namespace {

using testing::EvenNodes;
using testing::RandomPlacement;
using testing::RandomToken;

std::string Reason(const std::string& spec, const ClusterMap& cluster, uint32_t num_topk) {
  auto s = MakeStrategy(spec);
  EXPECT_TRUE(s.ok()) << spec;
  return (*s)->NoEffectReason(cluster, num_topk);
}

TEST(NoEffectTest, NamesWhatChangesNothingAndWhy) {
  const ClusterMap one = ClusterMap::SingleHost(4), two = EvenNodes(8, 2);
  EXPECT_EQ(Reason("node-limited:1", one, 4),
            "node-limited:1: the 4 ranks are on 1 node, within the limit of 1: routing "
            "unchanged, dispatched as dedup");
  EXPECT_EQ(Reason("node-limited:3", two, 4),
            "node-limited:3: the 8 ranks are on 2 nodes, within the limit of 3: routing "
            "unchanged, dispatched as dedup");
  EXPECT_EQ(Reason("node-limited:1", two, 4), "");
  EXPECT_EQ(Reason("hierarchical", one, 4),
            "hierarchical: the 4 ranks are on one node, so no row needs a relay: dispatched "
            "as dedup");
  EXPECT_EQ(Reason("hierarchical", two, 4), "");
  // At most min(ranks, k) devices per token.
  EXPECT_EQ(Reason("pruned:4:score", one, 8),
            "pruned:4:score: a top-8 token reaches at most 4 of the 4 ranks, within the limit "
            "of 4: nothing is pruned, dispatched as dedup");
  EXPECT_EQ(Reason("pruned:2:similarity", two, 2),
            "pruned:2:similarity: a top-2 token reaches at most 2 of the 8 ranks, within the "
            "limit of 2: nothing is pruned, dispatched as dedup");
  EXPECT_EQ(Reason("pruned:3:score", two, 4), "");
  EXPECT_EQ(Reason("pruned:3:score", one, 8), "");
  for (const char* spec : {"classical", "dedup", "c2r:3"}) EXPECT_EQ(Reason(spec, one, 4), "");
}

// Property: whenever NoEffectReason says so, the strategy's routed token
// equals dedup's (experts, weights, rows, relays) on random tokens over
// uneven placements (60 experts on 8 ranks) with replicas; where it does
// not say so, some token differs (the reason is not given too widely).
TEST(NoEffectTest, SaidSoMeansTheSameRoutingAsDedup) {
  std::mt19937_64 rng(3);
  const std::vector<ClusterMap> clusters = {ClusterMap::SingleHost(8), EvenNodes(8, 2)};
  const std::vector<std::string> specs = {"node-limited:1", "node-limited:2", "hierarchical",
                                          "pruned:2:score", "pruned:4:score",
                                          "pruned:8:score"};
  auto dedup = MakeDedup();
  for (const ClusterMap& cluster : clusters)
    for (const std::string& spec : specs) {
      auto s = MakeStrategy(spec);
      ASSERT_TRUE(s.ok());
      const bool said = !(*s)->NoEffectReason(cluster, 4).empty();
      bool differs = false;
      for (int iter = 0; iter < 300; ++iter) {
        const placement::Placement p = RandomPlacement(rng, 60, 8, iter % 2 == 0);
        const testing::Token token = RandomToken(rng, 60, 4, 10);
        const uint32_t src = static_cast<uint32_t>(rng() % 8);
        const RoutedToken a = testing::Route(**s, token, src, p, cluster);
        const RoutedToken b = testing::Route(*dedup, token, src, p, cluster);
        const bool same = a.experts == b.experts && a.weights == b.weights &&
                          testing::Summarize(a) == testing::Summarize(b);
        differs |= !same;
        ASSERT_TRUE(same || !said) << spec << " on " << cluster.num_hosts << " nodes";
      }
      EXPECT_EQ(differs, !said) << spec << " on " << cluster.num_hosts << " nodes";
    }
}

TEST(StrategyListTest, ARepeatedStrategyIsKeptOnceByItsCanonicalName) {
  std::vector<std::string> repeated;
  auto list =
      MakeStrategies("dedup,classical,dedup,pruned:02:score,pruned:2:score,dedup", &repeated);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> names;
  for (const auto& s : *list) names.push_back(s->name());
  EXPECT_EQ(names, (std::vector<std::string>{"dedup", "classical", "pruned:2:score"}));
  EXPECT_EQ(repeated, (std::vector<std::string>{"dedup", "pruned:2:score"}));
  ASSERT_TRUE(MakeStrategies("classical,dedup", &repeated).ok());
  EXPECT_TRUE(repeated.empty());
}

}  // namespace
}  // namespace epsim::dispatch
