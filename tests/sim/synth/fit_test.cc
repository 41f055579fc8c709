#include "sim/synth/fit.h"

#include <gtest/gtest.h>

#include "sim/synth/random.h"
#include "sim/trace/trace_stats.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::synth {
namespace {

using trace::ReadBytes;
using trace::ScopedTempDir;

// A hand-made skewed trace, drawn without the model: expert e is picked with
// weight (e + 1)^2 (top-2 of 8 by sequential draws without replacement), and
// every token also takes expert e ^ 1 with its first pick half the time: a
// known co-activation structure (pairs {0,1}, {2,3}, ...).
trace::Trace SkewedTrace(uint64_t tokens) {
  trace::Trace t;
  t.header.set_version(1);
  t.header.set_num_experts(8);
  t.header.set_num_topk(2);
  t.header.set_num_candidates(2);
  t.header.set_num_layers(1);
  t.header.add_layers()->set_layer(0);
  trace::LayerRouting& l = t.layers.emplace_back();
  l.num_topk = l.num_candidates = 2;
  UniformSource rng(5);
  double total = 0;
  for (int e = 0; e < 8; ++e) total += (e + 1) * (e + 1);
  for (uint64_t x = 0; x < tokens; ++x) {
    uint32_t idx[2];
    double u = rng.Next() * total;
    idx[0] = 0;
    while (u >= (idx[0] + 1) * (idx[0] + 1)) u -= (idx[0] + 1) * (idx[0] + 1), ++idx[0];
    if (rng.Next() < 0.5) {
      idx[1] = idx[0] ^ 1;
    } else {
      do idx[1] = rng.Below(8); while (idx[1] == idx[0]);
    }
    const float w[2] = {0.6f, 0.4f};
    l.Append(x, 0, idx, w);
  }
  t.header.mutable_layers(0)->set_num_tokens(tokens);
  return t;
}

TEST(SynthFitTest, FitRecoversLoadImbalanceAndCoactivation) {
  const trace::Trace real = SkewedTrace(20000);
  const trace::TraceStats real_stats = trace::ComputeTraceStats(real);
  auto targets = TargetsFromTrace(real);
  ASSERT_TRUE(targets.ok());
  EXPECT_TRUE(targets->normalize_topk);
  FitOptions fit;
  fit.sequence_strength = 0;  // the trace is one sequence: no evidence of sequence structure
  auto model = FitRoutingModel(*targets, fit);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto synth = GenerateModelTrace(*model, GenerateOptions{20000, 2048, 0, 9});
  const trace::TraceStats s = trace::ComputeTraceStats(*synth);
  const double real_imbalance = trace::Imbalance(real_stats.layers[0].load);
  EXPECT_GT(real_imbalance, 1.5);
  EXPECT_NEAR(trace::Imbalance(s.layers[0].load), real_imbalance, 0.05 * real_imbalance);
  EXPECT_NEAR(trace::CoefficientOfVariation(s.layers[0].load), trace::CoefficientOfVariation(real_stats.layers[0].load), 0.05);
  EXPECT_GT(trace::OffDiagonalCorrelation(real_stats.layers[0].coact, s.layers[0].coact), 0.9);
  EXPECT_NEAR(TopOneShare(*synth), 0.6, 0.03);
}

TEST(SynthFitTest, LoadTargetsWithoutMatricesGiveTheirImbalance) {
  FitTargets t;
  t.num_experts = 16;
  t.num_topk = 4;
  t.layers.resize(2);
  t.layers[1].layer = 1;
  for (int e = 0; e < 16; ++e) t.layers[0].load.push_back(e < 2 ? 40 : 10);  // imbalance 40/13.75
  t.layers[1].load.assign(16, 5);
  FitOptions fit;
  fit.sequence_strength = 0;  // per-sequence tilts would add load noise
  auto model = FitRoutingModel(t, fit);
  ASSERT_TRUE(model.ok());
  auto synth = GenerateModelTrace(*model, GenerateOptions{20000, 2048, 0, 4});
  const trace::TraceStats s = trace::ComputeTraceStats(*synth);
  EXPECT_NEAR(trace::Imbalance(s.layers[0].load), 40 / 13.75, 0.12);
  EXPECT_LT(trace::Imbalance(s.layers[1].load), 1.1);
}

TEST(SynthFitTest, TargetFilesInBothShapes) {
  ScopedTempDir dir;
  const std::string own = dir.Write("load.json", R"({"layers": [0, 2], "load": [[1, 2, 3, 4], [4, 4, 4, 4]]})");
  const std::string shared = dir.Write(
      "counts.json", R"({"m__expert_counts__c4": {"layers": [0, 2], "counts": [[1, 2, 3, 4], [4, 4, 4, 4]]}})");
  const std::string coact = dir.Write(
      "coact.json", R"({"layers": 3, "experts": 4, "top_k": 2, "tokens": 10,
                      "matrices": {"base": [[[0,5,0,0],[5,0,0,0],[0,0,0,5],[0,0,5,0]],
                                            [[0,5,0,0],[5,0,0,0],[0,0,0,5],[0,0,5,0]],
                                            [[0,1,2,2],[1,0,2,2],[2,2,0,1],[2,2,1,0]]]}})");
  auto a = TargetsFromFiles(TargetFiles{{own}, "", "", "base", 1}, "m", 4, 2, {0, 1, 2});
  auto b = TargetsFromFiles(TargetFiles{{shared}, "m__expert_counts__c4", coact, "base", 1}, "m", 4, 2, {0, 1, 2});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->layers[0].load, (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(b->layers[0].load, a->layers[0].load);
  // Layer 1 is between a skewed and a flat layer: milder skew than layer 0.
  const auto& mid = a->layers[1].load;
  const double ratio = *std::max_element(mid.begin(), mid.end()) / *std::min_element(mid.begin(), mid.end());
  EXPECT_GT(ratio, 1.2);
  EXPECT_LT(ratio, 4);
  EXPECT_EQ(b->layers[2].coact[1], 1);
  // Loads from the matrices alone: row sums / (k - 1).
  auto c = TargetsFromFiles(TargetFiles{{}, "", coact, "base", 1}, "m", 4, 2, {0, 1, 2});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->layers[2].load, (std::vector<double>{5, 5, 5, 5}));
}

