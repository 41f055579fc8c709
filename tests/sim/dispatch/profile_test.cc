// Profiles (sim/dispatch/profile.cc): partners and similarity from a
// hand-checkable trace, the streaming and in-memory paths agreeing, and the
// similarity file format.
#include "sim/dispatch/profile.h"

#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

#include "sim/dispatch/strategies.h"
#include "sim/trace/writer.h"

namespace epsim::dispatch {
namespace {

using Experts = std::vector<uint32_t>;

// Four experts, top-2 of 3 candidates, layer 5:
//   t0: 0 1 | 2   (0.5 0.3 | 0.2)
//   t1: 0 2 | 3   (0.6 0.3 | 0.1)
//   t2: 1 0 | 3   (0.5 0.4 | 0.1)
//   t3: 3 2 | 1   (0.7 0.2 | 0.1)
trace::Trace HandTrace() {
  trace::Trace t;
  t.header.set_version(1);
  t.header.set_num_experts(4);
  t.header.set_num_topk(2);
  t.header.set_num_candidates(3);
  trace::LayerRouting layer;
  layer.layer = 5;
  layer.num_topk = 2;
  layer.num_candidates = 3;
  const uint32_t idx[4][3] = {{0, 1, 2}, {0, 2, 3}, {1, 0, 3}, {3, 2, 1}};
  const float w[4][3] = {{0.5f, 0.3f, 0.2f}, {0.6f, 0.3f, 0.1f}, {0.5f, 0.4f, 0.1f},
                         {0.7f, 0.2f, 0.1f}};
  for (uint64_t i = 0; i < 4; ++i) layer.Append(i, 0, idx[i], w[i]);
  t.layers.push_back(layer);
  t.header.set_num_layers(1);
  auto* info = t.header.add_layers();
  info->set_layer(5);
  info->set_num_tokens(4);
  return t;
}

// Co-activation (top-2 only): {0,1} twice, {0,2} once, {2,3} once.
TEST(ProfileTest, PartnersByCoactivationTiesByLowerId) {
  const auto profiles = BuildProfiles(HandTrace(), {true, false});
  ASSERT_EQ(profiles.size(), 1u);
  const LayerProfile& p = profiles.at(5);
  EXPECT_TRUE(p.similarity.empty());
  ASSERT_EQ(p.partners.size(), 4u);
  EXPECT_EQ(p.partners[0], (Experts{1, 2, 3}));
  EXPECT_EQ(p.partners[1], (Experts{0, 2, 3}));
  EXPECT_EQ(p.partners[2], (Experts{0, 3, 1}));
  EXPECT_EQ(p.partners[3], (Experts{2, 0, 1}));
}

double Cosine(std::vector<double> a, std::vector<double> b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  return ab / std::sqrt(aa * bb);
}

// Score vectors over t0..t3, candidates included, unlisted = 0.
TEST(ProfileTest, SimilarityIsCosineOfScoreVectorsOverCandidates) {
  const std::vector<std::vector<double>> v = {
      {0.5, 0.6, 0.4, 0.0}, {0.3, 0.0, 0.5, 0.1}, {0.2, 0.3, 0.0, 0.2}, {0.0, 0.1, 0.1, 0.7}};
  const auto profiles = BuildProfiles(HandTrace(), {false, true});
  const LayerProfile& p = profiles.at(5);
  EXPECT_TRUE(p.partners.empty());
  ASSERT_EQ(p.similarity.size(), 16u);
  for (uint32_t i = 0; i < 4; ++i)
    for (uint32_t j = 0; j < 4; ++j)
      EXPECT_NEAR(p.similarity[i * 4 + j], Cosine(v[i], v[j]), 1e-6) << i << "," << j;
  EXPECT_NEAR(p.similarity[0 * 4 + 1], 0.35 / std::sqrt(0.77 * 0.35), 1e-6);
}

TEST(ProfileTest, StreamingAndInMemoryAgree) {
  const std::string path = ::testing::TempDir() + "/profile_test.trace";
  ASSERT_TRUE(trace::WriteTrace(path, HandTrace()).ok());
  auto streamed = BuildProfiles(path, 4);
  ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
  const auto in_memory = BuildProfiles(HandTrace());
  ASSERT_EQ(streamed->size(), 1u);
  EXPECT_EQ(streamed->at(5).partners, in_memory.at(5).partners);
  EXPECT_EQ(streamed->at(5).similarity, in_memory.at(5).similarity);
  auto wrong = BuildProfiles(path, 8);
  EXPECT_EQ(wrong.status().code(), Status::Code::kBadInput);
  EXPECT_NE(wrong.status().message().find("4 experts"), std::string::npos);
  EXPECT_FALSE(BuildProfiles(path + ".missing", 4).ok());
  std::remove(path.c_str());
}

TEST(ProfileTest, PartsFollowTheStrategy) {
  auto parts = [](const std::string& spec) { return PartsNeededBy(**MakeStrategy(spec)); };
  EXPECT_TRUE(parts("c2r:3").partners);
  EXPECT_FALSE(parts("c2r:3").similarity);
  EXPECT_TRUE(parts("pruned:2:similarity").similarity);
  EXPECT_FALSE(parts("pruned:2:similarity").partners);
  EXPECT_FALSE(parts("pruned:2:score").similarity);
  EXPECT_FALSE(parts("hierarchical").partners);
  EXPECT_FALSE(parts("node-limited:2").similarity);
}

TEST(ProfileTest, SimilarityEstimateSaysWhichKind) {
  EXPECT_NE(DescribeSimilarityEstimate(2, 3).find("3 candidates"), std::string::npos);
  EXPECT_NE(DescribeSimilarityEstimate(2, 2).find("co-activation"), std::string::npos);
}

TEST(SimilarityFileTest, PerLayerTablesThenDefault) {
  const std::string json = R"({"default": [[1, 0], [0, 1]],
                               "layers": {"3": [[1, 0.5], [0.25, 1]]}})";
  auto tables = ParseSimilarityJson(json, "sim.json", 2);
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  std::map<uint32_t, LayerProfile> profiles;
  profiles[3].partners = {{1}, {0}};
  ASSERT_TRUE(ApplySimilarity(*tables, {3, 4}, &profiles).ok());
  EXPECT_EQ(profiles[3].similarity, (std::vector<float>{1, 0.5f, 0.25f, 1}));
  EXPECT_EQ(profiles[3].partners.size(), 2u);  // kept
  EXPECT_EQ(profiles[4].similarity, (std::vector<float>{1, 0, 0, 1}));
}

