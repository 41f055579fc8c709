#include "sim/trace/trace_stats.h"

#include <cmath>

#include <gtest/gtest.h>

namespace epsim::trace {
namespace {

CountMatrix Make(uint32_t n, std::vector<uint64_t> v) {
  CountMatrix m;
  m.n = n;
  m.values = std::move(v);
  return m;
}

TEST(TraceStatsTest, ImbalanceAndCoefficientOfVariation) {
  EXPECT_DOUBLE_EQ(Imbalance({3, 2, 2, 1}), 1.5);
  EXPECT_DOUBLE_EQ(Imbalance({4, 4}), 1.0);
  EXPECT_NEAR(CoefficientOfVariation({3, 2, 2, 1}), std::sqrt(0.5) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(CoefficientOfVariation({5, 5, 5}), 0.0);
  EXPECT_DOUBLE_EQ(Imbalance({}), 0.0);
  EXPECT_DOUBLE_EQ(Imbalance({0, 0}), 0.0);
}

TEST(TraceStatsTest, OffDiagonalCorrelationIgnoresTheDiagonal) {
  const CountMatrix a = Make(3, {9, 1, 2, 1, 7, 3, 2, 3, 0});
  const CountMatrix b = Make(3, {0, 2, 4, 2, 0, 6, 4, 6, 5});  // 2 x a off the diagonal
  const CountMatrix c = Make(3, {0, 3, 2, 3, 0, 1, 2, 1, 0});  // reversed order
  EXPECT_NEAR(OffDiagonalCorrelation(a, b), 1.0, 1e-12);
  EXPECT_NEAR(OffDiagonalCorrelation(a, c), -1.0, 1e-12);
  EXPECT_DOUBLE_EQ(OffDiagonalCorrelation(a, Make(3, {1, 1, 1, 1, 1, 1, 1, 1, 1})), 0.0);
  EXPECT_DOUBLE_EQ(OffDiagonalCorrelation(a, Make(2, {0, 1, 1, 0})), 0.0);
}

TEST(TraceStatsTest, AffinityConcentrationOfAFixedMapIsOne) {
  EXPECT_DOUBLE_EQ(AffinityConcentration(Make(2, {0, 5, 7, 0})), 1.0);
  EXPECT_DOUBLE_EQ(AffinityConcentration(Make(2, {1, 1, 1, 1})), 0.5);
}

TEST(TraceStatsTest, CountsLoadCoactivationAndAffinityInMemory) {
  Trace t;
  t.header.set_num_experts(3);
  t.header.set_num_topk(2);
  t.header.set_num_candidates(2);
  const float w[2] = {0.6f, 0.4f};
  for (uint32_t layer : {1u, 4u}) {
    LayerRouting& l = t.layers.emplace_back();
    l.layer = layer;
    l.num_topk = l.num_candidates = 2;
    const uint32_t a[2] = {0, 1}, b[2] = {layer == 1 ? 2u : 1u, 0};
    l.Append(10, 0, a, w);
    l.Append(11, 0, b, w);
  }
  t.layers[1].token_ids[1] = 99;  // token 11 absent from layer 4
  TraceStats s = ComputeTraceStats(t);
  ASSERT_EQ(s.layers.size(), 2u);
  EXPECT_EQ(s.layers[0].load, (std::vector<uint64_t>{2, 1, 1}));
  EXPECT_EQ(s.layers[0].coact.at(0, 2), 1u);
  EXPECT_EQ(s.layers[0].coact.at(1, 2), 0u);
  EXPECT_EQ(s.layers[0].next_layer, 4u);
  EXPECT_EQ(s.layers[0].affinity_tokens, 1u);  // only token 10 is in both
  EXPECT_EQ(s.layers[0].affinity.at(0, 1), 1u);
  EXPECT_EQ(s.layers[1].affinity.n, 0u);
}

}  // namespace
}  // namespace epsim::trace
