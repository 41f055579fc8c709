#include "sim/synth/model.h"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "sim/synth/fit.h"
#include "sim/trace/trace_stats.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::synth {
namespace {

using trace::ReadBytes;
using trace::ScopedTempDir;

// A small structured model with every structure switched off; tests switch
// one on at a time and compare.
StructuredModelOptions Plain() {
  StructuredModelOptions o;
  o.model = "test";
  o.num_experts = 32;
  o.num_topk = 4;
  o.layers = {0, 1};
  o.popularity_skew = 0;
  o.group_strength = 0;
  o.sequence_strength = 0;
  o.carry_strength = 0;
  return o;
}

trace::Trace Draw(const StructuredModelOptions& o, uint64_t tokens = 8192, uint64_t seq = 64,
           uint32_t candidates = 0, uint64_t seed = 1) {
  auto m = BuildStructuredModel(o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  auto t = GenerateModelTrace(*m, GenerateOptions{tokens, seq, candidates, seed});
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

TEST(SynthModelTest, TwoThreadsDrawTheSingleStreamTraceBitForBit) {
  // A layer splits at a sequence boundary and its second part skips ahead
  // in the stream: odd expert counts (ceil(E/2) pair draws), one topic or
  // many, sequences or none, a last sequence cut short, carry on.
  struct Case { uint32_t experts, groups; double sequence; uint64_t tokens, seq; };
  for (const Case& c : {Case{65, 5, 0.5, 5000, 700}, Case{64, 1, 0.5, 8192, 1024},
                        Case{33, 4, 0, 9000, 2048}, Case{64, 8, 0.7, 4100, 100}}) {
    StructuredModelOptions o = Plain();
    o.num_experts = c.experts, o.num_groups = c.groups, o.group_strength = c.groups > 1 ? 1.5 : 0;
    o.sequence_strength = c.sequence, o.carry_strength = 1, o.popularity_skew = 0.5;
    o.layers = {0, 1, 2};
    setenv("EPSIM_THREADS", "1", 1);
    const trace::Trace one = Draw(o, c.tokens, c.seq, 8);
    setenv("EPSIM_THREADS", "2", 1);
    const trace::Trace two = Draw(o, c.tokens, c.seq, 8);
    unsetenv("EPSIM_THREADS");
    ASSERT_EQ(one.layers.size(), two.layers.size());
    for (size_t l = 0; l < one.layers.size(); ++l) {
      SCOPED_TRACE(::testing::Message() << "E " << c.experts << " layer " << l);
      EXPECT_EQ(one.layers[l].token_ids, two.layers[l].token_ids);
      EXPECT_EQ(one.layers[l].sequence_ids, two.layers[l].sequence_ids);
      EXPECT_EQ(one.layers[l].topk_idx, two.layers[l].topk_idx);
      EXPECT_EQ(one.layers[l].topk_weights, two.layers[l].topk_weights);
    }
  }
}

TEST(SynthModelTest, SameSeedSameTraceOtherSeedOtherTrace) {
  StructuredModelOptions o = Plain();
  o.popularity_skew = 0.5, o.group_strength = 1, o.sequence_strength = 0.5, o.carry_strength = 1;
  const trace::Trace a = Draw(o, 512), b = Draw(o, 512), c = Draw(o, 512, 64, 0, 2);
  EXPECT_EQ(a.layers[1].topk_idx, b.layers[1].topk_idx);
  EXPECT_EQ(a.layers[1].topk_weights, b.layers[1].topk_weights);
  EXPECT_NE(a.layers[1].topk_idx, c.layers[1].topk_idx);
}

TEST(SynthModelTest, SkewRaisesImbalance) {
  StructuredModelOptions o = Plain();
  const double flat = trace::Imbalance(trace::ComputeTraceStats(Draw(o)).layers[0].load);
  o.popularity_skew = 0.8;
  const double skewed = trace::Imbalance(trace::ComputeTraceStats(Draw(o)).layers[0].load);
  EXPECT_LT(flat, 1.15);
  EXPECT_GT(skewed, flat + 0.4);
}

// Share of co-activated pairs whose experts are in the same group of the
// model's layer 0 (the group topics' boosted experts).
double WithinGroupShare(const trace::Trace& t, const RoutingModel& m) {
  const LayerRoutingModel& l = m.layers[0];
  const uint32_t e = m.num_experts;
  std::vector<int> group(e);
  for (uint32_t z = 0; z < l.num_topics(); ++z)
    for (uint32_t x = 0; x < e; ++x)
      if (l.topic_boost[z * e + x] > 1) group[x] = static_cast<int>(z);
  const trace::TraceStats stats = trace::ComputeTraceStats(t);
  const trace::CountMatrix& c = stats.layers[0].coact;
  double within = 0, all = 0;
  for (uint32_t i = 0; i < e; ++i)
    for (uint32_t j = 0; j < e; ++j)
      if (i != j) all += c.at(i, j), within += group[i] == group[j] ? c.at(i, j) : 0;
  return within / all;
}

TEST(SynthModelTest, GroupsRaiseWithinGroupCoactivation) {
  StructuredModelOptions o = Plain();
  o.num_groups = 4;
  o.group_strength = 0.01;  // the same groups, nearly no pull
  auto weak = BuildStructuredModel(o);
  const double base = WithinGroupShare(Draw(o), *weak);
  o.group_strength = 2;
  const double grouped = WithinGroupShare(Draw(o), *weak);
  EXPECT_NEAR(base, 7.0 / 31, 0.03);  // 7 of the 31 other experts share a group
  EXPECT_GT(grouped, base + 0.2);
}

TEST(SynthModelTest, SequencePreferenceRaisesWithinSequenceSimilarity) {
  StructuredModelOptions o = Plain();
  const double none = SequenceLift(Draw(o).layers[0]);
  o.sequence_strength = 1;
  const double shared = SequenceLift(Draw(o).layers[0]);
  EXPECT_NEAR(none, 1, 0.03);
  EXPECT_GT(shared, 1.3);
}

TEST(SynthModelTest, CarryRaisesAffinityConcentration) {
  StructuredModelOptions o = Plain();
  const double none = trace::AffinityConcentration(trace::ComputeTraceStats(Draw(o)).layers[0].affinity);
  o.carry_strength = 3;
  const double carried = trace::AffinityConcentration(trace::ComputeTraceStats(Draw(o)).layers[0].affinity);
  EXPECT_LT(none, 0.06);
  EXPECT_GT(carried, none + 0.1);
}

TEST(SynthModelTest, CandidateScoresDescendAndStayBelowTheSelected) {
  StructuredModelOptions o = Plain();
  o.popularity_skew = 0.5, o.group_strength = 1, o.carry_strength = 1;
  for (double sharpness : {1.0, 0.3}) {
    o.score_sharpness = sharpness;
    const trace::Trace t = Draw(o, 2000, 64, /*candidates=*/10);
    ASSERT_EQ(t.header.num_candidates(), 10u);
    for (const trace::LayerRouting& l : t.layers)
      for (size_t x = 0; x < l.num_tokens(); ++x) {
        const uint32_t* idx = l.topk(x);
        const float* w = l.weights(x);
        EXPECT_EQ(std::set<uint32_t>(idx, idx + 10).size(), 10u);
        float sum = 0;
        for (uint32_t i = 0; i < 10; ++i) {
          sum += w[i];
          EXPECT_GT(w[i], 0);
          if (i > 0) {
            EXPECT_GE(w[i - 1], w[i]) << "token " << x << " candidate " << i;
          }
        }
        EXPECT_LE(sum, 1.0001f);  // a softmax over all 32 experts
      }
  }
}

TEST(SynthModelTest, SavedModelLoadsAndGeneratesTheSameTrace) {
  StructuredModelOptions o = Plain();
  o.popularity_skew = 0.5, o.group_strength = 1, o.sequence_strength = 0.5, o.carry_strength = 1;
  ScopedTempDir dir;
  auto m = BuildStructuredModel(o);
  ASSERT_TRUE(SaveRoutingModel(*m, dir.Path("m.json")).ok());
  auto loaded = LoadRoutingModel(dir.Path("m.json"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_TRUE(SaveRoutingModel(*loaded, dir.Path("m2.json")).ok());
  EXPECT_EQ(ReadBytes(dir.Path("m.json")), ReadBytes(dir.Path("m2.json")));
  auto a = GenerateModelTrace(*loaded, GenerateOptions{300, 64, 0, 3});
  auto b = GenerateModelTrace(*LoadRoutingModel(dir.Path("m2.json")), GenerateOptions{300, 64, 0, 3});
  EXPECT_EQ(a->layers[1].topk_idx, b->layers[1].topk_idx);
}

TEST(SynthModelTest, BadModelFileIsBadInputNamingTheFile) {
  ScopedTempDir dir;
  const std::string broken = dir.Write("broken.json", "{\"format\": \"epsim-routing-model\", ");
  auto r = LoadRoutingModel(broken);
  EXPECT_EQ(r.status().code(), Status::Code::kBadInput);
  EXPECT_NE(r.status().message().find("broken.json"), std::string::npos);
  const std::string shape = dir.Write(
      "shape.json",
      R"({"format": "epsim-routing-model", "num_experts": 4, "num_topk": 2, "layers": [)"
      R"({"layer": 0, "popularity": [1, 1, 1], "groups": {"expert_group": [0, 0, 1, 1], "strength": 1}}]})");
  r = LoadRoutingModel(shape);
  EXPECT_EQ(r.status().code(), Status::Code::kBadInput);
  EXPECT_NE(r.status().message().find("shape.json"), std::string::npos);
  EXPECT_NE(r.status().message().find("popularity"), std::string::npos);
}

}  // namespace
}  // namespace epsim::synth
