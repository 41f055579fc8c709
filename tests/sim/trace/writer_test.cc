#include "sim/trace/writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "sim/trace/reader.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::trace {
namespace {

// 8 experts, top-2 of 3 candidates, layers 1 and 4 with 3 tokens each.
Trace MakeSmallTrace() {
  Trace trace;
  trace.header.set_model("tiny");
  trace.header.set_num_experts(8);
  trace.header.set_num_topk(2);
  trace.header.set_num_candidates(3);
  trace.header.mutable_provenance()->set_source_format("synthetic");
  trace.header.mutable_provenance()->add_source_files("hand.txt");
  trace.header.mutable_provenance()->set_seed(42);
  for (uint32_t layer : {1u, 4u}) {
    LayerRouting& l = trace.layers.emplace_back();
    l.layer = layer;
    l.num_topk = 2;
    l.num_candidates = 3;
    for (uint32_t t = 0; t < 3; ++t) {
      const uint32_t idx[3] = {(t + layer) % 8, (t + layer + 3) % 8, (t + layer + 5) % 8};
      const float w[3] = {0.5f + 0.1f * t, 0.3f, 0.05f * layer};  // a candidate below the selected
      l.Append(/*token_id=*/10 + t, /*sequence_id=*/t / 2, idx, w);
    }
  }
  return trace;
}

proto::TraceHeader SmallHeader() { return MakeSmallTrace().header; }

TEST(TraceWriterTest, RoundTripKeepsEveryField) {
  ScopedTempDir dir;
  const Trace in = MakeSmallTrace();
  ASSERT_TRUE(WriteTrace(dir.Path("a.trace"), in).ok());
  Result<Trace> out = ReadTrace(dir.Path("a.trace"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const proto::TraceHeader& h = out->header;
  EXPECT_EQ(h.version(), 2u);
  EXPECT_EQ(h.num_steps(), 1u);
  EXPECT_FALSE(h.scores_absent());
  EXPECT_EQ(h.model(), "tiny");
  EXPECT_EQ(h.num_experts(), 8u);
  EXPECT_EQ(h.num_topk(), 2u);
  EXPECT_EQ(h.num_candidates(), 3u);
  EXPECT_EQ(h.num_layers(), 2u);
  ASSERT_EQ(h.layers_size(), 2);
  EXPECT_EQ(h.layers(0).layer(), 1u);
  EXPECT_EQ(h.layers(0).num_tokens(), 3u);
  EXPECT_EQ(h.layers(1).layer(), 4u);
  EXPECT_EQ(h.layers(1).num_tokens(), 3u);
  EXPECT_EQ(h.provenance().source_format(), "synthetic");
  ASSERT_EQ(h.provenance().source_files_size(), 1);
  EXPECT_EQ(h.provenance().source_files(0), "hand.txt");
  EXPECT_EQ(h.provenance().seed(), 42u);
  ASSERT_EQ(out->layers.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const LayerRouting& a = in.layers[i];
    const LayerRouting& b = out->layers[i];
    EXPECT_EQ(b.layer, a.layer);
    EXPECT_EQ(b.num_topk, a.num_topk);
    EXPECT_EQ(b.num_candidates, a.num_candidates);
    EXPECT_EQ(b.token_ids, a.token_ids);
    EXPECT_EQ(b.sequence_ids, a.sequence_ids);
    EXPECT_EQ(b.topk_idx, a.topk_idx);
    EXPECT_EQ(b.topk_weights, a.topk_weights);
  }
}

TEST(TraceWriterTest, RewritingAReadTraceGivesIdenticalBytes) {
  ScopedTempDir dir;
  ASSERT_TRUE(WriteTrace(dir.Path("a.trace"), MakeSmallTrace()).ok());
  Result<Trace> read = ReadTrace(dir.Path("a.trace"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_TRUE(WriteTrace(dir.Path("b.trace"), *read).ok());
  const std::string a = ReadBytes(dir.Path("a.trace"));
  EXPECT_GT(a.size(), 0u);
  EXPECT_EQ(a, ReadBytes(dir.Path("b.trace")));
}

TEST(TraceWriterTest, LeavesNoFileWhenFinishIsNotCalled) {
  ScopedTempDir dir;
  {
    auto writer = TraceWriter::Create(dir.Path("out.trace"), SmallHeader());
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    const uint32_t idx[3] = {0, 1, 2};
    const float w[3] = {0.5f, 0.3f, 0.2f};
    ASSERT_TRUE((*writer)->Add(0, 0, 0, idx, w).ok());
    EXPECT_FALSE(std::filesystem::exists(dir.Path("out.trace")));
  }
  EXPECT_TRUE(dir.List().empty()) << "left behind: " << dir.List().front();
}

TEST(TraceWriterTest, FinishLeavesOnlyTheOutput) {
  ScopedTempDir dir;
  ASSERT_TRUE(WriteTrace(dir.Path("out.trace"), MakeSmallTrace()).ok());
  EXPECT_EQ(dir.List(), std::vector<std::string>{"out.trace"});
}

TEST(TraceWriterTest, SplitsLayersIntoRecordsOfAtMostRecordTokens) {
  ScopedTempDir dir;
  auto writer = TraceWriter::Create(dir.Path("big.trace"), SmallHeader());
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  const uint32_t idx[3] = {1, 2, 3};
  const float w[3] = {0.6f, 0.3f, 0.1f};
  for (uint64_t t = 0; t < 10000; ++t) {
    ASSERT_TRUE((*writer)->Add(7, t, 0, idx, w).ok());
    if (t % 2 == 0) {
      ASSERT_TRUE((*writer)->Add(3, t, 0, idx, w).ok());
    }
  }
  ASSERT_TRUE((*writer)->Finish().ok());

  auto reader = TraceReader::Open(dir.Path("big.trace"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_EQ((*reader)->header().layers_size(), 2);
  EXPECT_EQ((*reader)->header().layers(0).layer(), 3u);  // sorted, though added second
  EXPECT_EQ((*reader)->header().layers(0).num_tokens(), 5000u);
  EXPECT_EQ((*reader)->header().layers(1).num_tokens(), 10000u);
  std::vector<std::pair<uint32_t, int>> records;  // (layer, tokens)
  proto::LayerRecord record;
  while (true) {
    Result<bool> got = (*reader)->Next(&record);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    if (!*got) break;
    EXPECT_LE(static_cast<size_t>(record.token_ids_size()), TraceWriter::kRecordTokens);
    records.emplace_back(record.layer(), record.token_ids_size());
  }
  const std::vector<std::pair<uint32_t, int>> want = {
      {7, 4096}, {3, 4096}, {7, 4096}, {3, 904}, {7, 1808}};
  EXPECT_EQ(records, want);
}

TEST(TraceWriterTest, RejectsExpertIdOutOfRange) {
  ScopedTempDir dir;
  auto writer = TraceWriter::Create(dir.Path("out.trace"), SmallHeader());
  ASSERT_TRUE(writer.ok());
  const uint32_t idx[3] = {0, 8, 2};
  const float w[3] = {0.5f, 0.3f, 0.2f};
  Status st = (*writer)->Add(5, 17, 0, idx, w);
  EXPECT_EQ(st.code(), Status::Code::kBadInput);
  EXPECT_EQ(st.message(), "layer 5, token 17: expert 8 >= num_experts 8");
}

TEST(TraceWriterTest, RejectsExpertRepeatedWithinTopk) {
  ScopedTempDir dir;
  auto writer = TraceWriter::Create(dir.Path("out.trace"), SmallHeader());
  ASSERT_TRUE(writer.ok());
  const uint32_t repeated[3] = {4, 4, 2};
  const uint32_t repeated_candidate[3] = {4, 2, 4};  // allowed: beyond the top-2
  const float w[3] = {0.5f, 0.3f, 0.2f};
  Status st = (*writer)->Add(0, 0, 0, repeated, w);
  EXPECT_EQ(st.code(), Status::Code::kBadInput);
  EXPECT_NE(st.message().find("expert 4 selected twice"), std::string::npos) << st.message();
  EXPECT_TRUE((*writer)->Add(0, 0, 0, repeated_candidate, w).ok());
}

TEST(TraceWriterTest, RejectsHeaderWithTopkAboveCandidates) {
  ScopedTempDir dir;
  proto::TraceHeader header = SmallHeader();
  header.set_num_candidates(1);
  auto writer = TraceWriter::Create(dir.Path("out.trace"), header);
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.status().message().find("num_topk 2 > num_candidates 1"), std::string::npos)
      << writer.status().message();
  EXPECT_TRUE(dir.List().empty());
}

TEST(TraceWriterTest, AddLayerRejectsLayerWithOtherTopk) {
  ScopedTempDir dir;
  Trace trace = MakeSmallTrace();
  trace.layers[1].num_topk = 3;
  Status st = WriteTrace(dir.Path("out.trace"), trace);
  EXPECT_EQ(st.code(), Status::Code::kBadInput);
  EXPECT_NE(st.message().find("layer 4"), std::string::npos) << st.message();
  EXPECT_TRUE(dir.List().empty());
}

}  // namespace
}  // namespace epsim::trace
