// Shared fixtures of the dispatch tests: the 2 nodes x 2 GPUs, 8-expert
// hand-checkable cluster, tokens that own their arrays, random tokens and
// placements, and order-free summaries of a routed token for comparing a
// strategy with a slow reference.
#ifndef EPSIM_TESTS_SIM_DISPATCH_DISPATCH_TEST_UTIL_H_
#define EPSIM_TESTS_SIM_DISPATCH_DISPATCH_TEST_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "sim/dispatch/strategy.h"
#include "sim/placement/placement.h"
#include "sim/trace/trace.h"

namespace epsim::dispatch::testing {

// A token owning its candidate list (descending scores, first k selected).
struct Token {
  std::vector<uint32_t> candidates;
  std::vector<float> scores;
  uint32_t num_topk = 0;

  TokenView view() const { return {candidates, scores, num_topk}; }
};

// Ranks 0, 1 on node 0 and ranks 2, 3 on node 1.
inline ClusterMap TwoNodesTwoGpus() { return {{0, 0, 1, 1}, 2}; }

// `num_nodes` nodes of equal size, ranks in node order.
inline ClusterMap EvenNodes(uint32_t num_ranks, uint32_t num_nodes) {
  ClusterMap c;
  c.num_hosts = num_nodes;
  for (uint32_t r = 0; r < num_ranks; ++r) c.host_of_rank.push_back(r / (num_ranks / num_nodes));
  return c;
}

// Experts {0,1} on rank 0, {2,3} on rank 1, {4,5} on rank 2, {6,7} on rank 3.
inline placement::Placement EightExpertsFourRanks() { return *placement::Contiguous(8, 4); }

// The hand-checkable token: candidates 6, 2, 4, 3, 7, 0 (top-3 = 6, 2, 4).
inline Token HandToken() {
  return {{6, 2, 4, 3, 7, 0}, {0.30f, 0.20f, 0.15f, 0.12f, 0.10f, 0.05f}, 3};
}

inline RoutedToken Route(const Strategy& s, const Token& token, uint32_t src,
                         const placement::Placement& p, const ClusterMap& cluster,
                         const LayerProfile* profile = nullptr) {
  RoutedToken out;
  s.Route(token.view(), src, {p, cluster, profile}, &out);
  return out;
}

// `c` distinct random experts of `e`, scores descending and distinct-ish.
inline Token RandomToken(std::mt19937_64& rng, uint32_t e, uint32_t k, uint32_t c) {
  std::vector<uint32_t> all(e);
  std::iota(all.begin(), all.end(), 0u);
  std::shuffle(all.begin(), all.end(), rng);
  Token t;
  t.candidates.assign(all.begin(), all.begin() + c);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (uint32_t i = 0; i < c; ++i) t.scores.push_back(u(rng));
  // Occasional ties exercise the tie rules.
  if (c > 2 && rng() % 8 == 0) t.scores[1] = t.scores[2];
  std::sort(t.scores.begin(), t.scores.end(), std::greater<float>());
  t.num_topk = k;
  return t;
}

// Random placement of `e` experts on `d` ranks: a random primary per expert
// (every rank gets e/d primaries), and with `replicas` a second copy on
// another random rank for about a third of the experts.
inline placement::Placement RandomPlacement(std::mt19937_64& rng, uint32_t e, uint32_t d,
                                            bool replicas) {
  std::vector<uint32_t> primary(e);
  for (uint32_t i = 0; i < e; ++i) primary[i] = i % d;
  std::shuffle(primary.begin(), primary.end(), rng);
  std::vector<std::vector<uint32_t>> ranks(e);
  for (uint32_t i = 0; i < e; ++i) {
    ranks[i] = {primary[i]};
    if (replicas && rng() % 3 == 0) ranks[i].push_back((primary[i] + 1 + rng() % (d - 1)) % d);
  }
  return *placement::Placement::MakeReplicated("random", d, ranks);
}

// Order-free summary of a routed token: expert -> weight, and per row rank
// -> (experts, relay). Rows must have distinct ranks (checked).
struct Summary {
  std::map<uint32_t, float> weight_of;
  std::map<uint32_t, std::pair<std::set<uint32_t>, uint32_t>> rows;
  bool operator==(const Summary&) const = default;
};

inline Summary Summarize(const RoutedToken& r) {
  Summary s;
  EXPECT_EQ(r.experts.size(), r.weights.size());
  for (size_t i = 0; i < r.experts.size(); ++i) {
    EXPECT_EQ(s.weight_of.count(r.experts[i]), 0u) << "expert used twice";
    s.weight_of[r.experts[i]] = r.weights[i];
  }
  size_t covered = 0;
  for (const DispatchRow& row : r.rows) {
    EXPECT_EQ(s.rows.count(row.rank), 0u) << "two rows to rank " << row.rank;
    auto& [experts, relay] = s.rows[row.rank];
    for (uint32_t i = row.first; i < row.first + row.count; ++i) experts.insert(r.experts[i]);
    relay = row.relay;
    covered += row.count;
  }
  EXPECT_EQ(covered, r.experts.size()) << "rows must cover every expert once";
  return s;
}

// Distinct values of f(row) over a routed token's rows.
template <typename F>
size_t DistinctOver(const RoutedToken& r, F f) {
  std::set<uint32_t> seen;
  for (const DispatchRow& row : r.rows) seen.insert(f(row));
  return seen.size();
}

// A layer of random tokens with `c` candidates each (for properties).
inline trace::LayerRouting RandomLayer(std::mt19937_64& rng, uint32_t num_tokens, uint32_t e,
                                       uint32_t k, uint32_t c) {
  trace::LayerRouting layer;
  layer.layer = 0;
  layer.num_topk = k;
  layer.num_candidates = c;
  for (uint32_t t = 0; t < num_tokens; ++t) {
    const Token tok = RandomToken(rng, e, k, c);
    layer.Append(t, t / 64, tok.candidates.data(), tok.scores.data());
  }
  return layer;
}

}  // namespace epsim::dispatch::testing

#endif  // EPSIM_TESTS_SIM_DISPATCH_DISPATCH_TEST_UTIL_H_
