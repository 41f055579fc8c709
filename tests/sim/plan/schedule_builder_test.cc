#include "sim/plan/schedule_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <deque>
#include <set>
#include <tuple>
#include <string>

#include "sim/exec/schedule_check.h"
#include "sim/plan/compute_cost.h"
#include "sim/plan/model.h"
#include "tests/sim/plan/plan_test_util.h"
#include "tests/sim/topology/topology_test_util.h"

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

// The id of the phase of `kind` in `layer` (the first such), -1 and a
// failure when there is none.
int PhaseId(const proto::Schedule& s, proto::PhaseKind kind, uint32_t layer) {
  for (const proto::Phase& p : s.phases())
    if (p.kind() == kind && p.layer() == layer) return static_cast<int>(p.id());
  ADD_FAILURE() << proto::PhaseKind_Name(kind) << " of layer " << layer << " missing";
  return -1;
}

std::vector<uint32_t> DependsOn(const proto::Schedule& s, int id) {
  return std::vector<uint32_t>(s.phases(id).depends_on().begin(), s.phases(id).depends_on().end());
}

// Checks that a train schedule's backward mirrors its forward exactly:
// every forward phase has one backward phase of the matching kind, layer
// and micro-batch (matched in reversed forward order among those of the
// same kind, layer and micro-batch); each depends on the backwards of
// exactly the forward phases that read its forward (the forward's last
// phase when none did); every all-reduce depends on all the attention
// backwards of its layer and nothing depends on it. Returns the number of
// backward all-to-alls the next phase in the list does not wait for (an
// executor walking the list overlaps them).
int ExpectMirroredBackward(const proto::Schedule& s) {
  int forward_end = 0;
  while (forward_end < s.phases_size() &&
         s.phases(forward_end).kind() < proto::ATTENTION_BACKWARD)
    ++forward_end;
  EXPECT_GT(forward_end, 0);
  const std::map<proto::PhaseKind, proto::PhaseKind> mirror = {
      {proto::ATTENTION, proto::ATTENTION_BACKWARD},
      {proto::SHARED_EXPERT, proto::SHARED_EXPERT_BACKWARD},
      {proto::DENSE_FFN, proto::DENSE_FFN_BACKWARD},
      {proto::GATE_PERMUTE, proto::GATE_PERMUTE_BACKWARD},
      {proto::DISPATCH, proto::DISPATCH_BACKWARD},
      {proto::DISPATCH_FORWARD, proto::DISPATCH_BACKWARD},
      {proto::EXPERT, proto::EXPERT_BACKWARD},
      {proto::COMBINE_GATHER, proto::COMBINE_BACKWARD},
      {proto::COMBINE, proto::COMBINE_BACKWARD},
      {proto::UNPERMUTE_REDUCE, proto::UNPERMUTE_REDUCE_BACKWARD}};
  using Key = std::tuple<int, uint32_t, uint32_t>;  // backward kind, layer, micro-batch
  std::map<Key, std::deque<int>> forward_of;
  for (int f = forward_end - 1; f >= 0; --f) {
    const proto::Phase& p = s.phases(f);
    forward_of[{mirror.at(p.kind()), p.layer(), p.micro_batch()}].push_back(f);
  }
  std::vector<int> of(forward_end, -1);  // forward phase -> its backward
  std::map<uint32_t, std::set<uint32_t>> attention_bwd;
  int hidden = 0;
  for (int b = forward_end; b < s.phases_size(); ++b) {
    const proto::Phase& p = s.phases(b);
    for (uint32_t dep : p.depends_on()) EXPECT_LT(dep, static_cast<uint32_t>(b));
    if (p.phase_class() == proto::ALL_TO_ALL && b + 1 < s.phases_size()) {
      const auto& next = s.phases(b + 1).depends_on();
      if (std::find(next.begin(), next.end(), static_cast<uint32_t>(b)) == next.end()) ++hidden;
    }
    if (p.kind() == proto::GRADIENT_ALLREDUCE) {
      const std::set<uint32_t> deps(p.depends_on().begin(), p.depends_on().end());
      EXPECT_EQ(deps, attention_bwd[p.layer()]) << "all-reduce " << b;
      for (int later = b + 1; later < s.phases_size(); ++later)
        for (uint32_t dep : s.phases(later).depends_on()) EXPECT_NE(dep, static_cast<uint32_t>(b));
      continue;
    }
    std::deque<int>& queue = forward_of[{p.kind(), p.layer(), p.micro_batch()}];
    EXPECT_FALSE(queue.empty()) << "backward phase " << b << " mirrors no forward phase";
    if (queue.empty()) return hidden;
    of[queue.front()] = b;
    queue.pop_front();
    if (p.kind() == proto::ATTENTION_BACKWARD) attention_bwd[p.layer()].insert(b);
  }
  for (int q = 0; q < forward_end; ++q) {
    EXPECT_GE(of[q], 0) << "forward phase " << q << " has no backward";
    if (of[q] < 0) return hidden;
  }
  for (int q = 0; q < forward_end; ++q) {
    std::set<uint32_t> want;
    for (int r = 0; r < forward_end; ++r)
      for (uint32_t dep : s.phases(r).depends_on())
        if (dep == static_cast<uint32_t>(q)) want.insert(static_cast<uint32_t>(of[r]));
    if (want.empty()) want.insert(static_cast<uint32_t>(forward_end - 1));
    const proto::Phase& b = s.phases(of[q]);
    EXPECT_EQ(std::set<uint32_t>(b.depends_on().begin(), b.depends_on().end()), want) << of[q];
  }
  return hidden;
}

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

