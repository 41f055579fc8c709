// Placements of E experts on D ranks when D does not divide E: every
// built-in algorithm gives rank r exactly BalancedExpertCounts(E, D)[r]
// primary copies (E / D, the first E mod D ranks one more).
#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sim/placement/algorithms.h"
#include "sim/placement/placement.h"
#include "tests/sim/placement/test_profiles.h"

namespace epsim::placement {
namespace {

using testing::ClusteredTrace;
using testing::StatsFromMatrix;

std::vector<uint32_t> RankOf(const Placement& p) {
  std::vector<uint32_t> out(p.num_experts());
  for (uint32_t e = 0; e < p.num_experts(); ++e) out[e] = p.RankOf(e);
  return out;
}

std::vector<uint32_t> PrimaryCounts(const Placement& p) {
  std::vector<uint32_t> counts(p.num_ranks(), 0);
  for (uint32_t e = 0; e < p.num_experts(); ++e) ++counts[p.RankOf(e)];
  return counts;
}

// 2 hosts x 8 GPUs, each host's GPUs under one root complex, hosts joined
// through NICs and a network switch.
proto::Topology TwoHostsOfEight() {
  std::string text = R"(name: "two-by-eight" nodes { name: "net" kind: NETWORK_SWITCH })";
  for (int h = 0; h < 2; ++h) {
    const std::string H = std::to_string(h);
    text += "nodes { name: \"cpu" + H + "\" kind: CPU host: " + H + " }";
    text += "nodes { name: \"rc" + H + "\" kind: ROOT_COMPLEX host: " + H + " }";
    text += "nodes { name: \"nic" + H + "\" kind: NIC host: " + H + " }";
    text += "links { name: \"m" + H + "\" a: \"rc" + H + "\" b: \"cpu" + H + "\" kind: MEMORY }";
    text += "links { name: \"nl" + H + "\" a: \"nic" + H + "\" b: \"rc" + H + "\" kind: PCIE }";
    text += "links { name: \"n" + H + "\" a: \"nic" + H + "\" b: \"net\" kind: NETWORK }";
    for (int g = 0; g < 8; ++g) {
      const std::string G = std::to_string(8 * h + g);
      text += "nodes { name: \"gpu" + G + "\" kind: GPU host: " + H + " }";
      text += "links { name: \"g" + G + "\" a: \"gpu" + G + "\" b: \"rc" + H + "\" kind: PCIE }";
    }
  }
  proto::Topology t;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &t));
  return t;
}

// Off-diagonal weights of 5 experts: {0, 3, 4} collaborate (10, 8, 1) and
// so do {1, 2} (9); nothing else.
trace::TraceStats FiveExperts() {
  std::vector<std::vector<uint64_t>> w(5, std::vector<uint64_t>(5, 0));
  auto set = [&](int i, int j, uint64_t v) { w[i][j] = w[j][i] = v; };
  set(0, 3, 10);
  set(3, 4, 8);
  set(0, 4, 1);
  set(1, 2, 9);
  return StatsFromMatrix(w);
}

TEST(BalancedExpertCountsTest, TheFirstRanksTakeTheRemainder) {
  EXPECT_EQ(BalancedExpertCounts(60, 8), (std::vector<uint32_t>{8, 8, 8, 8, 7, 7, 7, 7}));
  std::vector<uint32_t> sixteen(16, 3);
  std::fill(sixteen.begin(), sixteen.begin() + 12, 4);
  EXPECT_EQ(BalancedExpertCounts(60, 16), sixteen);
  EXPECT_EQ(BalancedExpertCounts(64, 8), std::vector<uint32_t>(8, 8));
  EXPECT_EQ(BalancedExpertCounts(5, 5), std::vector<uint32_t>(5, 1));
}

