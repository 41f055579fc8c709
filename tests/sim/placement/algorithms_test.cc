// ComputePlacement per algorithm on hand-checkable profiles.
#include "sim/placement/algorithms.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "sim/placement/device_count_search.h"
#include "sim/placement/replicate.h"
#include "tests/sim/placement/test_profiles.h"

namespace epsim::placement {
namespace {

using testing::ClusteredTrace;
using testing::RandomMatrix;
using testing::StatsFromMatrix;

std::vector<uint32_t> RankOf(const Placement& p) {
  std::vector<uint32_t> out(p.num_experts());
  for (uint32_t e = 0; e < p.num_experts(); ++e) out[e] = p.RankOf(e);
  return out;
}

LayerTokens TokensOf(const trace::LayerRouting& l) {
  LayerTokens t;
  t.num_topk = l.num_topk;
  for (size_t i = 0; i < l.num_tokens(); ++i)
    t.picks.insert(t.picks.end(), l.topk(i), l.topk(i) + l.num_topk);
  return t;
}

Placement Compute(const std::string& algorithm, uint32_t num_ranks,
                  const trace::TraceStats& stats, const trace::Trace* tokens = nullptr,
                  uint32_t layer = 0) {
  PlacementSpec spec{algorithm, num_ranks};
  auto p = ComputePlacement(spec, stats, tokens);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p->ForLayer(layer);
}

TEST(ComputePlacementTest, ContiguousAndRoundRobinExactMaps) {
  const trace::TraceStats stats = StatsFromMatrix(RandomMatrix(8, 5, 1));
  EXPECT_EQ(RankOf(Compute("contiguous", 4, stats)),
            (std::vector<uint32_t>{0, 0, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(RankOf(Compute("round-robin", 4, stats)),
            (std::vector<uint32_t>{0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_EQ(Compute("round-robin", 4, stats).name(), "round-robin");
}

TEST(ComputePlacementTest, SplitsUnevenlyAndRejectsUnknownAndMisplacedSlots) {
  const trace::TraceStats stats = StatsFromMatrix(RandomMatrix(8, 5, 1));
  for (const char* name : {"contiguous", "round-robin", "occult", "partition"}) {
    auto p = ComputePlacement({name, 3}, stats);
    ASSERT_TRUE(p.ok()) << name << ": " << p.status().ToString();
    for (uint32_t r = 0; r < 3; ++r)
      EXPECT_EQ(p->ForLayer(0).ExpertsOn(r).size(), r < 2 ? 3u : 2u) << name;
    EXPECT_EQ(ComputePlacement({name, 9}, stats).status().code(), Status::Code::kBadInput)
        << name;
  }
  EXPECT_EQ(ComputePlacement({"metis", 2}, stats).status().code(), Status::Code::kUsage);
  EXPECT_EQ(ComputePlacement({"replicate", 2}, stats).status().code(), Status::Code::kUsage);
  EXPECT_EQ(ComputePlacement({"partition", 2, 1}, stats).status().code(), Status::Code::kUsage);
}

TEST(ComputePlacementTest, OneOccultPlacementPerLayer) {
  const trace::Trace trace = ClusteredTrace(16, 4, 4, 300, 3, 7);
  const trace::TraceStats stats = trace::ComputeTraceStats(trace);
  auto p = ComputePlacement({"occult", 4}, stats);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->per_layer().size(), 3u);
  // Each layer's hidden groups are a different permutation, so the maps differ.
  EXPECT_NE(RankOf(p->ForLayer(1)), RankOf(p->ForLayer(2)));
  EXPECT_EQ(RankOf(p->ForLayer(99)), RankOf(p->ForLayer(1)));  // fallback: first layer
  EXPECT_EQ(p->name(), "occult");
}

TEST(ComputePlacementTest, PartitionOnTokensNeverWorseThanOccultInMeanCt) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const trace::Trace trace = ClusteredTrace(32, 4, 8, 400, 1, seed);
    const trace::TraceStats stats = trace::ComputeTraceStats(trace);
    const LayerTokens tokens = TokensOf(trace.layers[0]);
    const double occult = MeanDevices(tokens, RankOf(Compute("occult", 4, stats, &trace, 1)), 4);
    const Placement part = Compute("partition", 4, stats, &trace, 1);
    EXPECT_LE(MeanDevices(tokens, RankOf(part), 4), occult) << "seed " << seed;
    for (uint32_t r = 0; r < 4; ++r) EXPECT_EQ(part.ExpertsOn(r).size(), 8u);
  }
}

// The least mean C_T over every balanced split of 8 experts (brute force).
double BruteForceCt(const LayerTokens& tokens, uint32_t num_ranks) {
  std::vector<uint32_t> rank(8), count(num_ranks, 0);
  double best = 1e9;
  std::function<void(uint32_t)> go = [&](uint32_t e) {
    if (e == 8) return void(best = std::min(best, MeanDevices(tokens, rank, num_ranks)));
    for (uint32_t r = 0; r < num_ranks; ++r)
      if (count[r] < 8 / num_ranks) rank[e] = r, ++count[r], go(e + 1), --count[r];
  };
  go(0);
  return best;
}

TEST(ComputePlacementTest, PartitionFindsTheBruteForceMeanCtOnTinyInstances) {
  for (uint64_t seed = 1; seed <= 8; ++seed)
    for (uint32_t d : {2u, 4u}) {
      const trace::Trace trace = ClusteredTrace(8, 3, 4, 120, 1, seed);
      const LayerTokens tokens = TokensOf(trace.layers[0]);
      const Placement p = Compute("partition", d, trace::ComputeTraceStats(trace), &trace, 1);
      EXPECT_DOUBLE_EQ(MeanDevices(tokens, RankOf(p), d), BruteForceCt(tokens, d))
          << "seed " << seed << " D " << d;
    }
}

TEST(ReplicateTest, KeepsTheBudgetEveryExpertAndCopiesTheHotOne) {
  // Expert 0 takes most of the load.
  std::vector<std::vector<uint64_t>> w = RandomMatrix(8, 3, 4);
  for (int j = 1; j < 8; ++j) w[0][j] = w[j][0] = 100;
  const trace::TraceStats stats = StatsFromMatrix(w);
  for (uint32_t slots : {1u, 2u}) {
    PlacementSpec spec{"replicate", 4, slots};
    auto p = ComputePlacement(spec, stats);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    const Placement& r = p->ForLayer(0);
    for (uint32_t rank = 0; rank < 4; ++rank) EXPECT_LE(r.ExpertsOn(rank).size(), 2u + slots);
    for (uint32_t e = 0; e < 8; ++e) EXPECT_GE(r.RanksOf(e).size(), 1u);
    EXPECT_GT(r.RanksOf(0).size(), 1u);
    // The primaries are the partition placement.
    EXPECT_EQ(RankOf(r), RankOf(Compute("partition", 4, stats)));
    EXPECT_TRUE(r.replicated());
  }
}

TEST(ReplicateTest, ReusingTheComputedPartitionGivesTheSamePlacement) {
  // compare computes partition once and hands it to replicate.
  const trace::Trace trace = ClusteredTrace(32, 4, 8, 400, 2, 3);
  const trace::TraceStats stats = trace::ComputeTraceStats(trace);
  auto partition = ComputePlacement({"partition", 4}, stats, &trace);
  ASSERT_TRUE(partition.ok());
  PlacementSpec spec{"replicate", 4, 1};
  auto fresh = ComputePlacement(spec, stats, &trace);
  spec.partition = &*partition;
  auto reused = ComputePlacement(spec, stats, &trace);
  ASSERT_TRUE(fresh.ok() && reused.ok());
  ASSERT_EQ(fresh->per_layer().size(), reused->per_layer().size());
  for (const auto& [layer, p] : fresh->per_layer()) {
    const Placement& q = reused->ForLayer(layer);
    for (uint32_t e = 0; e < 32; ++e) EXPECT_EQ(p.RanksOf(e), q.RanksOf(e)) << "layer " << layer;
  }
}

TEST(ReplicateTest, ExpectedLoadFollowsTheLocalCopyRule) {
  // 2 ranks on one node; expert 0 (load 10) on both, expert 1 (load 4) on 1.
  // Tokens on rank 0 use its copy of 0, tokens on rank 1 theirs: 5 + 5; all
  // of expert 1's tokens go to rank 1. Units of 1/D token: x2.
  EXPECT_EQ(ExpectedRankLoad({{0, 1}, {1}}, {10, 4}, {0, 0}), (std::vector<uint64_t>{10, 18}));
  // On two nodes, a token on rank 2 (node 1) prefers the copy on node 1.
  EXPECT_EQ(ExpectedRankLoad({{0, 2}}, {4}, {0, 0, 1, 1}), (std::vector<uint64_t>{8, 0, 8, 0}));
}

TEST(ReplicateTest, LowersTheExpectedMaximumLoad) {
  const std::vector<uint64_t> load = {90, 10, 10, 10, 10, 10, 10, 10};
  const std::vector<uint32_t> primary = {0, 0, 1, 1, 2, 2, 3, 3}, nodes(4, 0);
  const ReplicaRanks one_each = [&] {
    ReplicaRanks r;
    for (uint32_t p : primary) r.push_back({p});
    return r;
  }();
  const ReplicaRanks replicated = Replicate(primary, load, nodes, 1);
  const auto before = ExpectedRankLoad(one_each, load, nodes);
  const auto after = ExpectedRankLoad(replicated, load, nodes);
  EXPECT_LT(*std::max_element(after.begin(), after.end()),
            *std::max_element(before.begin(), before.end()));
  EXPECT_EQ(replicated[0].size(), 4u);  // the hot expert everywhere it fits
}

}  // namespace
}  // namespace epsim::placement