// Decode attention against the formula, on the hand model (H 8, 2 heads of
// 4, 2 KV heads, 2 bytes): 2 tokens with KV caches adding up to 20 tokens.
// Projections 8 x 4 x (2 + 2) x 2 = 256 weights; FLOPs 2 x 2 x 256 + core
// 2 x 20 x 2 heads x (4 + 4) = 1024 + 640; bytes: weights and 6 activations
// per token, 2 x (256 + 2 x 8 x 6) = 704, plus the cache, 32 B per token
// (K and V of 2 heads of 4, 2 bytes) read for the 20 and written for the 2.
TEST(ScheduleBuilderTest, DecodeAttentionCostsWhatTheFormulaSays) {
  const proto::Model m = HandModel();
  EXPECT_DOUBLE_EQ(KvCacheBytesPerToken(m), 32);
  const proto::Kernel k = DecodeAttentionKernel(m, 2, 20);
  EXPECT_DOUBLE_EQ(k.flops(), 1024 + 640);
  EXPECT_DOUBLE_EQ(k.bytes(), 704 + 32 * 22);
  EXPECT_DOUBLE_EQ(AttentionKernel(m, 2, 20).bytes(), 704);  // prefill reads no cache
}

// A trace with two forward steps (tokens 0,1 then 2,3, each a sequence of
// its own) replayed as decode: one MoE block per step and layer, each
// rank's one token attending to context + step + 1 cached tokens.
TEST(ScheduleBuilderTest, DecodeReplaysEachStepWithItsKvCache) {
  trace::Trace t = testing::HandTrace({1});
  trace::LayerRouting& layer = t.layers[0];
  trace::LayerRouting stepped;
  stepped.layer = layer.layer;
  stepped.num_topk = stepped.num_candidates = 2;
  for (size_t row = 0; row < 4; ++row) {
    stepped.BeginStep(row / 2);
    stepped.Append(row, row % 2, layer.topk(row), layer.weights(row));
  }
  layer = stepped;
  const proto::Model m = HandModel();
  auto s = BuildSchedule({t, m, kTwoRanks, *dispatch::MakeDedup(), kOneNode, nullptr,
                          Overlap::kNone, Pass::kDecode, 100});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->pass(), "decode");
  ASSERT_EQ(s->phases_size(), 12);  // 2 steps x 6 phases
  for (int step = 0; step < 2; ++step) {
    const proto::Phase& attention = s->phases(6 * step);
    ASSERT_EQ(attention.kind(), proto::ATTENTION);
    const proto::Kernel want = DecodeAttentionKernel(m, 1, 100.0 + step + 1);
    EXPECT_EQ(attention.work(0).kernels(0).name(), "decode_attention");
    EXPECT_DOUBLE_EQ(attention.work(0).kernels(0).bytes(), want.bytes()) << "step " << step;
    EXPECT_DOUBLE_EQ(attention.work(1).kernels(0).flops(), want.flops()) << "step " << step;
    EXPECT_EQ(s->phases(6 * step + 3).kind(), proto::EXPERT);
  }
  // Each step's two tokens split one per rank. Step 0: token 0 [0,1] stays
  // on rank 0; token 1 [0,2] on rank 1 sends one row to rank 0 (expert 0).
  // Step 1: token 2 [2,3] on rank 0 sends one row to rank 1, token 3 [0,1]
  // on rank 1 one row to rank 0.
  EXPECT_EQ(s->phases(2).send_rows(1), 0u);
  EXPECT_EQ(s->phases(2).send_rows(2), 1u);
  EXPECT_EQ(s->phases(8).send_rows(1), 1u);
  EXPECT_EQ(s->phases(8).send_rows(2), 1u);
  // The same trace as prefill is one block; a KV cache there contradicts it.
  auto prefill = BuildSchedule({t, m, kTwoRanks, *dispatch::MakeDedup(), kOneNode});
  ASSERT_TRUE(prefill.ok());
  EXPECT_EQ(prefill->phases_size(), 6);
  auto bad = BuildSchedule({t, m, kTwoRanks, *dispatch::MakeDedup(), kOneNode, nullptr,
                            Overlap::kNone, Pass::kPrefill, 100});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kUsage);
  EXPECT_NE(bad.status().message().find("--pass decode"), std::string::npos);
}

