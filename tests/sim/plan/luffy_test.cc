// Luffy's sequence migration and token condensation (plan/layer_traffic.cc)
// on hand-checked layers, a train schedule's mirrored backward, the refusals,
// and properties on generated traces.
#include <gtest/gtest.h>

#include <numeric>

#include "sim/dispatch/strategies.h"
#include "sim/plan/layer_traffic.h"
#include "sim/plan/model.h"
#include "sim/plan/plan_file.h"
#include "sim/plan/schedule_builder.h"
#include "sim/synth/uniform.h"

namespace epsim::plan {
namespace {

// 4 experts on 2 ranks (0, 1 on rank 0; 2, 3 on rank 1), top-2. Sequence
// 7 is tokens 0, 1 (rank 0 by TokenSplit), sequence 9 tokens 2, 3 (rank 1).
trace::LayerRouting TwoSequences(uint32_t layer, std::vector<uint32_t> seq7_experts,
                                 std::vector<uint32_t> seq9_experts) {
  trace::LayerRouting l;
  l.layer = layer;
  l.num_topk = l.num_candidates = 2;
  const float w[2] = {0.5f, 0.5f};
  for (uint64_t t = 0; t < 4; ++t)
    l.Append(t, t < 2 ? 7 : 9, t < 2 ? seq7_experts.data() : seq9_experts.data(), w);
  return l;
}

const placement::Placement kTwoRanks = *placement::Contiguous(4, 2);
const dispatch::ClusterMap kOneNode = dispatch::ClusterMap::SingleHost(2);

std::unique_ptr<dispatch::Strategy> Luffy(uint32_t q, uint32_t c, uint32_t slack) {
  return dispatch::MakeLuffy({q, c, slack});
}

LayerTraffic Count(const trace::LayerRouting& layer, const dispatch::Strategy& s,
                   SequenceHomes* homes) {
  return CountLayer(layer, {kTwoRanks, kOneNode, nullptr}, s, homes);
}

// Each sequence's experts are all on the other rank: both move there in the
// combine, which then crosses no link; the next layer's dispatch is local.
TEST(LuffyTest, SequencesMoveToTheirExpertsAndTheNextLayerStartsThere) {
  auto s = Luffy(1, 1, 0);
  SequenceHomes homes{{}, 8, false};
  LayerTraffic t = Count(TwoSequences(0, {2, 3}, {0, 1}), *s, &homes);
  EXPECT_EQ(t.rows, (std::vector<uint64_t>{0, 4, 4, 0}));  // classical rows [src][dst]
  EXPECT_EQ(t.combine_rows, (std::vector<uint64_t>{4, 0, 0, 4}));  // [from][to]: all local
  EXPECT_EQ(t.migrated_tokens, 4u);
  EXPECT_EQ(t.residual_rows, 0u);  // every token's hidden state reached its destination
  EXPECT_EQ(t.tokens_per_rank, (std::vector<uint64_t>{2, 2}));
  EXPECT_EQ(t.tokens_after, (std::vector<uint64_t>{2, 2}));
  EXPECT_EQ(t.combine_inputs_per_rank, (std::vector<uint64_t>{4, 4}));
  EXPECT_EQ(homes.rank.at(7), 1u);
  EXPECT_EQ(homes.rank.at(9), 0u);

  LayerTraffic next = Count(TwoSequences(1, {2, 3}, {0, 1}), *s, &homes);
  EXPECT_EQ(next.rows, (std::vector<uint64_t>{4, 0, 0, 4}));
  EXPECT_EQ(next.RemoteRows(), 0u);
  EXPECT_EQ(next.migrated_tokens, 0u);
  // Sequence 9 (tokens 2, 3) is on rank 0 now, sequence 7 on rank 1.
  EXPECT_DOUBLE_EQ(next.sum_context_per_rank[0], 3.0);
  EXPECT_DOUBLE_EQ(next.sum_context_per_rank[1], 3.0);
}

// Clusters of 2: each sequence's second token reuses the first's outputs,
// so only the first is sent; the second, without a row at the destination,
// sends its residual there when its sequence moves.
TEST(LuffyTest, CondensedTokensSendNothingButTheirResidual) {
  auto s = Luffy(1, 2, 0);
  SequenceHomes homes{{}, 8, false};
  LayerTraffic t = Count(TwoSequences(0, {2, 3}, {0, 1}), *s, &homes);
  EXPECT_EQ(t.condensed_pairs, 4u);
  EXPECT_EQ(t.rows, (std::vector<uint64_t>{0, 2, 2, 0}));
  EXPECT_EQ(t.tokens_per_expert, (std::vector<uint64_t>{1, 1, 1, 1}));
  // f(seq 7) = {2, 1}: it moves to rank 1; token 1's residual goes 0 -> 1.
  EXPECT_EQ(t.combine_rows, (std::vector<uint64_t>{2, 1, 1, 2}));
  EXPECT_EQ(t.residual_rows, 2u);
  EXPECT_EQ(t.combine_inputs_per_rank, (std::vector<uint64_t>{4, 4}));  // reused outputs too
  EXPECT_EQ(t.topk_changed, 0u);  // the experts are unchanged
}

TEST(LuffyTest, SharedExpertsMakeEveryMovingTokenSendItsResidual) {
  auto s = Luffy(1, 1, 0);
  SequenceHomes homes{{}, 8, true};
  LayerTraffic t = Count(TwoSequences(0, {2, 3}, {0, 1}), *s, &homes);
  EXPECT_EQ(t.residual_rows, 4u);
  EXPECT_EQ(t.combine_rows, (std::vector<uint64_t>{4, 2, 2, 4}));
}

// Both sequences want rank 1. With room for one sequence per rank the
// second goes where there is room; with room for both and q = 1 both go
// to rank 1; with q = 2 the second takes the candidate of least attention.
TEST(LuffyTest, CapacityAndCandidatesDecideWhereTheSecondSequenceGoes) {
  const auto dst_of_9 = [](uint32_t q, uint32_t slack) {
    auto s = Luffy(q, 1, slack);
    SequenceHomes homes{{}, 8, false};
    Count(TwoSequences(0, {2, 3}, {2, 3}), *s, &homes);
    EXPECT_EQ(homes.rank.at(7), 1u);
    return homes.rank.at(9);
  };
  EXPECT_EQ(dst_of_9(1, 0), 0u);
  EXPECT_EQ(dst_of_9(1, 100), 1u);
  EXPECT_EQ(dst_of_9(2, 100), 0u);
}

// A sequence longer than a device's capacity stays where its tokens are.
TEST(LuffyTest, ASequenceThatFitsNowhereStays) {
  trace::LayerRouting l;
  l.layer = 0;
  l.num_topk = l.num_candidates = 2;
  const uint32_t experts[2] = {2, 3};
  const float w[2] = {0.5f, 0.5f};
  for (uint64_t t = 0; t < 4; ++t) l.Append(t, 5, experts, w);
  auto s = Luffy(2, 1, 0);
  SequenceHomes homes{{}, 8, false};
  LayerTraffic t = Count(l, *s, &homes);
  EXPECT_EQ(t.migrated_tokens, 0u);
  EXPECT_EQ(t.combine_rows, (std::vector<uint64_t>{0, 0, 4, 4}));  // the mirror of the dispatch
  EXPECT_TRUE(homes.rank.empty());
}

proto::Model HandModel() {
  proto::Model m;
  m.set_name("hand");
  m.set_num_layers(2);
  m.set_hidden(8);
  m.set_num_heads(2);
  m.set_num_kv_heads(2);
  m.set_num_experts(4);
  m.set_num_topk(2);
  m.set_moe_intermediate(16);
  m.set_activation_bytes(2);
  EXPECT_TRUE(ValidateModel(&m).ok());
  return m;
}

trace::Trace HandTrace() {
  trace::Trace t;
  t.header.set_version(1);
  t.header.set_model("hand");
  t.header.set_num_experts(4);
  t.header.set_num_topk(2);
  t.header.set_num_candidates(2);
  t.header.set_num_layers(2);
  for (uint32_t l : {0u, 1u}) {
    auto* info = t.header.add_layers();
    info->set_layer(l);
    info->set_num_tokens(4);
    t.layers.push_back(TwoSequences(l, {2, 3}, {0, 1}));
  }
  return t;
}

std::vector<uint64_t> SendRows(const proto::Phase& p) {
  return {p.send_rows().begin(), p.send_rows().end()};
}

// Train: the combine's gradient moves the combine's rows back, the
// dispatch's gradient the dispatch's; the reduce is on the destination.
TEST(LuffyTest, TrainBackwardMirrorsTheMigratedCombine) {
  const placement::LayerPlacements placements(kTwoRanks);
  auto s = Luffy(1, 1, 0);
  const trace::Trace trace = HandTrace();
  const proto::Model model = HandModel();
  auto schedule = BuildSchedule({trace, model, placements, *s, kOneNode, nullptr,
                                 Overlap::kNone, Pass::kTrain});
  ASSERT_TRUE(schedule.ok()) << schedule.status().ToString();
  std::map<std::pair<uint32_t, int>, std::vector<uint64_t>> rows;
  for (const proto::Phase& p : schedule->phases())
    if (p.phase_class() == proto::ALL_TO_ALL) rows[{p.layer(), p.kind()}] = SendRows(p);
  // Layer 0: dispatch crosses, the combine stays local (sequences moved).
  EXPECT_EQ((rows[{0, proto::DISPATCH}]), (std::vector<uint64_t>{0, 4, 4, 0}));
  EXPECT_EQ((rows[{0, proto::COMBINE}]), (std::vector<uint64_t>{0, 0, 0, 0}));
  EXPECT_EQ((rows[{0, proto::COMBINE_BACKWARD}]), (std::vector<uint64_t>{0, 0, 0, 0}));
  EXPECT_EQ((rows[{0, proto::DISPATCH_BACKWARD}]), (std::vector<uint64_t>{0, 4, 4, 0}));
  // Layer 1 starts where layer 0 left the sequences: nothing crosses.
  EXPECT_EQ((rows[{1, proto::DISPATCH}]), (std::vector<uint64_t>{0, 0, 0, 0}));
  EXPECT_NEAR(schedule->routing().migrated_tokens(), 0.5, 1e-12);  // 4 of 8 token rows
  EXPECT_NEAR(schedule->routing().combine_rows_per_token(), 0.0, 1e-12);
  EXPECT_NEAR(schedule->routing().rows_per_token(), 1.0, 1e-12);
}

TEST(LuffyTest, RefusedWhereItIsNotModelled) {
  const placement::LayerPlacements placements(kTwoRanks);
  auto s = Luffy(2, 2, 10);
  const trace::Trace trace = HandTrace();
  const proto::Model model = HandModel();
  for (Overlap o : {Overlap::kMicroBatches, Overlap::kShortcut}) {
    auto r = BuildSchedule({trace, model, placements, *s, kOneNode, nullptr, o});
    EXPECT_EQ(r.status().code(), Status::Code::kUsage);
  }
  auto decode = BuildSchedule(
      {trace, model, placements, *s, kOneNode, nullptr, Overlap::kNone, Pass::kDecode});
  EXPECT_EQ(decode.status().code(), Status::Code::kUsage);
  EXPECT_NE(decode.status().message().find("KV cache"), std::string::npos);
  auto plan = BuildPlan({trace, model, placements, *s, kOneNode});
  EXPECT_EQ(plan.status().code(), Status::Code::kUsage);
  EXPECT_NE(plan.status().message().find("harness"), std::string::npos);
}

// On generated traces: every (token, expert) pair is computed or condensed,
// every token ends on one device, the final reduce sums k outputs per token,
// and without condensation the dispatch of the first layer is classical's.
TEST(LuffyTest, ConservesTokensAndPairsOnGeneratedTraces) {
  for (uint32_t ranks : {2u, 4u, 8u}) {
    synth::UniformTraceOptions o;
    o.layers = {0, 1, 2};
    o.num_tokens = 1024 + ranks;
    o.tokens_per_sequence = 100;
    o.seed = ranks;
    auto trace = synth::GenerateUniformTrace(o);
    const placement::Placement p = *placement::Contiguous(64, ranks);
    const dispatch::ClusterMap cluster = dispatch::ClusterMap::SingleHost(ranks);
    for (uint32_t c : {1u, 3u}) {
      auto s = Luffy(2, c, 10);
      SequenceHomes homes{{}, 2048, false};
      bool first = true;
      for (const trace::LayerRouting& layer : trace->layers) {
        LayerTraffic t = CountLayer(layer, {p, cluster, nullptr}, *s, &homes);
        const uint64_t n = layer.num_tokens(), k = layer.num_topk;
        EXPECT_EQ(std::accumulate(t.tokens_per_expert.begin(), t.tokens_per_expert.end(),
                                  uint64_t{0}) + t.condensed_pairs, n * k);
        EXPECT_EQ(std::accumulate(t.tokens_after.begin(), t.tokens_after.end(), uint64_t{0}), n);
        EXPECT_EQ(std::accumulate(t.combine_inputs_per_rank.begin(),
                                  t.combine_inputs_per_rank.end(), uint64_t{0}), n * k);
        uint64_t combined = 0;
        for (uint64_t r : t.combine_rows) combined += r;
        EXPECT_EQ(combined, n * k - t.condensed_pairs + t.residual_rows);
        if (first && c == 1) {
          LayerTraffic classical =
              CountLayer(layer, {p, cluster, nullptr}, *dispatch::MakeClassical());
          EXPECT_EQ(t.rows, classical.rows);
        }
        first = false;
      }
    }
  }
}

}  // namespace
}  // namespace epsim::plan
