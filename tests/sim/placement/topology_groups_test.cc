// Rank groups from topology graphs, and topology-aware partition.
#include "sim/placement/topology_groups.h"

#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>

#include "sim/placement/algorithms.h"
#include "tests/sim/placement/test_profiles.h"

namespace epsim::placement {
namespace {

proto::Topology Parse(const std::string& text) {
  proto::Topology t;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &t));
  return t;
}

// 4 GPUs on one root complex; NVLink bridges join gpu0-gpu1 and gpu2-gpu3.
proto::Topology TwoNvlinkPairs() {
  std::string text = R"(name: "pairs"
    nodes { name: "cpu0" kind: CPU } nodes { name: "rc0" kind: ROOT_COMPLEX }
    links { name: "rc" a: "rc0" b: "cpu0" kind: MEMORY }
    links { name: "nv01" a: "gpu0" b: "gpu1" kind: NVLINK }
    links { name: "nv23" a: "gpu2" b: "gpu3" kind: NVLINK })";
  for (int g = 0; g < 4; ++g)
    text += "nodes { name: \"gpu" + std::to_string(g) + "\" kind: GPU }" +
            " links { name: \"p" + std::to_string(g) + "\" a: \"gpu" + std::to_string(g) +
            "\" b: \"rc0\" kind: PCIE }";
  return Parse(text);
}

// 2 hosts x 2 sockets x 1 PCIe switch x 2 GPUs, switch under the socket's
// root complex; hosts joined by a network switch through NICs.
proto::Topology TwoHosts() {
  std::string text = R"(name: "cluster" nodes { name: "net" kind: NETWORK_SWITCH })";
  int gpu = 0;
  for (int h = 0; h < 2; ++h) {
    const std::string H = std::to_string(h);
    text += "nodes { name: \"nic" + H + "\" kind: NIC host: " + H + " }";
    text += "links { name: \"n" + H + "\" a: \"nic" + H + "\" b: \"net\" kind: NETWORK }";
    for (int s = 0; s < 2; ++s) {
      const std::string S = H + std::to_string(s);
      text += "nodes { name: \"cpu" + S + "\" kind: CPU host: " + H + " }";
      text += "nodes { name: \"rc" + S + "\" kind: ROOT_COMPLEX host: " + H + " }";
      text += "nodes { name: \"sw" + S + "\" kind: PCIE_SWITCH host: " + H + " }";
      text += "links { name: \"m" + S + "\" a: \"rc" + S + "\" b: \"cpu" + S + "\" kind: MEMORY }";
      text += "links { name: \"u" + S + "\" a: \"sw" + S + "\" b: \"rc" + S + "\" kind: PCIE }";
      for (int g = 0; g < 2; ++g, ++gpu) {
        const std::string G = std::to_string(gpu);
        text += "nodes { name: \"gpu" + G + "\" kind: GPU host: " + H + " }";
        text += "links { name: \"g" + G + "\" a: \"gpu" + G + "\" b: \"sw" + S + "\" kind: PCIE }";
      }
    }
    text += "links { name: \"x" + H + "\" a: \"cpu" + H + "0\" b: \"cpu" + H +
            "1\" kind: CPU_INTERCONNECT }";
    text += "links { name: \"nicl" + H + "\" a: \"nic" + H + "\" b: \"sw" + H +
            "0\" kind: PCIE }";
  }
  return Parse(text);
}

TEST(RankHierarchyTest, NvlinkPairsUnderOneRootComplex) {
  auto g = RankHierarchy(TwoNvlinkPairs(), 4);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Describe(*g), "cluster{nvlink{0,1},nvlink{2,3}}");
}

TEST(RankHierarchyTest, HostsSocketsAndSwitchesNest) {
  auto g = RankHierarchy(TwoHosts(), 8);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Describe(*g),
            "cluster{host{pcie-switch{0,1},pcie-switch{2,3}},"
            "host{pcie-switch{4,5},pcie-switch{6,7}}}");
}