// Shared-expert overlap: the shared expert comes after the dispatch and
// waits for the gate only; the routed experts wait for the dispatch and the
// shared expert.
TEST(ScheduleBuilderTest, SharedExpertOverlapRunsItUnderTheDispatch) {
  proto::Model m = HandModel();
  m.set_num_shared_experts(1);
  m.set_shared_intermediate(16);
  auto s = BuildSchedule({testing::HandTrace({1}), m, kTwoRanks, *dispatch::MakeDedup(), kOneNode,
                          nullptr, Overlap::kSharedExpert});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<proto::PhaseKind> kinds;
  for (const proto::Phase& p : s->phases()) kinds.push_back(p.kind());
  EXPECT_EQ(kinds, (std::vector<proto::PhaseKind>{proto::ATTENTION, proto::GATE_PERMUTE,
                                                  proto::DISPATCH, proto::SHARED_EXPERT,
                                                  proto::EXPERT, proto::COMBINE,
                                                  proto::UNPERMUTE_REDUCE}));
  EXPECT_EQ(std::vector<uint32_t>(s->phases(3).depends_on().begin(), s->phases(3).depends_on().end()),
            (std::vector<uint32_t>{1}));
  EXPECT_EQ(std::vector<uint32_t>(s->phases(4).depends_on().begin(), s->phases(4).depends_on().end()),
            (std::vector<uint32_t>{2, 3}));
  // Without overlap the shared expert sits before the gate, in the chain.
  auto plain = BuildSchedule({testing::HandTrace({1}), m, kTwoRanks, *dispatch::MakeDedup(),
                              kOneNode});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->phases(1).kind(), proto::SHARED_EXPERT);
  EXPECT_EQ(plain->phases(2).depends_on(0), 1u);
}

