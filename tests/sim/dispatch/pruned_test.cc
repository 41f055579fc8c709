// Occult's collaboration pruning (sim/dispatch/pruned.cc): hand-checked
// tokens on 2 nodes x 2 GPUs, then both schemes against a slow reference.
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

void ExpectRow(const DispatchRow& row, uint32_t rank, uint32_t first, uint32_t count) {
  EXPECT_EQ(row.rank, rank);
  EXPECT_EQ(row.first, first);
  EXPECT_EQ(row.count, count);
  EXPECT_EQ(row.relay, rank);
}

// Top-3 6, 2, 4 on ranks 3, 1, 2: N_d = 2 keeps ranks 3 and 1, and the
// re-selection takes 6, 2 and the next candidate there, 3 (0.12), over 4.
TEST(PrunedScoreTest, ReselectsBestCandidatesOnTheFirstTwoDevices) {
  const RoutedToken out = Route(*MakePruned(2, PruneScheme::kScore), HandToken(), 0,
                                EightExpertsFourRanks(), TwoNodesTwoGpus());
  EXPECT_EQ(out.experts, (Experts{6, 2, 3}));
  EXPECT_EQ(out.weights, (Weights{0.30f, 0.20f, 0.12f}));
  ASSERT_EQ(out.rows.size(), 2u);
  ExpectRow(out.rows[0], 3, 0, 1);
  ExpectRow(out.rows[1], 1, 1, 2);
}

// One device (rank 3 holds 6 and 7): only two candidates live there, so
// the token keeps two experts, not three.
TEST(PrunedScoreTest, FewerThanKWhenTheCandidatesRunOut) {
  const RoutedToken out = Route(*MakePruned(1, PruneScheme::kScore), HandToken(), 0,
                                EightExpertsFourRanks(), TwoNodesTwoGpus());
  EXPECT_EQ(out.experts, (Experts{6, 7}));
  EXPECT_EQ(out.weights, (Weights{0.30f, 0.10f}));
  ASSERT_EQ(out.rows.size(), 1u);
  ExpectRow(out.rows[0], 3, 0, 2);
}

TEST(PrunedScoreTest, EnoughDevicesLeaveRoutingAndRowsAsDedup) {
  const auto p = EightExpertsFourRanks();
  for (uint32_t n_d : {3u, 4u, 9u}) {
    const RoutedToken pruned =
        Route(*MakePruned(n_d, PruneScheme::kScore), HandToken(), 1, p, TwoNodesTwoGpus());
    const RoutedToken dedup = Route(*MakeDedup(), HandToken(), 1, p, TwoNodesTwoGpus());
    EXPECT_EQ(pruned.experts, dedup.experts) << n_d;
    EXPECT_EQ(pruned.weights, dedup.weights) << n_d;
    EXPECT_EQ(Summarize(pruned), Summarize(dedup)) << n_d;
  }
}

// Similarity rows for expert 4: most similar overall are 0 and 5 (not on
// the allowed ranks 3 and 1), then 7, then 3.
LayerProfile HandSimilarity() {
  LayerProfile profile;
  profile.similarity.assign(64, 0.0f);
  auto set = [&](uint32_t i, uint32_t j, float v) { profile.similarity[i * 8 + j] = v; };
  set(4, 0, 0.95f);
  set(4, 5, 0.9f);
  set(4, 7, 0.6f);
  set(4, 3, 0.2f);
  set(4, 6, 0.99f);  // already selected: not a substitute
  return profile;
}

TEST(PrunedSimilarityTest, ReplacesByMostSimilarUnselectedExpertOnAllowedDevice) {
  const LayerProfile profile = HandSimilarity();
  const RoutedToken out = Route(*MakePruned(2, PruneScheme::kSimilarity), HandToken(), 0,
                                EightExpertsFourRanks(), TwoNodesTwoGpus(), &profile);
  // 7 takes 4's place and weight (0.15), then rows group by device.
  EXPECT_EQ(out.experts, (Experts{6, 7, 2}));
  EXPECT_EQ(out.weights, (Weights{0.30f, 0.15f, 0.20f}));
  ASSERT_EQ(out.rows.size(), 2u);
  ExpectRow(out.rows[0], 3, 0, 2);
  ExpectRow(out.rows[1], 1, 2, 1);
}

// N_d = 1 keeps rank 3 (experts 6, 7): 2 is replaced by 7 (its only free
// expert there), and 4 finds nothing left, so it is dropped.
TEST(PrunedSimilarityTest, DropsWhenNoUnselectedExpertIsLeft) {
  LayerProfile profile = HandSimilarity();
  profile.similarity[2 * 8 + 7] = 0.1f;
  const RoutedToken out = Route(*MakePruned(1, PruneScheme::kSimilarity), HandToken(), 0,
                                EightExpertsFourRanks(), TwoNodesTwoGpus(), &profile);
  EXPECT_EQ(out.experts, (Experts{6, 7}));
  EXPECT_EQ(out.weights, (Weights{0.30f, 0.20f}));
}

// Expert 3 has copies on rank 0 (the source, its primary) and rank 1. With
// N_d = 2 the walk keeps ranks 3 and 1, and the re-selected 3 must go to
// rank 1: the copy on the source would make a third device.
TEST(PrunedScoreTest, ReplicaOutsideTheAllowedDevicesIsNotUsed) {
  auto p = placement::Placement::MakeReplicated(
      "r", 4, {{0}, {0}, {1}, {0, 1}, {2}, {2}, {3}, {3}});
  ASSERT_TRUE(p.ok());
  const RoutedToken out =
      Route(*MakePruned(2, PruneScheme::kScore), HandToken(), 0, *p, TwoNodesTwoGpus());
  EXPECT_EQ(out.experts, (Experts{6, 2, 3}));
  ASSERT_EQ(out.rows.size(), 2u);
  ExpectRow(out.rows[0], 3, 0, 1);
  ExpectRow(out.rows[1], 1, 1, 2);
}

