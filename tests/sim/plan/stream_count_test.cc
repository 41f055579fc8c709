// Planning from a trace streamed a layer at a time gives the schedule of
// the whole trace in memory, message for message, whatever the record
// layout; and what the stream refuses.
#include "sim/plan/stream_count.h"

#include <gtest/gtest.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "sim/dispatch/strategy.h"
#include "sim/placement/algorithms.h"
#include "sim/plan/job.h"
#include "sim/plan/model.h"
#include "sim/synth/uniform.h"
#include "sim/trace/reader.h"
#include "sim/trace/writer.h"
#include "tests/sim/topology/topology_test_util.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::plan {
namespace {

using trace::ScopedTempDir;

proto::Model SmallModel() {
  proto::Model m;
  m.set_name("stream-test");
  m.set_num_layers(4);
  m.set_num_dense_layers(1);
  m.set_dense_intermediate(64);
  m.set_hidden(32);
  m.set_num_heads(4);
  m.set_num_kv_heads(4);
  m.set_num_experts(16);
  m.set_num_topk(4);
  m.set_num_shared_experts(1);
  m.set_shared_intermediate(16);
  m.set_moe_intermediate(16);
  m.set_activation_bytes(2);
  const Status st = ValidateModel(&m);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return m;
}

// Layers 1..3, 9,000 tokens each (three records a layer), sequences of 700.
trace::Trace SmallTrace() {
  synth::UniformTraceOptions o;
  o.model = "stream-test";
  o.num_experts = 16;
  o.num_topk = 4;
  o.layers = {1, 2, 3};
  o.num_tokens = 9000;
  o.tokens_per_sequence = 700;
  o.seed = 5;
  Result<trace::Trace> t = synth::GenerateUniformTrace(o);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return *t;
}

// Written token by token across layers, so that records of the layers
// interleave (each layer's chunk flushed as it fills).
void WriteInterleaved(const trace::Trace& t, const std::string& path) {
  proto::TraceHeader h = t.header;
  h.clear_layers();
  auto w = trace::TraceWriter::Create(path, h);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  for (size_t row = 0; row < t.layers[0].num_tokens(); ++row)
    for (const trace::LayerRouting& l : t.layers)
      ASSERT_TRUE((*w)->Add(l.layer, l.token_ids[row], l.sequence_ids[row], l.topk(row),
                            l.weights(row))
                      .ok());
  ASSERT_TRUE((*w)->Finish().ok());
}

struct Case {
  std::string strategy;
  Overlap overlap;
  Pass pass;
  bool replicated;
};

class StreamCountTest : public ::testing::TestWithParam<Case> {};

TEST_P(StreamCountTest, GivesTheScheduleOfTheWholeTrace) {
  const Case& c = GetParam();
  ScopedTempDir dir;
  const trace::Trace whole = SmallTrace();
  const std::string layer_major = dir.Path("layer-major.trace");
  const std::string interleaved = dir.Path("interleaved.trace");
  ASSERT_TRUE(trace::WriteTrace(layer_major, whole).ok());
  WriteInterleaved(whole, interleaved);
  // The files read back to the trace that was written.
  Result<trace::Trace> read = trace::ReadTrace(interleaved);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->layers.size(), 3u);
  EXPECT_EQ(read->layers[1].topk_idx, whole.layers[1].topk_idx);

  const proto::Model model = SmallModel();
  const uint32_t ranks = 4;
  std::vector<std::vector<uint32_t>> copies(16);
  for (uint32_t e = 0; e < 16; ++e) {
    copies[e] = {e / 4};
    if (c.replicated && e % 3 == 0) copies[e].push_back((e / 4 + 1) % ranks);
  }
  const placement::LayerPlacements placements(
      *placement::Placement::MakeReplicated("test", ranks, copies));
  dispatch::ClusterMap cluster;
  cluster.host_of_rank = {0, 0, 1, 1};
  cluster.num_hosts = 2;
  auto strategy = dispatch::MakeStrategy(c.strategy);
  ASSERT_TRUE(strategy.ok()) << strategy.status().ToString();
  const proto::Topology topology = epsim::testing::Star(4, 10, 1);  // ScMoE's estimates
  PlanInputs in{whole, model, placements, **strategy, cluster, nullptr, c.overlap, c.pass};
  in.topology = &topology;
  Result<proto::Schedule> expected = BuildSchedule(in);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();