// ScMoE's rule by hand: compute {10, 1, 20} in the window, dispatch 12,
// combine 19: K = 2 leaves 11 under the dispatch and 20 under the combine
// (|11 - 12| + |20 - 19| = 2; K = 1 costs 4, K = 0 24, K = 3 38).
TEST(ScheduleBuilderTest, ShortcutPlacesTheExpertsWhereBothWindowsBalance) {
  EXPECT_EQ(ShortcutExpertPlace(0, {10, 1, 20}, 12, 19), 2u);
  // Compute already under the dispatch before the window (15 of 12): the
  // experts go first (cost 3 + 2 against 13 + 8 after).
  EXPECT_EQ(ShortcutExpertPlace(15, {10}, 12, 8), 0u);
  // A long dispatch, no combine: as late as possible.
  EXPECT_EQ(ShortcutExpertPlace(0, {5, 5}, 100, 0), 2u);
  // No communication: every place costs the same; the first.
  EXPECT_EQ(ShortcutExpertPlace(0, {5, 5}, 0, 0), 0u);
  EXPECT_EQ(ShortcutExpertPlace(3, {}, 1, 1), 0u);
}

// The shortcut plan on three MoE blocks: block j's gate and dispatch come
// right after block j-1's attention (block 0 has no earlier block: its own
// gate and dispatch, then block 1's, follow its attention); each
// compute phase waits for the compute phase before it, each all-to-all for
// the one before it and for what feeds it; experts wait for their dispatch,
// the reduce for its combine.
TEST(ScheduleBuilderTest, ShortcutIssuesEachDispatchAfterThePreviousBlocksAttention) {
  proto::Model m = HandModel();
  m.set_num_shared_experts(1);
  m.set_shared_intermediate(16);
  const proto::Topology topo = epsim::testing::Star(2, 10, 1);
  auto s = BuildSchedule({testing::HandTrace({0, 1, 2}), m, kTwoRanks, *dispatch::MakeDedup(),
                          kOneNode, nullptr, Overlap::kShortcut, Pass::kPrefill, 0, false, &topo});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const auto index = [&](proto::PhaseKind kind, uint32_t layer) { return PhaseId(*s, kind, layer); };
  const auto deps = [&](int p) { return DependsOn(*s, p); };
  EXPECT_EQ(s->phases_size(), 3 * 7);
  EXPECT_EQ(index(proto::GATE_PERMUTE, 0), index(proto::ATTENTION, 0) + 1);
  EXPECT_EQ(index(proto::GATE_PERMUTE, 1), index(proto::DISPATCH, 0) + 1);
  EXPECT_EQ(index(proto::GATE_PERMUTE, 2), index(proto::ATTENTION, 1) + 1);
  for (uint32_t l = 1; l < 3; ++l) {
    EXPECT_EQ(index(proto::DISPATCH, l), index(proto::GATE_PERMUTE, l) + 1) << l;
    EXPECT_LT(index(proto::DISPATCH, l), index(proto::ATTENTION, l)) << l;
  }
  int prev_compute = -1, prev_comm = -1;
  for (const proto::Phase& p : s->phases()) {
    const int id = static_cast<int>(p.id());
    const std::vector<uint32_t> d = deps(id);
    const auto has = [&](int dep) {
      return dep < 0 || std::find(d.begin(), d.end(), static_cast<uint32_t>(dep)) != d.end();
    };
    if (p.phase_class() == proto::ALL_TO_ALL) {
      EXPECT_TRUE(has(prev_comm)) << id;
      const int feeder = p.kind() == proto::DISPATCH ? index(proto::GATE_PERMUTE, p.layer())
                                                     : index(proto::EXPERT, p.layer());
      EXPECT_TRUE(has(feeder)) << id;
      prev_comm = id;
    } else {
      EXPECT_TRUE(has(prev_compute)) << id;
      if (p.kind() == proto::EXPERT) {
        EXPECT_TRUE(has(index(proto::DISPATCH, p.layer()))) << id;
      }
      if (p.kind() == proto::UNPERMUTE_REDUCE) {
        EXPECT_TRUE(has(index(proto::COMBINE, p.layer()))) << id;
      }
      prev_compute = id;
    }
  }
  EXPECT_TRUE(exec::HasOverlap(*s));
  EXPECT_TRUE(exec::LayersInterleave(*s));
  // Without the topology there is nothing to estimate with.
  EXPECT_EQ(BuildSchedule({testing::HandTrace({0, 1}), m, kTwoRanks, *dispatch::MakeDedup(),
                           kOneNode, nullptr, Overlap::kShortcut})
                .status()
                .code(),
            Status::Code::kInternal);
  // Train: the backward mirrors the shortcut, so block 0's gradient
  // all-to-alls overlap block 1's backward compute as its forward ones did.
  auto train = BuildSchedule({testing::HandTrace({0, 1}), m, kTwoRanks, *dispatch::MakeDedup(),
                              kOneNode, nullptr, Overlap::kShortcut, Pass::kTrain, 0, false, &topo});
  ASSERT_TRUE(train.ok()) << train.status().ToString();
  EXPECT_GT(ExpectMirroredBackward(*train), 0);
}

