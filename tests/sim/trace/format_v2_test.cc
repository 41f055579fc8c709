// Version 2 of the trace format: forward steps, traces without scores, the
// header written into its reserved room, and a checksum on every message.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sim/trace/format.h"
#include "sim/trace/reader.h"
#include "sim/trace/validate.h"
#include "sim/trace/writer.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::trace {
namespace {

proto::TraceHeader Header(bool scores_absent = false) {
  proto::TraceHeader h;
  h.set_model("tiny");
  h.set_num_experts(8);
  h.set_num_topk(2);
  h.set_num_candidates(2);
  h.set_scores_absent(scores_absent);
  h.mutable_provenance()->set_source_format("synthetic");
  return h;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Two layers, three steps of 3, 1 and 2 tokens; token ids count up.
Trace SteppedTrace(bool scores_absent = false) {
  Trace trace;
  trace.header = Header(scores_absent);
  const std::vector<uint64_t> sizes = {3, 1, 2};
  for (uint32_t layer : {0u, 1u}) {
    LayerRouting& l = trace.layers.emplace_back();
    l.layer = layer;
    l.num_topk = l.num_candidates = 2;
    uint64_t token = 0;
    for (uint64_t step = 0; step < sizes.size(); ++step) {
      l.BeginStep(step);
      for (uint64_t i = 0; i < sizes[step]; ++i, ++token) {
        const uint32_t idx[2] = {static_cast<uint32_t>(token % 8),
                                 static_cast<uint32_t>((token + layer + 1) % 8)};
        const float w[2] = {scores_absent ? 0.5f : 0.7f, scores_absent ? 0.5f : 0.3f};
        l.Append(token, step, idx, w);
      }
    }
  }
  return trace;
}

TEST(TraceFormatV2Test, StepsRoundTrip) {
  ScopedTempDir dir;
  ASSERT_TRUE(WriteTrace(dir.Path("a.trace"), SteppedTrace()).ok());
  Result<Trace> read = ReadTrace(dir.Path("a.trace"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->header.version(), 2u);
  EXPECT_EQ(read->header.num_steps(), 3u);
  ASSERT_EQ(read->layers.size(), 2u);
  for (const LayerRouting& l : read->layers) {
    ASSERT_EQ(l.steps.size(), 3u);
    EXPECT_EQ(l.steps[0].step, 0u);
    EXPECT_EQ(l.steps[0].first, 0u);
    EXPECT_EQ(l.steps[0].count, 3u);
    EXPECT_EQ(l.steps[1].first, 3u);
    EXPECT_EQ(l.steps[1].count, 1u);
    EXPECT_EQ(l.steps[2].step, 2u);
    EXPECT_EQ(l.steps[2].first, 4u);
    EXPECT_EQ(l.steps[2].count, 2u);
    EXPECT_EQ(l.token_ids, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));
  }
  // Records carry their step, in nondecreasing order.
  auto reader = TraceReader::Open(dir.Path("a.trace"));
  ASSERT_TRUE(reader.ok());
  proto::LayerRecord rec;
  std::vector<uint64_t> steps;
  while (true) {
    Result<bool> more = (*reader)->Next(&rec);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    steps.push_back(rec.step());
  }
  EXPECT_EQ(steps, (std::vector<uint64_t>{0, 0, 1, 1, 2, 2}));
  // Rewriting what was read gives the same bytes.
  ASSERT_TRUE(WriteTrace(dir.Path("b.trace"), *read).ok());
  EXPECT_EQ(Slurp(dir.Path("a.trace")), Slurp(dir.Path("b.trace")));
}

TEST(TraceFormatV2Test, TraceWithoutScoresStoresNoWeightsAndReadsUniform) {
  ScopedTempDir dir;
  Trace with = SteppedTrace(/*scores_absent=*/false);
  Trace without = SteppedTrace(/*scores_absent=*/true);
  ASSERT_TRUE(WriteTrace(dir.Path("with.trace"), with).ok());
  ASSERT_TRUE(WriteTrace(dir.Path("without.trace"), without).ok());
  // 12 rows x 2 floats = 96 bytes of weights (plus tags) are not written.
  EXPECT_LT(Slurp(dir.Path("without.trace")).size() + 96,
            Slurp(dir.Path("with.trace")).size());
  Result<Trace> read = ReadTrace(dir.Path("without.trace"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(read->header.scores_absent());
  for (const LayerRouting& l : read->layers) {
    EXPECT_EQ(l.topk_idx, without.layers[l.layer].topk_idx);
    for (float w : l.topk_weights) EXPECT_EQ(w, 0.5f);
  }
  Result<ValidationSummary> v = ValidateTrace(dir.Path("without.trace"));
  EXPECT_TRUE(v.ok()) << v.status().ToString();
}

TEST(TraceFormatV2Test, EverySingleBitFlipIsDetected) {
  ScopedTempDir dir;
  ASSERT_TRUE(WriteTrace(dir.Path("a.trace"), SteppedTrace()).ok());
  const std::string bytes = Slurp(dir.Path("a.trace"));
  // The header's room: its length prefix plus the length.
  size_t room = 0, prefix = 0;
  for (int shift = 0;; shift += 7) {
    const auto c = static_cast<unsigned char>(bytes[prefix++]);
    room |= size_t{c & 0x7fu} << shift;
    if ((c & 0x80) == 0) break;
  }
  room += prefix;
  ASSERT_EQ(room % 4096, 0u);
  ASSERT_GT(bytes.size(), room);  // records follow
  size_t undetected = 0, flips = 0;
  std::string first_undetected;
  // Every bit of the records and of the header's fields; the room between
  // is padding inside the header, covered by its checksum, so a sample of
  // it suffices.
  for (size_t byte = 0; byte < bytes.size();
       byte += (byte >= 64 && byte + 16 < room) ? 97 : 1) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = bytes;
      flipped[byte] = static_cast<char>(flipped[byte] ^ (1 << bit));
      const std::string path = dir.Write("f.trace", flipped);
      ++flips;
      if (ReadTrace(path).ok()) {
        if (undetected++ == 0) first_undetected = std::to_string(byte) + ":" + std::to_string(bit);
      }
    }
  }
  EXPECT_EQ(undetected, 0u) << "of " << flips << " flips; first at byte:bit " << first_undetected;
}

TEST(TraceFormatV2Test, HeaderTooLargeForItsRoomIsCopiedInFront) {
  ScopedTempDir dir;
  Trace trace;
  trace.header = Header();
  // Every layer id a trace may hold: 4096 LayerInfos (7 bytes each) outgrow
  // the 16 KiB room.
  for (uint32_t layer = 0; layer < kMaxTraceLayers; ++layer) {
    LayerRouting& l = trace.layers.emplace_back();
    l.layer = layer;
    l.num_topk = l.num_candidates = 2;
    const uint32_t idx[2] = {layer % 8, (layer + 1) % 8};
    const float w[2] = {0.6f, 0.4f};
    l.Append(layer, 0, idx, w);
  }
  ASSERT_TRUE(WriteTrace(dir.Path("big.trace"), trace).ok());
  Result<Trace> read = ReadTrace(dir.Path("big.trace"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->layers.size(), 4096u);
  EXPECT_EQ(read->layers[4095].layer, 4095u);
  EXPECT_EQ(read->layers[4095].token_ids, std::vector<uint64_t>{4095});
  EXPECT_EQ(dir.List(), std::vector<std::string>{"big.trace"});  // no temporaries left
}

TEST(TraceFormatV2Test, StepsMayNotGoDown) {
  ScopedTempDir dir;
  auto writer = TraceWriter::Create(dir.Path("a.trace"), Header());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->SetStep(2).ok());
  EXPECT_FALSE((*writer)->SetStep(1).ok());
}

TEST(TraceFormatV2Test, ValidateAppliesOncePerLayerWithinAStep) {
  ScopedTempDir dir;
  // Token 7 in steps 0 and 1 of one layer: allowed (a step is its own batch).
  auto writer = TraceWriter::Create(dir.Path("ok.trace"), Header());
  ASSERT_TRUE(writer.ok());
  const uint32_t idx[2] = {1, 2};
  const float w[2] = {0.6f, 0.4f};
  ASSERT_TRUE((*writer)->Add(0, 7, 0, idx, w).ok());
  ASSERT_TRUE((*writer)->SetStep(1).ok());
  ASSERT_TRUE((*writer)->Add(0, 7, 0, idx, w).ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  Result<ValidationSummary> ok = ValidateTrace(dir.Path("ok.trace"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->steps, 2u);
  EXPECT_EQ(ok->rows, 2u);
  // Twice within one step: rejected, naming the step.
  auto bad = TraceWriter::Create(dir.Path("bad.trace"), Header());
  ASSERT_TRUE(bad.ok());
  ASSERT_TRUE((*bad)->SetStep(1).ok());
  ASSERT_TRUE((*bad)->Add(0, 7, 0, idx, w).ok());
  ASSERT_TRUE((*bad)->Add(0, 7, 0, idx, w).ok());
  ASSERT_TRUE((*bad)->Finish().ok());
  Result<ValidationSummary> v = ValidateTrace(dir.Path("bad.trace"));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("token appears twice in the layer in step 1"),
            std::string::npos)
      << v.status().message();
}

// The writer's own record encoder against protobuf's serializer (the slow,
// obvious reference): the same bytes for records of every shape, including
// zero layer and step (omitted fields), empty lists, ids and token ids of
// every varint length, and weights of any bits.
TEST(TraceFormatV2Test, RecordEncoderWritesProtobufsBytes) {
  std::mt19937_64 rng(7);
  const auto any_varint = [&rng] {
    const int bits = static_cast<int>(rng() % 65);
    return bits == 0 ? uint64_t{0} : rng() >> (64 - bits);
  };
  for (int trial = 0; trial < 400; ++trial) {
    const size_t tokens = trial % 7 == 0 ? 0 : rng() % 40;
    const size_t k = 1 + rng() % 9;
    const bool weights = trial % 3 != 0;
    std::vector<uint64_t> token_ids(tokens), sequence_ids(tokens);
    std::vector<uint32_t> idx(tokens * k);
    std::vector<float> w(weights ? tokens * k : 0);
    // Some lists all of one-byte values (the encoder's narrowing copy),
    // some with one wide value among them, some of any width.
    const auto value = [&](int kind) -> uint64_t {
      if (kind == 0) return rng() % 128;
      return any_varint();
    };
    const int kind = trial % 3;
    for (uint64_t& t : token_ids) t = value(kind);
    for (uint64_t& s : sequence_ids) s = trial % 2 ? value(kind) : 0;
    for (uint32_t& i : idx) i = static_cast<uint32_t>(value(kind));
    if (kind == 0 && trial % 6 == 3 && !idx.empty()) idx[rng() % idx.size()] = 128 + rng() % 1000;
    for (float& f : w) {
      const uint32_t bits = static_cast<uint32_t>(rng());
      std::memcpy(&f, &bits, 4);
    }
    RecordColumns c;
    c.layer = trial % 5 == 0 ? 0 : static_cast<uint32_t>(any_varint());
    c.step = trial % 4 == 0 ? 0 : any_varint();
    c.token_ids = token_ids.data();
    c.sequence_ids = sequence_ids.data();
    c.num_tokens = tokens;
    c.topk_idx = idx.data();
    c.num_idx = idx.size();
    c.topk_weights = w.data();
    c.num_weights = w.size();

    proto::LayerRecord record;
    record.set_layer(c.layer);
    record.set_step(c.step);
    for (size_t t = 0; t < tokens; ++t) {
      record.add_token_ids(token_ids[t]);
      record.add_sequence_ids(sequence_ids[t]);
    }
    for (uint32_t i : idx) record.add_topk_idx(i);
    for (float f : w) record.add_topk_weights(f);
    std::string expected;
    ASSERT_TRUE(record.SerializeToString(&expected));

    std::string got = "prefix";
    AppendLayerRecord(c, &got);
    ASSERT_EQ(got.substr(6), expected) << "trial " << trial;
    EXPECT_EQ(LayerRecordSize(c), expected.size());

    std::string framed;
    AppendFramedLayerRecord(c, &framed);
    std::string body = expected;
    AppendChecksum(&body);
    std::string want;
    AppendVarint(body.size(), &want);
    want += body;
    ASSERT_EQ(framed, want) << "trial " << trial;
  }
}

// The checksum is zlib's CRC-32: its check value, and zlib's own results
// on random bytes of every length up to 300 and at unaligned starts.
TEST(TraceFormatV2Test, Crc32IsZlibs) {
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  std::mt19937_64 rng(11);
  std::string bytes(4096 + 300, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  for (size_t n = 0; n <= 300; ++n) {
    const std::string_view v(bytes.data() + n % 7, n);
    EXPECT_EQ(Crc32(v),
              static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(v.data()), v.size())))
        << n << " bytes";
  }
  const std::string_view all(bytes);
  EXPECT_EQ(Crc32(all), static_cast<uint32_t>(crc32_z(
                            0, reinterpret_cast<const Bytef*>(all.data()), all.size())));
}

TEST(TraceFormatV2Test, VarintSizeAtEveryLength) {
  EXPECT_EQ(VarintSize(0), 1u);
  for (int bits = 1; bits <= 64; ++bits) {
    const uint64_t top = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
    const size_t want = static_cast<size_t>((bits + 6) / 7);
    EXPECT_EQ(VarintSize(top), want) << bits << " bits";
    EXPECT_EQ(VarintSize(uint64_t{1} << (bits - 1)), want) << bits << " bits";
    std::string s;
    AppendVarint(top, &s);
    EXPECT_EQ(s.size(), want);
  }
}

}  // namespace
}  // namespace epsim::trace
