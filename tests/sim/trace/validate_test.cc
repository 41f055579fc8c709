#include "sim/trace/validate.h"

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "sim/trace/writer.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::trace {
namespace {

// Two layers of three tokens, 4 experts, top-2 plus one candidate.
Trace GoodTrace() {
  Trace t;
  t.header.set_version(1);
  t.header.set_num_experts(4);
  t.header.set_num_topk(2);
  t.header.set_num_candidates(3);
  for (uint32_t layer : {0u, 1u}) {
    LayerRouting& l = t.layers.emplace_back();
    l.layer = layer;
    l.num_topk = 2;
    l.num_candidates = 3;
    const uint32_t idx[3] = {1, 3, 0};
    const float w[3] = {0.5f, 0.3f, 0.1f};
    for (uint64_t token = 0; token < 3; ++token) l.Append(token, token / 2, idx, w);
  }
  return t;
}

Status ValidateWritten(const Trace& t, const ScopedTempDir& dir) {
  const std::string path = dir.Path("t.trace");
  EXPECT_TRUE(WriteTrace(path, t).ok());
  auto summary = ValidateTrace(path);
  return summary.ok() ? Status::Ok() : summary.status();
}

TEST(ValidateTraceTest, AcceptsAGoodTraceAndCounts) {
  ScopedTempDir dir;
  ASSERT_TRUE(WriteTrace(dir.Path("t.trace"), GoodTrace()).ok());
  auto summary = ValidateTrace(dir.Path("t.trace"));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->layers, 2u);
  EXPECT_EQ(summary->records, 2u);
  EXPECT_EQ(summary->rows, 6u);
}

// Score invariants are the writer's and every reader's (format.h CheckRow):
// a row that breaks one never reaches a file, whoever writes it (import,
// synth, export).
Status WriteError(const Trace& t, const ScopedTempDir& dir) {
  const std::string path = dir.Path("bad.trace");
  Status st = WriteTrace(path, t);
  EXPECT_FALSE(std::filesystem::exists(path)) << "a refused trace was written";
  return st;
}

TEST(ValidateTraceTest, RejectsSelectedScoresOutOfOrder) {
  ScopedTempDir dir;
  Trace t = GoodTrace();
  t.layers[1].topk_weights[3 * 1 + 1] = 0.9f;  // token 1: 0.5 then 0.9
  Status s = WriteError(t, dir);
  EXPECT_EQ(s.code(), Status::Code::kBadInput);
  EXPECT_NE(s.message().find("layer 1, token 1: selected scores not descending: 0.5 then 0.9"),
            std::string::npos)
      << s.message();
}

TEST(ValidateTraceTest, RejectsCandidateAboveSelected) {
  ScopedTempDir dir;
  Trace t = GoodTrace();
  t.layers[0].topk_weights[2] = 0.4f;  // candidate 0.4 > lowest selected 0.3
  EXPECT_NE(WriteError(t, dir).message().find("candidate 2 scores 0.4"), std::string::npos);
}

TEST(ValidateTraceTest, RejectsNegativeAndNonFiniteScores) {
  ScopedTempDir dir;
  Trace t = GoodTrace();
  t.layers[0].topk_weights[5] = std::nanf("");
  EXPECT_NE(WriteError(t, dir).message().find("score 2 is nan"), std::string::npos);
  t = GoodTrace();
  t.layers[0].topk_weights[2] = -0.1f;
  EXPECT_NE(WriteError(t, dir).message().find("score 2 is -0.1"), std::string::npos);
}

TEST(ValidateTraceTest, RejectsATokenTwiceInALayer) {
  ScopedTempDir dir;
  Trace t = GoodTrace();
  t.layers[0].token_ids[2] = 0;
  EXPECT_NE(ValidateWritten(t, dir).message().find("token 0): token appears twice"),
            std::string::npos);
}

TEST(ValidateTraceTest, RejectsASequenceChangeAcrossLayers) {
  ScopedTempDir dir;
  Trace t = GoodTrace();
  t.layers[1].sequence_ids[0] = 7;
  EXPECT_NE(ValidateWritten(t, dir).message().find("sequence 7 here but 0 in another layer"),
            std::string::npos);
}

}  // namespace
}  // namespace epsim::trace