// A model with dense blocks first: under the shortcut the first MoE block
// reads the last dense block's post-attention output, so its gate and
// dispatch come right after the dense attention and the dispatch runs under
// the dense MLP and the block's own attention; earlier dense blocks stay
// chained. Without dense blocks the first MoE block has no shortcut (above).
TEST(ScheduleBuilderTest, ShortcutOfTheFirstMoeBlockStartsAtTheDenseBlockBeforeIt) {
  for (uint32_t dense : {1u, 2u}) {
    SCOPED_TRACE(::testing::Message() << dense << " dense blocks");
    proto::Model m = HandModel(dense);
    m.set_num_layers(dense + 2);
    m.set_num_shared_experts(1);
    m.set_shared_intermediate(16);
    ASSERT_TRUE(ValidateModel(&m).ok());
    const proto::Topology topo = epsim::testing::Star(2, 10, 1);
    auto s = BuildSchedule({testing::HandTrace({dense, dense + 1}), m, kTwoRanks,
                            *dispatch::MakeDedup(), kOneNode, nullptr, Overlap::kShortcut,
                            Pass::kPrefill, 0, false, &topo});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    const auto index = [&](proto::PhaseKind kind, uint32_t layer) {
      return PhaseId(*s, kind, layer);
    };
    const auto deps = [&](int p) { return DependsOn(*s, p); };
    const uint32_t last_dense = dense - 1, first_moe = dense;
    EXPECT_EQ(s->phases_size(), static_cast<int>(2 * dense + 2 * 7));
    if (dense == 2) {  // block 0 chained as without the shortcut
      EXPECT_EQ(index(proto::ATTENTION, 0), 0);
      EXPECT_EQ(index(proto::DENSE_FFN, 0), 1);
    }
    const int attention = index(proto::ATTENTION, last_dense);
    const int gate = index(proto::GATE_PERMUTE, first_moe);
    const int dispatch = index(proto::DISPATCH, first_moe);
    const int ffn = index(proto::DENSE_FFN, last_dense);
    const int own_attention = index(proto::ATTENTION, first_moe);
    EXPECT_EQ(gate, attention + 1);
    EXPECT_EQ(dispatch, gate + 1);
    EXPECT_EQ(ffn, dispatch + 1);
    EXPECT_GT(own_attention, ffn);  // the experts may go between them (ScMoE's rule)
    EXPECT_EQ(deps(gate), std::vector<uint32_t>{static_cast<uint32_t>(attention)});
    EXPECT_EQ(deps(dispatch), std::vector<uint32_t>{static_cast<uint32_t>(gate)});
    // The dense MLP follows the gate on the compute stream, not the dispatch.
    EXPECT_EQ(deps(ffn), std::vector<uint32_t>{static_cast<uint32_t>(gate)});
    // The next block's gate follows the first MoE block's attention, and
    // the experts wait for their dispatch.
    EXPECT_EQ(index(proto::GATE_PERMUTE, first_moe + 1), own_attention + 1);
    const std::vector<uint32_t> expert_deps = deps(index(proto::EXPERT, first_moe));
    EXPECT_NE(std::find(expert_deps.begin(), expert_deps.end(), static_cast<uint32_t>(dispatch)),
              expert_deps.end());
    const Status valid = exec::ValidateSchedule(*s, 2);
    EXPECT_TRUE(valid.ok()) << valid.ToString();
  }
}

