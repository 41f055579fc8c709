#include "sim/trace/reader.h"

#include <google/protobuf/util/delimited_message_util.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "sim/trace/format.h"
#include "sim/trace/writer.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::trace {
namespace {

// 8 experts, top-2 of 2; layer 0 with `num_tokens` tokens.
proto::TraceHeader Header(uint64_t num_tokens) {
  proto::TraceHeader h;
  h.set_version(1);
  h.set_num_experts(8);
  h.set_num_topk(2);
  h.set_num_candidates(2);
  h.set_num_layers(1);
  proto::LayerInfo* info = h.add_layers();
  info->set_layer(0);
  info->set_num_tokens(num_tokens);
  return h;
}

// A record of layer 0; `rows` holds two expert ids per token.
proto::LayerRecord Record(std::vector<std::vector<uint32_t>> rows, uint64_t first_token = 0) {
  proto::LayerRecord r;
  r.set_layer(0);
  for (const auto& row : rows) {
    r.add_token_ids(first_token++);
    r.add_sequence_ids(0);
    for (uint32_t e : row) {
      r.add_topk_idx(e);
      r.add_topk_weights(0.5f);
    }
  }
  return r;
}

// Writes a stream by hand, bypassing the writer's checks.
void WriteRaw(const std::string& path, const proto::TraceHeader& header,
              const std::vector<proto::LayerRecord>& records) {
  std::ofstream out(path, std::ios::binary);
  ASSERT_TRUE(google::protobuf::util::SerializeDelimitedToOstream(header, &out));
  for (const auto& r : records)
    ASSERT_TRUE(google::protobuf::util::SerializeDelimitedToOstream(r, &out));
}

// Reads every record; returns the first error (OK if none).
Status ReadAll(const std::string& path) {
  Result<Trace> trace = ReadTrace(path);
  return trace.ok() ? Status::Ok() : trace.status();
}

void ExpectBadInput(const Status& st, const std::string& text) {
  EXPECT_EQ(st.code(), Status::Code::kBadInput) << st.ToString();
  EXPECT_NE(st.message().find(text), std::string::npos)
      << "message: " << st.message() << "\nexpected to contain: " << text;
}

TEST(TraceReaderTest, ReadsAHandWrittenStream) {
  ScopedTempDir dir;
  WriteRaw(dir.Path("t"), Header(3), {Record({{1, 2}, {3, 4}}), Record({{5, 6}}, 2)});
  Result<Trace> trace = ReadTrace(dir.Path("t"));
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->layers.size(), 1u);
  EXPECT_EQ(trace->layers[0].token_ids, (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(trace->layers[0].topk_idx, (std::vector<uint32_t>{1, 2, 3, 4, 5, 6}));
}

TEST(TraceReaderTest, RejectsFileCutInsideTheLastRecord) {
  ScopedTempDir dir;
  WriteRaw(dir.Path("t"), Header(3), {Record({{1, 2}, {3, 4}}), Record({{5, 6}}, 2)});
  const std::string bytes = ReadBytes(dir.Path("t"));
  std::filesystem::resize_file(dir.Path("t"), bytes.size() - 3);
  ExpectBadInput(ReadAll(dir.Path("t")), dir.Path("t") + ": record 2: truncated");
}

TEST(TraceReaderTest, RejectsFileCutInsideALengthPrefix) {
  ScopedTempDir dir;
  WriteRaw(dir.Path("t"), Header(0), {});
  std::ofstream(dir.Path("t"), std::ios::binary | std::ios::app) << '\x80';  // varint goes on
  ExpectBadInput(ReadAll(dir.Path("t")), dir.Path("t") + ": record 1: truncated");
}

TEST(TraceReaderTest, RejectsTruncatedHeader) {
  ScopedTempDir dir;
  WriteRaw(dir.Path("t"), Header(0), {});
  std::filesystem::resize_file(dir.Path("t"), 4);
  ExpectBadInput(ReadAll(dir.Path("t")), dir.Path("t") + ": record 0: truncated");
}

TEST(TraceReaderTest, RejectsExpertIdOutOfRange) {
  ScopedTempDir dir;
  WriteRaw(dir.Path("t"), Header(2), {Record({{1, 2}, {300, 4}}, 6)});
  ExpectBadInput(ReadAll(dir.Path("t")),
                 dir.Path("t") + ": record 1 (layer 0, token 7): expert 300 >= num_experts 8");
}

TEST(TraceReaderTest, RejectsExpertRepeatedWithinTopk) {
  ScopedTempDir dir;
  WriteRaw(dir.Path("t"), Header(1), {Record({{3, 3}})});
  ExpectBadInput(ReadAll(dir.Path("t")), "record 1 (layer 0, token 0): expert 3 selected twice");
}

TEST(TraceReaderTest, RejectsTokenCountDifferentFromHeader) {
  ScopedTempDir dir;
  WriteRaw(dir.Path("t"), Header(3), {Record({{1, 2}, {3, 4}})});
  ExpectBadInput(ReadAll(dir.Path("t")), "layer 0: 2 tokens in records, header says 3");
}

TEST(TraceReaderTest, RejectsRecordOfLayerNotInHeader) {
  ScopedTempDir dir;
  proto::LayerRecord r = Record({{1, 2}});
  r.set_layer(9);
  WriteRaw(dir.Path("t"), Header(0), {r});
  ExpectBadInput(ReadAll(dir.Path("t")), "record 1 (layer 9): layer not listed in header");
}

TEST(TraceReaderTest, RejectsArraysOfDifferentLengths) {
  ScopedTempDir dir;
  proto::LayerRecord r = Record({{1, 2}, {3, 4}});
  r.mutable_topk_weights()->RemoveLast();
  WriteRaw(dir.Path("t"), Header(2), {r});
  ExpectBadInput(ReadAll(dir.Path("t")), "record 1 (layer 0): array lengths disagree");
}

TEST(TraceReaderTest, RejectsHeaderWithTopkAboveCandidates) {
  ScopedTempDir dir;
  proto::TraceHeader h = Header(0);
  h.set_num_topk(3);
  WriteRaw(dir.Path("t"), h, {});
  auto reader = TraceReader::Open(dir.Path("t"));
  ASSERT_FALSE(reader.ok());
  ExpectBadInput(reader.status(), "record 0 (header): num_topk 3 > num_candidates 2");
}

TEST(TraceReaderTest, RejectsHeaderOfOtherVersion) {
  ScopedTempDir dir;
  proto::TraceHeader h = Header(0);
  h.set_version(3);
  WriteRaw(dir.Path("t"), h, {});
  // Without a checksum it cannot be a version-2 header; a checksum is not
  // enough to read a version-3 one.
  ExpectBadInput(ReadAll(dir.Path("t")), "record 0 (header): version 3 (this epsim reads versions 1 to 2)");
}

TEST(TraceReaderTest, RejectsEmptyFile) {
  ScopedTempDir dir;
  ExpectBadInput(ReadAll(dir.Write("t", "")), "empty file");
}

TEST(TraceReaderTest, MissingFileIsNotFound) {
  ScopedTempDir dir;
  Status st = ReadAll(dir.Path("absent.trace"));
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_NE(st.message().find("absent.trace"), std::string::npos) << st.message();
}

TEST(ValidateHeaderTest, RejectsLayersNotAscending) {
  proto::TraceHeader h = Header(0);
  h.add_layers()->set_layer(0);
  h.set_num_layers(2);
  ExpectBadInput(ValidateHeader(h), "layers not ascending and unique: 0 after 0");
}

TEST(ValidateHeaderTest, RejectsLayerIdsAboveTheLimit) {
  proto::TraceHeader h = Header(0);
  h.add_layers()->set_layer(kMaxTraceLayers - 1);
  h.set_num_layers(2);
  EXPECT_TRUE(ValidateHeader(h).ok());
  h.mutable_layers(1)->set_layer(kMaxTraceLayers);
  ExpectBadInput(ValidateHeader(h), "layer 4096 is above 4095, the largest layer id a trace may hold");
}

TEST(ValidateHeaderTest, RejectsNumLayersDifferentFromList) {
  proto::TraceHeader h = Header(0);
  h.set_num_layers(3);
  ExpectBadInput(ValidateHeader(h), "num_layers 3 but 1 layers listed");
}

}  // namespace
}  // namespace epsim::trace
