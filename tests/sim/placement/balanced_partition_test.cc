// Occult's greedy and the partitioner on hand-checkable graphs, against slow
// obvious re-implementations and brute force.
#include "sim/placement/balanced_partition.h"

#include <gtest/gtest.h>

#include <functional>
#include <numeric>

#include "tests/sim/placement/test_profiles.h"

namespace epsim::placement {
namespace {

using testing::RandomMatrix;

CollabGraph Graph(const std::vector<std::vector<uint64_t>>& w) {
  CollabGraph g;
  g.n = static_cast<uint32_t>(w.size());
  for (const auto& row : w)
    for (uint64_t x : row) g.w.push_back(static_cast<double>(x));
  return g;
}

// The 8-expert example worked by hand in OccultGreedyMatchesTheHandWorkedAnswer.
std::vector<std::vector<uint64_t>> HandMatrix() {
  std::vector<std::vector<uint64_t>> w(8, std::vector<uint64_t>(8, 0));
  auto set = [&](int i, int j, uint64_t x) { w[i][j] = w[j][i] = x; };
  set(0, 5, 10), set(0, 7, 9), set(2, 0, 6), set(2, 5, 4), set(3, 5, 5), set(3, 0, 3);
  set(1, 4, 8), set(1, 6, 7), set(4, 6, 1), set(2, 3, 2), set(1, 0, 1), set(6, 7, 2);
  set(4, 5, 2);
  return w;
}

// Occult's greedy written out plainly: weights normalised by the largest,
// mean weights, ties (within 1e-12) to the lowest id.
Assignment SlowOccult(const std::vector<std::vector<uint64_t>>& counts, uint32_t num_parts) {
  const uint32_t n = counts.size(), per = n / num_parts;
  double max = 0;
  for (const auto& row : counts)
    for (uint64_t x : row) max = std::max(max, double(x));
  auto w = [&](uint32_t i, uint32_t j) { return counts[i][j] / max; };
  Assignment part(n, ~0u);
  std::vector<uint32_t> placed;
  for (uint32_t p = 0; p < num_parts; ++p) {
    std::vector<uint32_t> dev;
    if (p == 0) {
      uint32_t bi = 0, bj = 1;
      for (uint32_t i = 0; i < n; ++i)
        for (uint32_t j = i + 1; j < n; ++j)
          if (w(i, j) > w(bi, bj) + 1e-12) bi = i, bj = j;
      dev = {bi, bj};
    } else {
      uint32_t best = ~0u;
      double best_sum = 0;
      for (uint32_t v = 0; v < n; ++v) {
        if (part[v] != ~0u) continue;
        double sum = 0;
        for (uint32_t u : placed) sum += w(v, u);
        if (best == ~0u || sum < best_sum - 1e-12) best = v, best_sum = sum;
      }
      dev = {best};
    }
    for (uint32_t v : dev) part[v] = p, placed.push_back(v);
    while (dev.size() < per) {
      uint32_t best = ~0u;
      double best_mean = 0;
      for (uint32_t v = 0; v < n; ++v) {
        if (part[v] != ~0u) continue;
        double mean = 0;
        for (uint32_t u : dev) mean += w(v, u) / dev.size();
        if (best == ~0u || mean > best_mean + 1e-12) best = v, best_mean = mean;
      }
      dev.push_back(best), part[best] = p, placed.push_back(best);
    }
  }
  return part;
}

// The largest IntraWeight over every balanced split (brute force).
double BruteForceBest(const CollabGraph& g, uint32_t num_parts) {
  const uint32_t per = g.n / num_parts;
  Assignment part(g.n, 0);
  double best = -1;
  std::vector<uint32_t> count(num_parts, 0);
  std::function<void(uint32_t, uint32_t)> go = [&](uint32_t v, uint32_t used) {
    if (v == g.n) return void(best = std::max(best, IntraWeight(g, part)));
    // A new part only as the lowest unused one: each split is seen once.
    for (uint32_t p = 0; p < std::min(used + 1, num_parts); ++p) {
      if (count[p] == per) continue;
      part[v] = p, ++count[p];
      go(v + 1, std::max(used, p + 1));
      --count[p];
    }
  };
  go(0, 0);
  return best;
}

std::vector<uint32_t> PartSizes(uint32_t n, uint32_t parts) {
  return std::vector<uint32_t>(parts, n / parts);
}

TEST(OccultGreedyTest, MatchesTheHandWorkedAnswer) {
  // Device 0: heaviest pair {0,5}. Device 1: seed 6 (weight 0 to {0,5}),
  // grow by 1 (w(1,6) = 7). Device 2: seed 3 (8 to {0,5,1,6}, less than 2's
  // 10 and 4's and 7's 11), grow by 2 (w(2,3) = 2). Device 3: {4,7}.
  const Assignment part = OccultGreedy(Graph(HandMatrix()), PartSizes(8, 4));
  EXPECT_EQ(part, (Assignment{0, 1, 2, 2, 3, 0, 1, 3}));
  EXPECT_EQ(part, SlowOccult(HandMatrix(), 4));
}

TEST(OccultGreedyTest, AgreesWithSlowReferenceOnRandomGraphs) {
  for (uint64_t seed = 1; seed <= 30; ++seed)
    for (uint32_t parts : {2u, 4u, 8u}) {
      const auto w = RandomMatrix(16, 50, seed);
      EXPECT_EQ(OccultGreedy(Graph(w), PartSizes(16, parts)), SlowOccult(w, parts))
          << "seed " << seed << " parts " << parts;
    }
}

TEST(PartitionGraphTest, FindsTheBruteForceOptimumOnTinyInstances) {
  for (uint64_t seed = 1; seed <= 25; ++seed)
    for (uint32_t parts : {2u, 4u}) {  // 35 and 105 distinct balanced splits
      const CollabGraph g = Graph(RandomMatrix(8, 20, seed));
      const Assignment part = PartitionGraph(g, PartSizes(8, parts), seed, 8);
      EXPECT_EQ(IntraWeight(g, part), BruteForceBest(g, parts))
          << "seed " << seed << " parts " << parts;
    }
}

TEST(PartitionGraphTest, ExactlyBalancedAndNeverWorseThanGreedy) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const CollabGraph g = Graph(RandomMatrix(32, 100, seed));
    const Assignment part = PartitionGraph(g, PartSizes(32, 4), seed, 4);
    std::vector<uint32_t> count(4, 0);
    for (uint32_t p : part) ++count[p];
    EXPECT_EQ(count, PartSizes(32, 4));
    EXPECT_GE(IntraWeight(g, part), IntraWeight(g, OccultGreedy(g, PartSizes(32, 4))));
  }
}