// Two micro-batches on two MoE blocks of the hand trace (4 tokens: 2 and
// 2): the software pipeline's order on the compute stream, each
// micro-batch's all-to-alls fed by its own gate and experts, and the
// micro-batches' token counts adding up to the block's.
TEST(ScheduleBuilderTest, MicroBatchesPipelineOneAllToAllUnderTheOthersCompute) {
  const proto::Model m = HandModel();
  auto s = BuildSchedule({testing::HandTrace({0, 1}), m, kTwoRanks, *dispatch::MakeDedup(),
                          kOneNode, nullptr, Overlap::kMicroBatches});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<std::string> order;
  for (const proto::Phase& p : s->phases())
    order.push_back(proto::PhaseKind_Name(p.kind()) + " " + std::to_string(p.layer()) + "." +
                    std::to_string(p.micro_batch()));
  EXPECT_EQ(order, (std::vector<std::string>{
                       "ATTENTION 0.0", "GATE_PERMUTE 0.0", "DISPATCH 0.0",
                       "ATTENTION 0.1", "GATE_PERMUTE 0.1", "DISPATCH 0.1",
                       "EXPERT 0.0", "COMBINE 0.0", "EXPERT 0.1", "COMBINE 0.1",
                       "UNPERMUTE_REDUCE 0.0", "ATTENTION 1.0", "GATE_PERMUTE 1.0", "DISPATCH 1.0",
                       "UNPERMUTE_REDUCE 0.1", "ATTENTION 1.1", "GATE_PERMUTE 1.1", "DISPATCH 1.1",
                       "EXPERT 1.0", "COMBINE 1.0", "EXPERT 1.1", "COMBINE 1.1",
                       "UNPERMUTE_REDUCE 1.0", "UNPERMUTE_REDUCE 1.1"}));
  const auto deps = [&](int p) {
    return std::vector<uint32_t>(s->phases(p).depends_on().begin(), s->phases(p).depends_on().end());
  };
  EXPECT_EQ(deps(3), (std::vector<uint32_t>{1}));     // attention 0.1 after gate 0.0 (compute)
  EXPECT_EQ(deps(5), (std::vector<uint32_t>{2, 4}));  // dispatch 0.1: dispatch 0.0, gate 0.1
  EXPECT_EQ(deps(6), (std::vector<uint32_t>{2, 4}));  // experts 0.0: its dispatch, the compute before
  EXPECT_EQ(deps(10), (std::vector<uint32_t>{7, 8}));  // reduce 0.0: its combine, experts 0.1
  EXPECT_EQ(deps(14), (std::vector<uint32_t>{9, 12}));  // reduce 0.1 waits for its combine
  // The halves' tokens per rank add up to the whole block's.
  auto whole = BuildSchedule({testing::HandTrace({0, 1}), m, kTwoRanks, *dispatch::MakeDedup(),
                              kOneNode});
  ASSERT_TRUE(whole.ok());
  for (uint32_t r = 0; r < 2; ++r) {
    uint64_t halves = 0;
    for (int p : {6, 8})
      for (uint64_t n : s->phases(p).work(r).tokens_per_expert()) halves += n;
    uint64_t all = 0;
    for (uint64_t n : whole->phases(3).work(r).tokens_per_expert()) all += n;
    EXPECT_EQ(halves, all) << r;
  }
  EXPECT_EQ(s->routing().num_tokens(), whole->routing().num_tokens());
  // Train: the two micro-batches' backwards pipeline the same way, and each
  // block's gradient all-reduce waits for both halves' attention backward.
  auto train = BuildSchedule({testing::HandTrace({0, 1}), m, kTwoRanks, *dispatch::MakeDedup(),
                              kOneNode, nullptr, Overlap::kMicroBatches, Pass::kTrain});
  ASSERT_TRUE(train.ok()) << train.status().ToString();
  EXPECT_GT(ExpectMirroredBackward(*train), 0);
  int allreduces = 0;
  for (const proto::Phase& p : train->phases())
    if (p.kind() == proto::GRADIENT_ALLREDUCE) {
      ++allreduces;
      EXPECT_EQ(p.depends_on_size(), 2) << p.id();
    }
  EXPECT_EQ(allreduces, 2);  // one per block
}