TEST(UnevenPlacementTest, ContiguousAndRoundRobinExactMaps) {
  // 10 experts on 4 ranks: 3, 3, 2, 2.
  auto contiguous = Contiguous(10, 4);
  ASSERT_TRUE(contiguous.ok()) << contiguous.status().ToString();
  EXPECT_EQ(RankOf(*contiguous), (std::vector<uint32_t>{0, 0, 0, 1, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(contiguous->ExpertsOn(1), (std::vector<uint32_t>{3, 4, 5}));
  auto round_robin = MakePlacement("round-robin", 10, 4);
  ASSERT_TRUE(round_robin.ok()) << round_robin.status().ToString();
  EXPECT_EQ(RankOf(*round_robin), (std::vector<uint32_t>{0, 1, 2, 3, 0, 1, 2, 3, 0, 1}));
  EXPECT_EQ(round_robin->ExpertsOn(1), (std::vector<uint32_t>{1, 5, 9}));
  // 60 on 8: [0, 8) on rank 0 ... [32, 39) on rank 4, [53, 60) on rank 7.
  auto sixty = Contiguous(60, 8);
  ASSERT_TRUE(sixty.ok());
  EXPECT_EQ(sixty->ExpertsOn(4).front(), 32u);
  EXPECT_EQ(sixty->ExpertsOn(7), (std::vector<uint32_t>{53, 54, 55, 56, 57, 58, 59}));
}

TEST(UnevenPlacementTest, FewerExpertsThanRanksIsBadInputNamingBoth) {
  auto bad = MakePlacement("contiguous", 3, 4);
  EXPECT_EQ(bad.status().code(), Status::Code::kBadInput);
  EXPECT_EQ(bad.status().message(),
            "contiguous placement: 3 experts on 4 devices would leave a device without an "
            "expert (use at most 3 devices, or a placement file)");
  EXPECT_EQ(MakePlacement("round-robin", 3, 4).status().code(), Status::Code::kBadInput);
  const trace::TraceStats stats = FiveExperts();
  for (const char* name : {"occult", "partition"})
    EXPECT_EQ(ComputePlacement({name, 6}, stats).status().code(), Status::Code::kBadInput)
        << name;
  EXPECT_EQ(ComputePlacement({"replicate", 6, 1}, stats).status().code(),
            Status::Code::kBadInput);
  EXPECT_EQ(ComputePlacement({"partition", 0}, stats).status().code(), Status::Code::kUsage);
}

// Occult's greedy on 2 ranks of 3 and 2 experts: the heaviest pair (0, 3)
// seeds rank 0, which grows by 4 (weight 9 to it); 1 and 2 fill rank 1.
// That is also the only split keeping all the weight, so partition agrees.
TEST(UnevenPlacementTest, OccultAndPartitionOnAHandCheckableGraph) {
  const trace::TraceStats stats = FiveExperts();
  for (const char* name : {"occult", "partition"}) {
    auto p = ComputePlacement({name, 2}, stats);
    ASSERT_TRUE(p.ok()) << name << ": " << p.status().ToString();
    EXPECT_EQ(RankOf(p->ForLayer(0)), (std::vector<uint32_t>{0, 1, 1, 0, 0})) << name;
  }
}

// The same graph, replicate:1. Loads (row sums) 11, 9, 9, 18, 9; in units
// of 1/2 token rank 0 carries 76 and rank 1 36. A copy of expert 3 on rank
// 1 gives 58 / 54, the best first copy; any copy onto rank 0 then raises
// its 58, so rank 0's slot stays free.
TEST(UnevenPlacementTest, ReplicateOnAHandCheckableGraph) {
  auto p = ComputePlacement({"replicate", 2, 1}, FiveExperts());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const Placement& r = p->ForLayer(0);
  EXPECT_EQ(r.RanksOf(3), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(r.ExpertsOn(0), (std::vector<uint32_t>{0, 3, 4}));
  EXPECT_EQ(r.ExpertsOn(1), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(DescribeExpertsPerDevice(*p),
            "3 (1 device), 2 (1 device) + replicas: 3 copies per device");
}

// Every algorithm at 60 experts on 8 and on 16 ranks (16 also split along
// two hosts): each expert's primary once, exactly the balanced counts per
// rank, replicas within one slot per rank.
TEST(UnevenPlacementTest, SixtyExpertsOnEightAndSixteenRanksEveryAlgorithm) {
  const trace::Trace trace = ClusteredTrace(60, 4, 6, 300, 2, 11);
  const trace::TraceStats stats = trace::ComputeTraceStats(trace);
  const proto::Topology hosts = TwoHostsOfEight();
  struct Case {
    uint32_t ranks;
    const proto::Topology* topology;
    std::string described;
  };
  const std::vector<Case> cases = {{8, nullptr, "8 (4 devices), 7 (4 devices)"},
                                   {16, nullptr, "4 (12 devices), 3 (4 devices)"},
                                   {16, &hosts, "4 (12 devices), 3 (4 devices)"}};
  for (const Case& c : cases) {
    const std::vector<uint32_t> counts = BalancedExpertCounts(60, c.ranks);
    for (const std::string& name : AlgorithmNames()) {
      const std::string what = name + " on " + std::to_string(c.ranks) +
                               (c.topology ? " with topology" : "");
      PlacementSpec spec{name, c.ranks, name == "replicate" ? 1u : 0u, c.topology};
      auto p = ComputePlacement(spec, stats, &trace);
      ASSERT_TRUE(p.ok()) << what << ": " << p.status().ToString();
      for (uint32_t layer : {1u, 2u}) {
        const Placement& l = p->ForLayer(layer);
        EXPECT_EQ(PrimaryCounts(l), counts) << what << " layer " << layer;
        for (uint32_t r = 0; r < c.ranks; ++r)
          EXPECT_LE(l.ExpertsOn(r).size(), counts[r] + spec.replica_slots) << what;
        for (uint32_t e = 0; e < 60 && name != "replicate"; ++e)
          EXPECT_EQ(l.RanksOf(e).size(), 1u) << what << " expert " << e;
      }
      const std::string described = DescribeExpertsPerDevice(*p);
      EXPECT_EQ(described.substr(0, c.described.size()), c.described) << what;
      EXPECT_EQ(described.size() == c.described.size(), name != "replicate") << described;
    }
  }
}

TEST(DescribeExpertsPerDeviceTest, EvenUnevenAndLayersThatDiffer) {
  EXPECT_EQ(DescribeExpertsPerDevice(LayerPlacements(*Contiguous(8, 4))), "2 (4 devices)");
  EXPECT_EQ(DescribeExpertsPerDevice(LayerPlacements(*Contiguous(7, 3))),
            "3 (1 device), 2 (2 devices)");
  LayerPlacements mixed(*Contiguous(4, 2));
  ASSERT_TRUE(mixed.Set(5, *Placement::Make("file", 2, {0, 0, 0, 1})).ok());
  EXPECT_EQ(DescribeExpertsPerDevice(mixed), "2 (2 devices); other layers differ");
}

}  // namespace
}  // namespace epsim::placement
