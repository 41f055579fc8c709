#include "sim/plan/schedule_builder.h"

#include <gtest/gtest.h>

#include "sim/plan/model.h"
#include "tests/sim/plan/plan_test_util.h"

namespace epsim::plan {
namespace {

proto::Model HandModel(uint32_t dense_layers = 0) {
  proto::Model m;
  m.set_name("hand");
  m.set_num_layers(3);
  m.set_hidden(8);
  m.set_num_heads(2);
  m.set_num_kv_heads(2);
  m.set_num_experts(4);
  m.set_num_topk(2);
  m.set_moe_intermediate(16);
  m.set_activation_bytes(2);
  m.set_num_dense_layers(dense_layers);
  m.set_dense_intermediate(32);
  EXPECT_TRUE(ValidateModel(&m).ok());
  return m;
}

const placement::LayerPlacements kTwoRanks(*placement::Contiguous(4, 2));
const dispatch::ClusterMap kOneNode = dispatch::ClusterMap::SingleHost(2);

Result<proto::Schedule> Build(const trace::Trace& trace, const proto::Model& model,
                              const dispatch::Strategy& strategy) {
  return BuildSchedule({trace, model, kTwoRanks, strategy, kOneNode});
}

TEST(ScheduleBuilderTest, DispatchBytesAreRowsTimesHiddenTimesBytes) {
  auto s = Build(testing::HandTrace({1}), HandModel(), *dispatch::MakeClassical());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->phases_size(), 6);  // attention, gate, dispatch, expert, combine, reduce
  const proto::Phase& dispatch = s->phases(2);
  EXPECT_EQ(dispatch.kind(), proto::DISPATCH);
  // Rows [src][dst] off-diagonal: 0->1 one row, 1->0 two rows; 8 x 2 bytes each.
  EXPECT_EQ(std::vector<uint64_t>(dispatch.send_bytes().begin(), dispatch.send_bytes().end()),
            (std::vector<uint64_t>{0, 16, 32, 0}));
  const proto::Phase& combine = s->phases(4);
  EXPECT_EQ(std::vector<uint64_t>(combine.send_rows().begin(), combine.send_rows().end()),
            (std::vector<uint64_t>{0, 2, 1, 0}));
  EXPECT_EQ(s->phases(3).depends_on(0), 2u);
}

TEST(ScheduleBuilderTest, ExpertPhaseCarriesTokensPerExpertAndGemmFlops) {
  auto s = Build(testing::HandTrace({1}), HandModel(), *dispatch::MakeDedup());
  ASSERT_TRUE(s.ok());
  const proto::RankWork& rank0 = s->phases(3).work(0);
  EXPECT_EQ(rank0.expert_ids_size(), 2);
  EXPECT_EQ(rank0.tokens_per_expert(0), 3u);
  EXPECT_EQ(rank0.tokens_per_expert(1), 2u);
  // Expert 0: 3 tokens x 6 x H 8 x F 16 FLOPs; then the stage-1 reduce.
  EXPECT_DOUBLE_EQ(rank0.kernels(0).flops(), 3 * 6 * 8 * 16);
  EXPECT_EQ(rank0.kernels(2).name(), "stage1_reduce");
}

TEST(ScheduleBuilderTest, ClassicalPacksEveryExpertOutputRowForTheCombine) {
  auto s = Build(testing::HandTrace({1}), HandModel(), *dispatch::MakeClassical());
  ASSERT_TRUE(s.ok());
  const proto::RankWork& rank0 = s->phases(3).work(0);
  uint64_t rows = 0;
  for (uint64_t t : rank0.tokens_per_expert()) rows += t;
  ASSERT_EQ(rank0.kernels_size(), 3);  // two experts, then the pack
  const proto::Kernel& pack = rank0.kernels(2);
  EXPECT_EQ(pack.name(), "combine_pack");
  EXPECT_EQ(pack.op(), proto::COPY_ROWS);
  EXPECT_EQ(pack.rows(), rows);
  EXPECT_EQ(rows, 5u);
}

// The hand trace under dedup: C_T 5/4, rows 2/4 per token, 16 B rows,
// device loads 5 and 3 (max/mean 1.25), nothing rerouted.
TEST(ScheduleBuilderTest, RoutingSummaryOfTheHandTrace) {
  auto s = Build(testing::HandTrace({1}), HandModel(), *dispatch::MakeDedup());
  ASSERT_TRUE(s.ok());
  const proto::RoutingSummary& r = s->routing();
  EXPECT_EQ(r.num_tokens(), 4u);
  EXPECT_DOUBLE_EQ(r.devices_per_token(), 1.25);
  EXPECT_DOUBLE_EQ(r.nodes_per_token(), 1.0);
  EXPECT_DOUBLE_EQ(r.rows_per_token(), 0.5);
  EXPECT_DOUBLE_EQ(r.bytes_per_token(), 8.0);
  EXPECT_DOUBLE_EQ(r.topk_changed(), 0.0);
  EXPECT_DOUBLE_EQ(r.weight_kept(), 1.0);
  EXPECT_DOUBLE_EQ(r.device_imbalance(), 1.25);
}

// 4 experts on 3 ranks (contiguous: {0, 1}, {2}, {3}); tokens 0 | 1 | 2, 3
// by TokenSplit. Classical rows: token 1 (src 1) sends expert 0 to rank 0,
// token 2 (src 2) expert 2 to rank 1, token 3 (src 2) experts 0, 1 to rank 0.
TEST(ScheduleBuilderTest, UnevenPlacementPlansEachRanksOwnExperts) {
  const placement::LayerPlacements three(*placement::Contiguous(4, 3));
  auto s = BuildSchedule({testing::HandTrace({1}), HandModel(), three, *dispatch::MakeClassical(),
                          dispatch::ClusterMap::SingleHost(3)});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const proto::Phase& dispatch = s->phases(2);
  EXPECT_EQ(std::vector<uint64_t>(dispatch.send_rows().begin(), dispatch.send_rows().end()),
            (std::vector<uint64_t>{0, 0, 0, 1, 0, 0, 2, 1, 0}));
  const proto::Phase& expert = s->phases(3);
  ASSERT_EQ(expert.work_size(), 3);
  const std::vector<std::vector<uint32_t>> ids = {{0, 1}, {2}, {3}};
  const std::vector<std::vector<uint64_t>> tokens = {{3, 2}, {2}, {1}};
  for (int r = 0; r < 3; ++r) {
    const proto::RankWork& w = expert.work(r);
    EXPECT_EQ(std::vector<uint32_t>(w.expert_ids().begin(), w.expert_ids().end()), ids[r]);
    EXPECT_EQ(std::vector<uint64_t>(w.tokens_per_expert().begin(), w.tokens_per_expert().end()),
              tokens[r]);
  }
  // Device loads 5, 2, 1: max / mean = 5 / (8 / 3).
  EXPECT_DOUBLE_EQ(s->routing().device_imbalance(), 15.0 / 8);
}

TEST(ScheduleBuilderTest, DenseBlocksComeFirst) {
  auto s = Build(testing::HandTrace({1, 2}), HandModel(1), *dispatch::MakeDedup());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->phases(0).kind(), proto::ATTENTION);
  EXPECT_EQ(s->phases(1).kind(), proto::DENSE_FFN);
  EXPECT_EQ(s->phases(1).layer(), 0u);
  EXPECT_EQ(s->phases_size(), 2 + 6 * 2);
}

TEST(ScheduleBuilderTest, RejectsContradictingTraceAndModel) {
  proto::Model m = HandModel();
  m.set_num_topk(1);
  auto s = Build(testing::HandTrace({1}), m, *dispatch::MakeDedup());
  EXPECT_EQ(s.status().code(), Status::Code::kBadInput);
  EXPECT_NE(s.status().message().find("top-2"), std::string::npos);
  auto outside = Build(testing::HandTrace({5}), HandModel(), *dispatch::MakeDedup());
  EXPECT_NE(outside.status().message().find("trace layer 5"), std::string::npos);
  auto dense = Build(testing::HandTrace({0}), HandModel(1), *dispatch::MakeDedup());
  EXPECT_EQ(dense.status().code(), Status::Code::kBadInput);
}

TEST(ModelTest, ValidateRejectsTopkAboveExperts) {
  proto::Model m = HandModel();
  m.set_num_topk(5);
  EXPECT_EQ(ValidateModel(&m).code(), Status::Code::kBadInput);
}

}  // namespace
}  // namespace epsim::plan