// The host backend: 2 hosts x 2 sockets x 2 CPU processes, each process on
// a MEMORY link to its socket; sockets joined by their interconnect, hosts
// by NICs on socket 0.
proto::Topology TwoHostsOfProcesses() {
  std::string text = R"(name: "procs" nodes { name: "net" kind: NETWORK_SWITCH })";
  int rank = 0;
  for (int h = 0; h < 2; ++h) {
    const std::string H = std::to_string(h);
    text += "nodes { name: \"nic" + H + "\" kind: NIC host: " + H + " }";
    text += "links { name: \"n" + H + "\" a: \"nic" + H + "\" b: \"net\" kind: NETWORK }";
    text += "links { name: \"nicl" + H + "\" a: \"nic" + H + "\" b: \"cpu" + H +
            "0\" kind: PCIE }";
    text += "links { name: \"x" + H + "\" a: \"cpu" + H + "0\" b: \"cpu" + H +
            "1\" kind: CPU_INTERCONNECT }";
    for (int s = 0; s < 2; ++s) {
      const std::string S = H + std::to_string(s);
      text += "nodes { name: \"cpu" + S + "\" kind: CPU host: " + H + " }";
      for (int p = 0; p < 2; ++p, ++rank) {
        const std::string R = std::to_string(rank);
        text += "nodes { name: \"proc" + R + "\" kind: PROCESS host: " + H + " }";
        text += "links { name: \"m" + R + "\" a: \"proc" + R + "\" b: \"cpu" + S +
                "\" kind: MEMORY }";
      }
    }
  }
  return Parse(text);
}

TEST(RankHierarchyTest, ProcessesGroupBySocketAndHost) {
  const proto::Topology topo = TwoHostsOfProcesses();
  auto g = RankHierarchy(topo, 8);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Describe(*g), "cluster{host{socket{0,1},socket{2,3}},host{socket{4,5},socket{6,7}}}");
  EXPECT_EQ(HostOfRank(&topo, 8), (std::vector<uint32_t>{0, 0, 0, 0, 1, 1, 1, 1}));
  const Status too_many = RankHierarchy(topo, 9).status();
  EXPECT_NE(too_many.message().find("8 processes, placement needs 9"), std::string::npos)
      << too_many.message();
}

TEST(RankHierarchyTest, FlatWithoutSwitchesOrBridges) {
  proto::Topology flat = Parse(R"(name: "flat"
    nodes { name: "rc0" kind: ROOT_COMPLEX }
    nodes { name: "gpu0" kind: GPU } nodes { name: "gpu1" kind: GPU }
    nodes { name: "gpu2" kind: GPU }
    links { name: "a" a: "gpu0" b: "rc0" kind: PCIE }
    links { name: "b" a: "gpu1" b: "rc0" kind: PCIE }
    links { name: "c" a: "gpu2" b: "rc0" kind: PCIE })");
  auto g = RankHierarchy(flat, 3);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(Describe(*g), "cluster{0,1,2}");
  EXPECT_EQ(RankHierarchy(flat, 4).status().code(), Status::Code::kBadInput);
}

TEST(TopologyAwarePartitionTest, CollaboratingGroupsShareAnNvlinkPair) {
  // Experts {0..3} collaborate (10 per pair), as do {4..7}; inside each,
  // pairs {0,1} {2,3} {4,5} {6,7} collaborate most (20); across groups 1.
  // Every flat split into these four pairs is equally good; only the
  // topology says {0..3} belong on one NVLink pair.
  std::vector<std::vector<uint64_t>> w(8, std::vector<uint64_t>(8, 1));
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) {
      if (i == j) w[i][j] = 0;
      else if (i / 4 == j / 4) w[i][j] = i / 2 == j / 2 ? 20 : 10;
    }
  const trace::TraceStats stats = testing::StatsFromMatrix(w);
  const proto::Topology topo = TwoNvlinkPairs();
  PlacementSpec spec{"partition", 4};
  spec.topology = &topo;
  auto p = ComputePlacement(spec, stats);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const Placement& pl = p->ForLayer(0);
  auto pair_of = [&](uint32_t e) { return pl.RankOf(e) / 2; };  // ranks {0,1} and {2,3}
  for (uint32_t e : {1u, 2u, 3u}) EXPECT_EQ(pair_of(e), pair_of(0)) << "expert " << e;
  for (uint32_t e : {5u, 6u, 7u}) EXPECT_EQ(pair_of(e), pair_of(4)) << "expert " << e;
  EXPECT_EQ(pl.RankOf(0), pl.RankOf(1));
  EXPECT_EQ(pl.RankOf(6), pl.RankOf(7));
}

}  // namespace
}  // namespace epsim::placement
