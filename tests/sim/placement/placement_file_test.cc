// Placement files: round trip and bad files (placement_file.h).
#include "sim/placement/placement_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/placement/algorithms.h"
#include "tests/sim/placement/test_profiles.h"

namespace epsim::placement {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

std::string WriteText(const std::string& name, const std::string& text) {
  const std::string path = TempPath(name);
  std::ofstream(path) << text;
  return path;
}

TEST(PlacementFileTest, RoundTripKeepsEveryLayerAndReplica) {
  const trace::Trace trace = testing::ClusteredTrace(16, 4, 4, 200, 3, 3);
  auto placements = ComputePlacement({"replicate", 4, 1}, trace::ComputeTraceStats(trace), &trace);
  ASSERT_TRUE(placements.ok()) << placements.status().ToString();
  proto::PlacementFile file = ToProto(*placements);
  file.set_description("test");
  const std::string path = TempPath("round_trip.textproto");
  ASSERT_TRUE(WritePlacementFile(path, file).ok());
  auto back = ReadPlacementFile(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->name(), "replicate");
  ASSERT_EQ(back->per_layer().size(), 3u);
  for (uint32_t layer : {1u, 2u, 3u, 7u})
    for (uint32_t e = 0; e < 16; ++e)
      EXPECT_EQ(back->ForLayer(layer).RanksOf(e), placements->ForLayer(layer).RanksOf(e));
  // Write, read, write: the same text.
  proto::PlacementFile again = ToProto(*back);
  again.set_description("test");
  EXPECT_EQ(again.DebugString(), file.DebugString());
}

// A 4-expert, 2-rank file with the given layer blocks.
std::string File(const std::string& layers) {
  return "algorithm: \"custom\" num_experts: 4 num_ranks: 2\n" + layers;
}
constexpr char kGoodLayer[] =
    "experts { ranks: 0 } experts { ranks: 0 } experts { ranks: 1 } experts { ranks: 1 } }\n";

void ExpectBadInput(const std::string& name, const std::string& text, const std::string& where) {
  const std::string path = WriteText(name, text);
  auto p = ReadPlacementFile(path);
  ASSERT_FALSE(p.ok()) << name;
  EXPECT_EQ(p.status().code(), Status::Code::kBadInput) << name;
  EXPECT_NE(p.status().message().find(path), std::string::npos) << p.status().message();
  EXPECT_NE(p.status().message().find(where), std::string::npos) << p.status().message();
}

TEST(PlacementFileTest, BadFilesNameTheFileAndLayer) {
  ExpectBadInput("rank.textproto",
                 File(std::string("layers { layer: 3 ") + kGoodLayer +
                      "layers { layer: 5 experts { ranks: 0 } experts { ranks: 2 } "
                      "experts { ranks: 1 } experts { ranks: 1 } }"),
                 "layer 5: placement custom: expert 1 on rank 2 >= num_ranks 2");
  ExpectBadInput("count.textproto",
                 File(std::string("layers { layer: 3 ") + kGoodLayer +
                      "layers { layer: 4 experts { ranks: 0 } experts { ranks: 1 } }"),
                 "layer 4: lists 2 experts, expected num_experts 4");
  ExpectBadInput("order.textproto",
                 File(std::string("layers { layer: 5 ") + kGoodLayer + "layers { layer: 3 " +
                      kGoodLayer),
                 "layer 3: layers must be listed in ascending order");
}

}  // namespace
}  // namespace epsim::placement
