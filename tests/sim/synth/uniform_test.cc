#include "sim/synth/uniform.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace epsim::synth {
namespace {


TEST(SynthTest, SameSeedSameTraceOtherSeedOtherTrace) {
  UniformTraceOptions o;
  o.layers = {0};
  o.num_tokens = 64;
  auto a = GenerateUniformTrace(o), b = GenerateUniformTrace(o);
  o.seed = 2;
  auto c = GenerateUniformTrace(o);
  EXPECT_EQ(a->layers[0].topk_idx, b->layers[0].topk_idx);
  EXPECT_NE(a->layers[0].topk_idx, c->layers[0].topk_idx);
  // Scores descend and the selected experts are distinct.
  for (size_t t = 0; t < 64; ++t)
    for (uint32_t i = 1; i < 8; ++i) EXPECT_GE(a->layers[0].weights(t)[i - 1], a->layers[0].weights(t)[i]);
}

// The slow, obvious reference: softmax over all E normal logits, top-k.
// The generator draws only the top k; its mean top-1 and top-k weight mass
// must agree with the reference.
TEST(SynthTest, ScoresMatchFullSoftmaxOfNormalLogits) {
  UniformTraceOptions o;
  o.layers = {0};
  o.num_tokens = 20000;
  auto fast = GenerateUniformTrace(o);
  ASSERT_TRUE(fast.ok());
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  double ref_top1 = 0, ref_mass = 0, fast_top1 = 0, fast_mass = 0;
  std::vector<double> logits(64);
  for (uint64_t t = 0; t < o.num_tokens; ++t) {
    for (double& l : logits) l = normal(rng);
    std::sort(logits.begin(), logits.end(), std::greater<>());
    double sum = 0;
    for (double l : logits) sum += std::exp(l);
    ref_top1 += std::exp(logits[0]) / sum;
    for (int i = 0; i < 8; ++i) ref_mass += std::exp(logits[i]) / sum;
    const float* w = fast->layers[0].weights(t);
    fast_top1 += w[0];
    for (int i = 0; i < 8; ++i) fast_mass += w[i];
  }
  EXPECT_NEAR(fast_top1 / o.num_tokens, ref_top1 / o.num_tokens, 0.003);
  EXPECT_NEAR(fast_mass / o.num_tokens, ref_mass / o.num_tokens, 0.003);
}

TEST(SynthTest, EveryExpertEquallyLikely) {
  UniformTraceOptions o;
  o.layers = {0};
  o.num_tokens = 16000;
  auto trace = GenerateUniformTrace(o);
  std::vector<int> count(64);
  for (uint32_t e : trace->layers[0].topk_idx) ++count[e];
  // 2000 expected picks each; 5 standard deviations is about 210.
  for (int c : count) EXPECT_NEAR(c, 2000, 210);
}

TEST(SynthTest, RejectsImpossibleShapes) {
  UniformTraceOptions o;
  o.layers = {0};
  o.num_topk = 65;
  EXPECT_EQ(GenerateUniformTrace(o).status().code(), Status::Code::kUsage);
  o.num_topk = 8;
  o.layers.clear();
  EXPECT_EQ(GenerateUniformTrace(o).status().code(), Status::Code::kUsage);
}

}  // namespace
}  // namespace epsim::synth
