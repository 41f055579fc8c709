#include "sim/plan/layer_traffic.h"

#include <gtest/gtest.h>

#include "sim/synth/uniform.h"
#include "tests/sim/plan/plan_test_util.h"

namespace epsim::plan {
namespace {

const placement::Placement kTwoRanks = *placement::Contiguous(4, 2);

LayerTraffic Count(const trace::LayerRouting& layer, const placement::Placement& p,
                   const dispatch::Strategy& s) {
  const dispatch::ClusterMap cluster = dispatch::ClusterMap::SingleHost(p.num_ranks());
  return CountLayer(layer, {p, cluster, nullptr}, s);
}

TEST(LayerTrafficTest, ClassicalCountsOneRowPerExpert) {
  auto s = dispatch::MakeClassical();
  LayerTraffic t = Count(testing::HandLayer(0), kTwoRanks, *s);
  EXPECT_EQ(t.rows, (std::vector<uint64_t>{3, 1, 2, 2}));  // [src][dst]
  EXPECT_EQ(t.RemoteRows(), 3u);
  EXPECT_EQ(t.tokens_per_expert, (std::vector<uint64_t>{3, 2, 2, 1}));
  EXPECT_EQ(t.reduce_inputs_per_rank, (std::vector<uint64_t>{0, 0}));
  EXPECT_EQ(t.sum_devices, 5u);
  // Routing unchanged: every top-k pick kept with its whole weight.
  EXPECT_EQ(t.topk_picks, 8u);
  EXPECT_EQ(t.topk_changed, 0u);
  EXPECT_DOUBLE_EQ(t.weight_kept, t.weight_total);
  EXPECT_EQ(t.forward_rows, (std::vector<uint64_t>{0, 0, 0, 0}));
}

TEST(LayerTrafficTest, DedupCountsOneRowPerDeviceAndStageOneReduce) {
  auto s = dispatch::MakeDedup();
  LayerTraffic t = Count(testing::HandLayer(0), kTwoRanks, *s);
  EXPECT_EQ(t.rows, (std::vector<uint64_t>{2, 1, 1, 1}));
  EXPECT_EQ(t.RemoteRows(), 2u);
  EXPECT_EQ(t.tokens_per_expert, (std::vector<uint64_t>{3, 2, 2, 1}));
  // Rows feeding two experts: token 0 and token 3 on rank 0, token 2 on rank 1.
  EXPECT_EQ(t.reduce_inputs_per_rank, (std::vector<uint64_t>{4, 2}));
  EXPECT_EQ(t.reduce_outputs_per_rank, (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(t.RowsInto(0), 3u);
  EXPECT_EQ(t.RowsFrom(1), 2u);
}

TEST(LayerTrafficTest, CausalContextFollowsSequencePositions) {
  auto s = dispatch::MakeDedup();
  LayerTraffic t = Count(testing::HandLayer(0), kTwoRanks, *s);
  // One sequence of 4 tokens: contexts 1, 2 on rank 0 and 3, 4 on rank 1.
  EXPECT_DOUBLE_EQ(t.sum_context_per_rank[0], 3.0);
  EXPECT_DOUBLE_EQ(t.sum_context_per_rank[1], 7.0);
}

// Property on generated traces: deduplication never adds a row, and both
// strategies feed every expert the same tokens (only the rows differ).
TEST(LayerTrafficTest, DedupNeverMovesMoreRowsThanClassical) {
  for (uint32_t ranks : {2u, 4u, 8u, 16u}) {
    synth::UniformTraceOptions o;
    o.layers = {0, 1};
    o.num_tokens = 1000 + ranks;  // uneven split
    o.seed = ranks;
    auto trace = synth::GenerateUniformTrace(o);
    const placement::Placement p = *placement::Contiguous(64, ranks);
    for (const trace::LayerRouting& layer : trace->layers) {
      LayerTraffic c = Count(layer, p, *dispatch::MakeClassical());
      LayerTraffic d = Count(layer, p, *dispatch::MakeDedup());
      for (size_t i = 0; i < c.rows.size(); ++i) EXPECT_LE(d.rows[i], c.rows[i]) << ranks;
      EXPECT_LT(d.RemoteRows(), c.RemoteRows()) << ranks;
      EXPECT_EQ(d.tokens_per_expert, c.tokens_per_expert);
      EXPECT_EQ(d.sum_devices, c.sum_devices);
    }
  }
}

}  // namespace
}  // namespace epsim::plan