// Train = the forward pass, then its mirror: on the hand trace (one MoE
// block, 2 ranks, dedup) 6 forward phases and 7 backward ones, each
// all-to-all moving its forward mirror's rows back, gradients costing twice
// the forward, and the gradient all-reduce of the replicated weights
// (attention 256 + router 8 x 4 = 288 elements, 2 bytes): each rank sends
// 2 (2 - 1) / 2 x 288 x 2 = 576 bytes to the other.
TEST(ScheduleBuilderTest, TrainIsForwardThenItsMirroredBackward) {
  const proto::Model m = HandModel();
  const trace::Trace t = testing::HandTrace({1});
  auto s = BuildSchedule({t, m, kTwoRanks, *dispatch::MakeDedup(), kOneNode, nullptr,
                          Overlap::kNone, Pass::kTrain});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->pass(), "train");
  std::vector<proto::PhaseKind> kinds;
  for (const proto::Phase& p : s->phases()) kinds.push_back(p.kind());
  EXPECT_EQ(kinds, (std::vector<proto::PhaseKind>{
                       proto::ATTENTION, proto::GATE_PERMUTE, proto::DISPATCH, proto::EXPERT,
                       proto::COMBINE, proto::UNPERMUTE_REDUCE, proto::UNPERMUTE_REDUCE_BACKWARD,
                       proto::COMBINE_BACKWARD, proto::EXPERT_BACKWARD, proto::DISPATCH_BACKWARD,
                       proto::GATE_PERMUTE_BACKWARD, proto::ATTENTION_BACKWARD,
                       proto::GRADIENT_ALLREDUCE}));
  const auto rows = [&](int p) {
    return std::vector<uint64_t>(s->phases(p).send_rows().begin(), s->phases(p).send_rows().end());
  };
  EXPECT_EQ(rows(7), rows(2));  // the combine's gradient goes where the dispatch went
  EXPECT_EQ(rows(9), rows(4));  // the dispatch's gradient comes back as the combine did
  for (uint32_t r = 0; r < 2; ++r) {
    EXPECT_DOUBLE_EQ(s->phases(8).work(r).kernels(0).flops(),
                     2 * s->phases(3).work(r).kernels(0).flops());
    EXPECT_DOUBLE_EQ(s->phases(11).work(r).kernels(0).flops(),
                     2 * s->phases(0).work(r).kernels(0).flops());
  }
  EXPECT_EQ(std::vector<uint64_t>(s->phases(12).send_bytes().begin(),
                                  s->phases(12).send_bytes().end()),
            (std::vector<uint64_t>{0, 576, 576, 0}));
  EXPECT_EQ(s->phases(12).depends_on(0), 11u);
  // Chained: every all-to-all is waited for by the phase after it (the
  // all-reduce is the last phase).
  EXPECT_EQ(ExpectMirroredBackward(*s), 0);
  // With recomputation the forward kernels run again first.
  auto re = BuildSchedule({t, m, kTwoRanks, *dispatch::MakeDedup(), kOneNode, nullptr,
                           Overlap::kNone, Pass::kTrain, 0, true});
  ASSERT_TRUE(re.ok());
  EXPECT_EQ(re->phases(8).work(0).kernels(0).flops(), s->phases(3).work(0).kernels(0).flops());
  EXPECT_EQ(re->phases(8).work(0).kernels_size(), 2 * s->phases(3).work(0).kernels_size());
  auto bad = BuildSchedule({t, m, kTwoRanks, *dispatch::MakeDedup(), kOneNode, nullptr,
                            Overlap::kNone, Pass::kPrefill, 0, true});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--pass train"), std::string::npos);
}