  for (const std::string& path : {layer_major, interleaved}) {
    Result<trace::Trace> skeleton = ReadTraceSkeleton(path);
    ASSERT_TRUE(skeleton.ok()) << skeleton.status().ToString();
    EXPECT_TRUE(skeleton->layers[0].token_ids.empty());
    PlanInputs streamed_in{*skeleton, model, placements, **strategy, cluster, nullptr,
                           c.overlap, c.pass};
    streamed_in.topology = &topology;
    Result<std::vector<std::vector<CountedLayer>>> counted =
        CountStreamed(path, {streamed_in, streamed_in});
    ASSERT_TRUE(counted.ok()) << counted.status().ToString();
    ASSERT_EQ(counted->size(), 2u);
    for (std::vector<CountedLayer>& layers : *counted) {
      PlanInputs with_counts = streamed_in;
      with_counts.counted = &layers;
      Result<proto::Schedule> got = BuildSchedule(with_counts);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      std::string diff;
      google::protobuf::util::MessageDifferencer d;
      d.ReportDifferencesToString(&diff);
      EXPECT_TRUE(d.Compare(*expected, *got)) << path << ": " << diff.substr(0, 2000);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Strategies, StreamCountTest,
    ::testing::Values(Case{"classical", Overlap::kNone, Pass::kPrefill, false},
                      Case{"dedup", Overlap::kNone, Pass::kPrefill, false},
                      Case{"dedup", Overlap::kMicroBatches, Pass::kPrefill, false},
                      Case{"dedup", Overlap::kSharedExpert, Pass::kTrain, true},
                      Case{"hierarchical", Overlap::kNone, Pass::kPrefill, true},
                      Case{"pruned:2:score", Overlap::kShortcut, Pass::kPrefill, false},
                      Case{"node-limited:1", Overlap::kMicroBatches, Pass::kTrain, false}),
    [](const auto& info) {
      std::string name = info.param.strategy + "_" + OverlapName(info.param.overlap) + "_" +
                         (info.param.pass == Pass::kTrain ? "train" : "prefill") +
                         (info.param.replicated ? "_replicated" : "");
      for (char& ch : name)
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return name;
    });

// A version-1 trace (no checksums) written message by message.
void WriteRaw(const std::string& path, const proto::TraceHeader& header,
              const std::vector<proto::LayerRecord>& records) {
  std::ofstream out(path, std::ios::binary);
  ASSERT_TRUE(google::protobuf::util::SerializeDelimitedToOstream(header, &out));
  for (const proto::LayerRecord& r : records)
    ASSERT_TRUE(google::protobuf::util::SerializeDelimitedToOstream(r, &out));
}

proto::TraceHeader RawHeader(uint64_t tokens) {
  proto::TraceHeader h;
  h.set_version(1);
  h.set_model("stream-test");
  h.set_num_experts(16);
  h.set_num_topk(4);
  h.set_num_candidates(4);
  h.set_num_layers(1);
  auto* info = h.add_layers();
  info->set_layer(1);
  info->set_num_tokens(tokens);
  return h;
}

proto::LayerRecord RawRecord(uint64_t first_token, uint64_t n) {
  proto::LayerRecord r;
  r.set_layer(1);
  for (uint64_t t = first_token; t < first_token + n; ++t) {
    r.add_token_ids(t);
    r.add_sequence_ids(0);
    for (uint32_t k = 0; k < 4; ++k) {
      r.add_topk_idx((static_cast<uint32_t>(t) + k) % 16);
      r.add_topk_weights(0.25f);
    }
  }
  return r;
}

Result<std::vector<std::vector<CountedLayer>>> CountOne(const std::string& path,
                                                        const std::string& strategy_name) {
  static const proto::Model model = SmallModel();
  static const placement::LayerPlacements placements(*placement::Contiguous(16, 4));
  static const dispatch::ClusterMap cluster = dispatch::ClusterMap::SingleHost(4);
  EPSIM_ASSIGN_OR_RETURN(trace::Trace skeleton, ReadTraceSkeleton(path));
  EPSIM_ASSIGN_OR_RETURN(auto strategy, dispatch::MakeStrategy(strategy_name));
  return CountStreamed(path, {PlanInputs{skeleton, model, placements, *strategy, cluster}});
}

TEST(StreamCountErrorsTest, NamesTheFileAndTheLayerOrRecord) {
  ScopedTempDir dir;
  // More rows than the header gives the layer: refused as soon as seen.
  const std::string over = dir.Path("over.trace");
  WriteRaw(over, RawHeader(3), {RawRecord(0, 2), RawRecord(2, 2)});
  Result<std::vector<std::vector<CountedLayer>>> r = CountOne(over, "dedup");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kBadInput);
  EXPECT_NE(r.status().message().find(over + ": layer 1: records hold more than the 3 tokens"),
            std::string::npos)
      << r.status().message();
  // A full layer, then more of it: refused, not counted a second time.
  for (const auto& [name, second] : {std::pair{"full-then-one", 1}, {"full-twice", 3}}) {
    const std::string again = dir.Path(std::string(name) + ".trace");
    WriteRaw(again, RawHeader(3), {RawRecord(0, 3), RawRecord(3, second)});
    r = CountOne(again, "dedup");
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.status().message().find(again + ": layer 1: records hold more than the 3 tokens"),
              std::string::npos)
        << r.status().message();
  }
  // Fewer: the reader's count at the end of the stream.
  const std::string under = dir.Path("under.trace");
  WriteRaw(under, RawHeader(5), {RawRecord(0, 2), RawRecord(2, 2)});
  r = CountOne(under, "dedup");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("layer 1: 4 tokens in records, header says 5"),
            std::string::npos)
      << r.status().message();
  // Cut inside the second record.
  const std::string cut = dir.Path("cut.trace");
  WriteRaw(cut, RawHeader(4), {RawRecord(0, 2), RawRecord(2, 2)});
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) - 3);
  r = CountOne(cut, "dedup");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(cut + ": record 2: truncated"), std::string::npos)
      << r.status().message();
  // A file whose header is not the one the plans were made for.
  {
    const std::string before = dir.Path("before.trace");
    WriteRaw(before, RawHeader(4), {RawRecord(0, 4)});
    Result<trace::Trace> skeleton = ReadTraceSkeleton(before);
    ASSERT_TRUE(skeleton.ok());
    WriteRaw(before, RawHeader(6), {RawRecord(0, 6)});
    static const proto::Model model = SmallModel();
    const placement::LayerPlacements placements(*placement::Contiguous(16, 4));
    const dispatch::ClusterMap cluster = dispatch::ClusterMap::SingleHost(4);
    auto dedup = dispatch::MakeStrategy("dedup");
    ASSERT_TRUE(dedup.ok());
    r = CountStreamed(before, {PlanInputs{*skeleton, model, placements, **dedup, cluster}});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(before + ": changed while it was read"), std::string::npos)
        << r.status().message();
  }
  // A planning error of a counted layer: c2r without its profile.
  const std::string good = dir.Path("good.trace");
  WriteRaw(good, RawHeader(4), {RawRecord(0, 4)});
  EXPECT_TRUE(CountOne(good, "dedup").ok());
  r = CountOne(good, "c2r:2");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("needs a profile of layer 1"), std::string::npos)
      << r.status().message();
}