// ---- Slow reference --------------------------------------------------

// The allowed devices of Occult's walk, in collection order.
std::vector<uint32_t> RefAllowed(const Token& t, uint32_t n_d, uint32_t src,
                                 const placement::Placement& p, const ClusterMap& c) {
  std::vector<uint32_t> devices;
  for (uint32_t i = 0; i < t.num_topk && devices.size() < n_d; ++i) {
    const uint32_t r = ChooseReplica(p, c, t.candidates[i], src, devices);
    if (std::count(devices.begin(), devices.end(), r) == 0) devices.push_back(r);
  }
  return devices;
}

bool RefEligible(const placement::Placement& p, const std::vector<uint32_t>& allowed,
                 uint32_t e) {
  for (uint32_t r : p.RanksOf(e))
    if (std::count(allowed.begin(), allowed.end(), r)) return true;
  return false;
}

// expert -> weight of the reference selection.
std::map<uint32_t, float> RefScore(const Token& t, const placement::Placement& p,
                                   const std::vector<uint32_t>& allowed) {
  std::vector<std::tuple<float, size_t, uint32_t>> eligible;  // (-score, position, expert)
  for (size_t i = 0; i < t.candidates.size(); ++i)
    if (RefEligible(p, allowed, t.candidates[i]))
      eligible.emplace_back(-t.scores[i], i, t.candidates[i]);
  std::sort(eligible.begin(), eligible.end());
  std::map<uint32_t, float> out;
  for (size_t i = 0; i < eligible.size() && i < t.num_topk; ++i)
    out[std::get<2>(eligible[i])] = -std::get<0>(eligible[i]);
  return out;
}

std::map<uint32_t, float> RefSimilarity(const Token& t, const placement::Placement& p,
                                        const std::vector<uint32_t>& allowed,
                                        const std::vector<float>& sim) {
  const uint32_t e = p.num_experts();
  std::set<uint32_t> selected;
  for (uint32_t i = 0; i < t.num_topk; ++i)
    if (RefEligible(p, allowed, t.candidates[i])) selected.insert(t.candidates[i]);
  std::map<uint32_t, float> out;
  for (uint32_t i = 0; i < t.num_topk; ++i) {
    const uint32_t x = t.candidates[i];
    if (RefEligible(p, allowed, x)) {
      out[x] = t.scores[i];
      continue;
    }
    std::vector<std::pair<float, uint32_t>> options;  // (-similarity, id)
    for (uint32_t y = 0; y < e; ++y)
      if (y != x && !selected.count(y) && RefEligible(p, allowed, y))
        options.emplace_back(-sim[x * e + y], y);
    if (options.empty()) continue;
    const uint32_t y = std::min_element(options.begin(), options.end())->second;
    selected.insert(y);
    out[y] = t.scores[i];
  }
  return out;
}

// Checks the rows of `out` against the allowed devices and the placement;
// for unreplicated placements the rows are determined: expert -> its rank.
void CheckRows(const RoutedToken& out, const placement::Placement& p,
               const std::vector<uint32_t>& allowed) {
  const testing::Summary s = Summarize(out);
  for (const auto& [rank, row] : s.rows) {
    EXPECT_TRUE(std::count(allowed.begin(), allowed.end(), rank)) << "row to rank " << rank;
    EXPECT_EQ(row.second, rank);
    for (uint32_t e : row.first) {
      const auto& ranks = p.RanksOf(e);
      EXPECT_TRUE(std::count(ranks.begin(), ranks.end(), rank)) << e << " not on " << rank;
      if (!p.replicated()) {
        EXPECT_EQ(p.RankOf(e), rank);
      }
    }
  }
}

class PrunedReferenceTest : public ::testing::TestWithParam<bool> {};

TEST_P(PrunedReferenceTest, BothSchemesMatchSlowReferenceOnRandomTokens) {
  const bool replicas = GetParam();
  std::mt19937_64 rng(replicas ? 11 : 12);
  const ClusterMap cluster = testing::EvenNodes(8, 2);
  LayerProfile profile;
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int i = 0; i < 32 * 32; ++i) profile.similarity.push_back(u(rng));
  for (int iter = 0; iter < 3000; ++iter) {
    const placement::Placement p = testing::RandomPlacement(rng, 32, 8, replicas);
    const uint32_t k = 1 + rng() % 6, c = k + rng() % 10, n_d = 1 + rng() % 9;
    const Token t = testing::RandomToken(rng, 32, k, c);
    const uint32_t src = rng() % 8;
    const std::vector<uint32_t> allowed = RefAllowed(t, n_d, src, p, cluster);
    const RoutedToken score =
        Route(*MakePruned(n_d, PruneScheme::kScore), t, src, p, cluster);
    EXPECT_EQ(Summarize(score).weight_of, RefScore(t, p, allowed)) << iter;
    CheckRows(score, p, allowed);
    const RoutedToken similar =
        Route(*MakePruned(n_d, PruneScheme::kSimilarity), t, src, p, cluster, &profile);
    EXPECT_EQ(Summarize(similar).weight_of, RefSimilarity(t, p, allowed, profile.similarity))
        << iter;
    CheckRows(similar, p, allowed);
    if (::testing::Test::HasFailure()) break;
  }
}

INSTANTIATE_TEST_SUITE_P(Placements, PrunedReferenceTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Replicated" : "Single"; });

}  // namespace
}  // namespace epsim::dispatch