// Two MoE blocks: the first block's backward (second in the backward pass)
// does not wait for the second block's gradient all-reduce, which runs
// under it; the pass ends with the last all-reduce.
TEST(ScheduleBuilderTest, TrainGradientAllReduceRunsUnderTheNextBackward) {
  auto s = BuildSchedule({testing::HandTrace({1, 2}), HandModel(), kTwoRanks,
                          *dispatch::MakeDedup(), kOneNode, nullptr, Overlap::kNone,
                          Pass::kTrain});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->phases_size(), 12 + 14);
  const proto::Phase& allreduce = s->phases(24 - 6 + 0);  // block 2's: backward phases 12..18
  ASSERT_EQ(allreduce.kind(), proto::GRADIENT_ALLREDUCE);
  EXPECT_EQ(allreduce.layer(), 2u);
  const proto::Phase& next = s->phases(19);
  EXPECT_EQ(next.kind(), proto::UNPERMUTE_REDUCE_BACKWARD);
  EXPECT_EQ(next.layer(), 1u);
  EXPECT_EQ(std::vector<uint32_t>(next.depends_on().begin(), next.depends_on().end()),
            (std::vector<uint32_t>{17}));  // block 2's attention backward, not the all-reduce
}

// The shared expert under the dispatch: in the backward its gradient runs
// under the dispatch's gradient all-to-all (the mirror of the forward).
TEST(ScheduleBuilderTest, TrainSharedExpertOverlapIsMirrored) {
  proto::Model m = HandModel();
  m.set_num_shared_experts(1);
  m.set_shared_intermediate(8);
  ASSERT_TRUE(ValidateModel(&m).ok());
  auto s = BuildSchedule({testing::HandTrace({1, 2}), m, kTwoRanks, *dispatch::MakeDedup(),
                          kOneNode, nullptr, Overlap::kSharedExpert, Pass::kTrain});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // Each block's dispatch gradient, and block 2's all-reduce under block 1.
  EXPECT_EQ(ExpectMirroredBackward(*s), 3);
  const int shared_bwd = PhaseId(*s, proto::SHARED_EXPERT_BACKWARD, 2);
  const int dispatch_bwd = PhaseId(*s, proto::DISPATCH_BACKWARD, 2);
  EXPECT_EQ(shared_bwd, dispatch_bwd + 1);
  EXPECT_EQ(DependsOn(*s, shared_bwd), (std::vector<uint32_t>{
                                           static_cast<uint32_t>(PhaseId(*s, proto::EXPERT_BACKWARD, 2))}));
}

TEST(ModelTest, ValidateRejectsSizesBeyondAnyModel) {
  // hidden x dispatch_bytes x tokens would wrap 64 bits; each size is
  // refused by name before any product is formed.
  for (const auto& [set, words] :
       {std::pair<void (*)(proto::Model*), const char*>{
            [](proto::Model* m) { m->set_hidden(4000000000u); }, "hidden 4000000000 is above"},
        {[](proto::Model* m) { m->set_dispatch_bytes(1u << 30); }, "dispatch_bytes"},
        {[](proto::Model* m) { m->set_num_experts(100000); }, "num_experts 100000 is above 8192"},
        {[](proto::Model* m) { m->set_moe_intermediate(1u << 31); }, "moe_intermediate"}}) {
    proto::Model m = HandModel();
    set(&m);
    const Status st = ValidateModel(&m);
    EXPECT_EQ(st.code(), Status::Code::kBadInput) << words;
    EXPECT_NE(st.message().find(words), std::string::npos) << st.message();
  }
}

TEST(ModelTest, ValidateRejectsTopkAboveExperts) {
  proto::Model m = HandModel();
  m.set_num_topk(5);
  EXPECT_EQ(ValidateModel(&m).code(), Status::Code::kBadInput);
}

}  // namespace
}  // namespace epsim::plan