TEST(StreamsTraceTest, OnlyWhereNothingNeedsTheReplayedTraceInMemory) {
  auto dedup = dispatch::MakeStrategy("dedup");
  auto luffy = dispatch::MakeStrategy("luffy:2:4");
  auto c2r = dispatch::MakeStrategy("c2r:2");
  ASSERT_TRUE(dedup.ok() && luffy.ok() && c2r.ok());
  RunFlags f;
  f.trace = "t.trace";
  EXPECT_TRUE(StreamsTrace(f, "contiguous", {dedup->get()}));
  EXPECT_TRUE(StreamsTrace(f, "round-robin", {dedup->get()}));
  EXPECT_TRUE(StreamsTrace(f, "my-placement.textproto", {dedup->get()}));
  EXPECT_FALSE(StreamsTrace(f, "occult", {dedup->get()}));
  EXPECT_FALSE(StreamsTrace(f, "replicate:2", {dedup->get()}));
  EXPECT_FALSE(StreamsTrace(f, "contiguous", {dedup->get(), luffy->get()}));
  EXPECT_FALSE(StreamsTrace(f, "contiguous", {c2r->get()}));
  f.pass = "train";
  EXPECT_TRUE(StreamsTrace(f, "contiguous", {dedup->get()}));
  f.pass = "decode";
  EXPECT_FALSE(StreamsTrace(f, "contiguous", {dedup->get()}));
  f.pass = "prefill";
  f.profile = "profile.trace";  // placement and c2r profiles from another file
  EXPECT_TRUE(StreamsTrace(f, "occult", {c2r->get()}));
  f.trace.clear();  // synthetic
  EXPECT_FALSE(StreamsTrace(f, "contiguous", {dedup->get()}));
}

}  // namespace
}  // namespace epsim::plan
