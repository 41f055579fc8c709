// The shipped text-format files (models/, topologies/) print and parse
// back to the same message: none relies on a field this build's schema
// lacks or spells another way. (Files written by earlier builds are
// old_files_test.cc's.)
#include <filesystem>

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "sim/base/file_util.h"
#include "sim/proto/model.pb.h"
#include "sim/proto/topology.pb.h"

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

TEST(SchemaRoundTripTest, ModelFiles) { ExpectTextRoundTrip<Model>("models"); }

TEST(SchemaRoundTripTest, TopologyFiles) { ExpectTextRoundTrip<Topology>("topologies"); }

}  // namespace
}  // namespace epsim::proto
