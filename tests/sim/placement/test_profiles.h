// Hand-made and seeded random profiles for the placement tests: a
// TraceStats from a co-activation matrix, and small in-memory traces.
#ifndef EPSIM_TESTS_SIM_PLACEMENT_TEST_PROFILES_H_
#define EPSIM_TESTS_SIM_PLACEMENT_TEST_PROFILES_H_

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "sim/trace/trace.h"
#include "sim/trace/trace_stats.h"

namespace epsim::placement::testing {

// One layer (number 0) whose off-diagonal co-activation is `w` (n x n,
// symmetric); load[e] = the row sum, so every expert is used.
inline trace::TraceStats StatsFromMatrix(const std::vector<std::vector<uint64_t>>& w) {
  trace::TraceStats s;
  s.num_experts = static_cast<uint32_t>(w.size());
  s.num_topk = 2;
  trace::LayerRoutingStats l;
  l.coact.Resize(s.num_experts);
  l.load.assign(s.num_experts, 0);
  for (uint32_t i = 0; i < s.num_experts; ++i)
    for (uint32_t j = 0; j < s.num_experts; ++j)
      if (i != j) l.coact.at(i, j) = w[i][j], l.load[i] += w[i][j];
  s.layers.push_back(l);
  return s;
}

// A symmetric matrix of uniform random counts in [0, max].
inline std::vector<std::vector<uint64_t>> RandomMatrix(uint32_t n, uint64_t max, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<uint64_t>> w(n, std::vector<uint64_t>(n, 0));
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t j = i + 1; j < n; ++j) w[i][j] = w[j][i] = rng() % (max + 1);
  return w;
}

// `num_layers` layers (numbered 1..) of `num_tokens` tokens, top-k of E:
// each token draws its experts mostly from one of E/group_size hidden groups
// (a random permutation of the experts), so placement matters.
inline trace::Trace ClusteredTrace(uint32_t num_experts, uint32_t k, uint32_t group_size,
                                   uint32_t num_tokens, uint32_t num_layers, uint64_t seed) {
  std::mt19937_64 rng(seed);
  trace::Trace t;
  t.header.set_num_experts(num_experts);
  t.header.set_num_topk(k);
  t.header.set_num_candidates(k);
  std::vector<uint32_t> perm(num_experts);
  for (uint32_t layer = 1; layer <= num_layers; ++layer) {
    for (uint32_t e = 0; e < num_experts; ++e) perm[e] = e;
    for (uint32_t e = num_experts; e > 1; --e) std::swap(perm[e - 1], perm[rng() % e]);
    trace::LayerRouting l;
    l.layer = layer, l.num_topk = k, l.num_candidates = k;
    for (uint32_t tok = 0; tok < num_tokens; ++tok) {
      const uint32_t group = rng() % (num_experts / group_size);
      std::vector<uint32_t> picks;
      while (picks.size() < k) {
        const uint32_t e = rng() % 4 == 0 ? rng() % num_experts
                                          : perm[group * group_size + rng() % group_size];
        if (std::find(picks.begin(), picks.end(), e) == picks.end()) picks.push_back(e);
      }
      const std::vector<float> w(k, 1.0f / k);
      l.Append(tok, 0, picks.data(), w.data());
    }
    t.layers.push_back(l);
  }
  return t;
}

}  // namespace epsim::placement::testing

#endif  // EPSIM_TESTS_SIM_PLACEMENT_TEST_PROFILES_H_
