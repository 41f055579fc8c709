// Every schema survives a round trip: the shipped text-format files
// (models/, topologies/) print and parse back to the same message, and the
// binary messages the planner and engine exchange (Schedule, Report)
// serialize and parse back unchanged.
#include <filesystem>

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "sim/base/file_util.h"
#include "sim/proto/model.pb.h"
#include "sim/proto/report.pb.h"
#include "sim/proto/schedule.pb.h"
#include "sim/proto/topology.pb.h"
#include "sim/proto/trace.pb.h"

namespace epsim::proto {
namespace {

using google::protobuf::Message;
using google::protobuf::TextFormat;
using google::protobuf::util::MessageDifferencer;

template <typename M>
void ExpectTextRoundTrip(const std::string& folder) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::string(EPSIM_SOURCE_DIR) + "/" + folder)) {
    if (entry.path().extension() != ".textproto") continue;
    ++files;
    M first, second;
    ASSERT_TRUE(ReadTextProto(entry.path().string(), &first).ok()) << entry.path();
    std::string text;
    ASSERT_TRUE(TextFormat::PrintToString(first, &text));
    ASSERT_TRUE(TextFormat::ParseFromString(text, &second));
    EXPECT_TRUE(MessageDifferencer::Equals(first, second)) << entry.path();
  }
  EXPECT_GT(files, 0) << "no .textproto files under " << folder;
}

template <typename M>
void ExpectBinaryRoundTrip(const M& message) {
  M parsed;
  ASSERT_TRUE(parsed.ParseFromString(message.SerializeAsString()));
  EXPECT_TRUE(MessageDifferencer::Equals(message, parsed));
  EXPECT_EQ(parsed.SerializeAsString(), message.SerializeAsString());
}

TEST(SchemaRoundTripTest, ModelFiles) { ExpectTextRoundTrip<Model>("models"); }

TEST(SchemaRoundTripTest, TopologyFiles) { ExpectTextRoundTrip<Topology>("topologies"); }

TEST(SchemaRoundTripTest, ScheduleAndReport) {
  Schedule s;
  s.set_strategy("dedup");
  s.set_num_ranks(2);
  Phase* p = s.add_phases();
  p->set_kind(DISPATCH);
  for (uint64_t b : {0, 4096, 8192, 0}) p->add_send_bytes(b);
  Phase* e = s.add_phases();
  e->set_id(1);
  e->set_kind(EXPERT);
  e->add_depends_on(0);
  Kernel* k = e->add_work()->add_kernels();
  k->set_name("expert");
  k->set_flops(1.5e9);
  ExpectBinaryRoundTrip(s);

  Report r;
  r.set_source("simulated");
  r.set_total_time_s(1.25e-3);
  PhaseTiming* t = r.add_phases();
  t->set_kind(COMBINE);
  t->set_end_s(3e-6);
  (*r.mutable_settings())["network/model"] = "CM02";
  ExpectBinaryRoundTrip(r);
}

TEST(SchemaRoundTripTest, TraceHeaderKeepsCandidatesAndProvenance) {
  TraceHeader h;
  h.set_num_experts(64);
  h.set_num_topk(6);
  h.set_num_candidates(10);
  h.mutable_provenance()->add_source_files("layer2.csv");
  h.add_layers()->set_num_tokens(2048);
  ExpectBinaryRoundTrip(h);
}

}  // namespace
}  // namespace epsim::proto