TEST(KernighanLinTest, ReachesTheCliqueSplitFromAnInterleavedStart) {
  // Two 4-cliques {0..3} and {4..7}, started interleaved.
  std::vector<std::vector<uint64_t>> w(8, std::vector<uint64_t>(8, 0));
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j)
      if (i != j && (i < 4) == (j < 4)) w[i][j] = 1;
  const CollabGraph g = Graph(w);
  Assignment part = {0, 1, 0, 1, 0, 1, 0, 1};
  RefineKernighanLin(g, {}, &part);
  EXPECT_EQ(IntraWeight(g, part), 12);
}

TEST(KernighanLinTest, SwapsOnlyWithinASwapClass) {
  std::vector<std::vector<uint64_t>> w(4, std::vector<uint64_t>(4, 0));
  w[0][2] = w[2][0] = 5;
  const CollabGraph g = Graph(w);
  Assignment pairs = {0, 0, 1, 1};
  RefineKernighanLin(g, {0, 1}, &pairs);  // parts 0 and 1 may not swap
  EXPECT_EQ(pairs, (Assignment{0, 0, 1, 1}));
  RefineKernighanLin(g, {}, &pairs);
  EXPECT_EQ(pairs[0], pairs[2]);
}

}  // namespace
}  // namespace epsim::placement