TEST(SynthFitTest, BadTargetFilesAreBadInputNamingTheFile) {
  ScopedTempDir dir;
  const std::vector<std::pair<std::string, std::string>> bad_loads = {
      {"truncated.json", R"({"layers": [0], "load": [[1, 2)"},
      {"short.json", R"({"layers": [0], "load": [[1, 2, 3]]})"},
      {"rows.json", R"({"layers": [0, 1], "load": [[1, 2, 3, 4]]})"},
      {"negative.json", R"({"layers": [0], "load": [[1, -2, 3, 4]]})"},
      {"text.json", R"({"layers": [0], "load": [["a", 2, 3, 4]]})"},
      {"nokey.json", R"({"x": {"layers": [0], "counts": [[1, 2, 3, 4]]}})"},
  };
  for (const auto& [name, text] : bad_loads) {
    auto r = TargetsFromFiles(TargetFiles{{dir.Write(name, text)}, "", "", "base", 1}, "m", 4, 2, {0});
    EXPECT_EQ(r.status().code(), Status::Code::kBadInput) << name;
    EXPECT_NE(r.status().message().find(name), std::string::npos) << r.status().message();
  }
  const std::string not_square = dir.Write("square.json", R"({"layers": [0], "coact": [[[0, 1], [1, 0]]]})");
  auto r = TargetsFromFiles(TargetFiles{{}, "", not_square, "base", 1}, "m", 4, 2, {0});
  EXPECT_EQ(r.status().code(), Status::Code::kBadInput);
  EXPECT_NE(r.status().message().find("square.json"), std::string::npos);
  r = TargetsFromFiles(TargetFiles{{dir.Path("missing.json")}, "", "", "base", 1}, "m", 4, 2, {0});
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing.json"), std::string::npos);
}

TEST(SynthFitTest, SequenceLiftIsOneWithoutStructureAndUndefinedForOneSequence) {
  const trace::Trace t = SkewedTrace(4000);
  EXPECT_LT(SequenceLift(t.layers[0]), 0);  // every token in sequence 0
  EXPECT_NEAR(SequenceLift(t.layers[0], 100), 1, 0.03);
}

}  // namespace
}  // namespace epsim::synth