TEST(SimilarityFileTest, LayerWithoutTableOrDefaultIsBadInput) {
  auto tables = ParseSimilarityJson(R"({"layers": {"3": [[1, 0], [0, 1]]}})", "sim.json", 2);
  ASSERT_TRUE(tables.ok());
  std::map<uint32_t, LayerProfile> profiles;
  const Status st = ApplySimilarity(*tables, {3, 7}, &profiles);
  EXPECT_EQ(st.code(), Status::Code::kBadInput);
  EXPECT_NE(st.message().find("sim.json: no similarity table for layer 7"), std::string::npos);
}

TEST(SimilarityFileTest, RejectsMalformedTables) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "sim.json"},
      {"[]", "expected a JSON object"},
      {"{}", "no similarity table"},
      {R"({"default": [[1, 0]]})", "default: must be 2 rows of 2 numbers"},
      {R"({"default": [[1, 0], [0]]})", "row 1"},
      {R"({"default": [[1, 0], [0, "x"]]})", "row 1 column 1: not a finite number"},
      {R"({"layers": {"a": [[1, 0], [0, 1]]}})", "layer key 'a'"},
      {R"({"layers": [[1, 0], [0, 1]]})", "expected an object keyed by layer"},
      {R"({"default": [[1, 0], [0, 1]], "extra": 1})", "unknown key 'extra'"},
  };
  for (const auto& [json, message] : cases) {
    auto tables = ParseSimilarityJson(json, "sim.json", 2);
    ASSERT_FALSE(tables.ok()) << json;
    EXPECT_EQ(tables.status().code(), Status::Code::kBadInput) << json;
    EXPECT_NE(tables.status().message().find(message), std::string::npos)
        << json << " -> " << tables.status().message();
  }
  EXPECT_FALSE(ReadSimilarityFile(::testing::TempDir() + "/no-such-similarity.json", 2).ok());
}

}  // namespace
}  // namespace epsim::dispatch
