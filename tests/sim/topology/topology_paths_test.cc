#include "sim/topology/topology_paths.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sim/topology/topology.h"
#include "sim/topology/transport.h"
#include "tests/sim/topology/topology_test_util.h"

namespace epsim::topology {
namespace {

using testing::AddLink;
using testing::AddNode;
using testing::Star;

std::vector<std::string> LinkNames(const std::vector<const proto::Link*>& path) {
  std::vector<std::string> names;
  for (const proto::Link* link : path) names.push_back(link->name());
  return names;
}

std::vector<std::string> PathNames(const proto::Topology& topo, const std::string& from,
                                   const std::string& to) {
  auto path = RankPath(topo, from, to);
  EXPECT_TRUE(path.ok()) << path.status().ToString();
  return path.ok() ? LinkNames(*path) : std::vector<std::string>{};
}

// gpu0..gpu<n-1> on one node `hub` of `kind`, links of `bw` GB/s and 1 us.
proto::Topology Hub(int n, proto::ComponentKind kind, double bw) {
  proto::Topology topo = Star(n, bw, 1);
  topo.mutable_nodes(0)->set_kind(kind);
  for (proto::Link& link : *topo.mutable_links()) link.set_kind(proto::PCIE);
  return topo;
}

// Two sockets: gpu0, gpu1 on rc0 - cpu0; gpu2, gpu3 on rc1 - cpu1; cpu0 - cpu1.
proto::Topology TwoSockets() {
  proto::Topology topo;
  topo.set_name("two-sockets");
  *topo.mutable_gpu() = testing::UnitGpu();
  for (int s = 0; s < 2; ++s) {
    const std::string rc = "rc" + std::to_string(s), cpu = "cpu" + std::to_string(s);
    AddNode(&topo, cpu, proto::CPU);
    AddNode(&topo, rc, proto::ROOT_COMPLEX);
    AddLink(&topo, rc, cpu, 100, 0);
    for (int g = 2 * s; g < 2 * s + 2; ++g) {
      AddNode(&topo, "gpu" + std::to_string(g), proto::GPU);
      AddLink(&topo, "gpu" + std::to_string(g), rc, 24, 1);
    }
  }
  AddLink(&topo, "cpu0", "cpu1", 10, 1);
  return topo;
}

// The engine's route between two ranks with peer-to-peer forced on: the
// topology route, with its summed latency and bottleneck.
PairRoute P2pRoute(const proto::Topology& topo, int src, int dst) {
  Result<TransportTable> table = TransportTable::Build(topo, proto::P2P_ON);
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return table.ok() ? table->Pair(src, dst) : PairRoute();
}

TEST(RankPathTest, SwitchRouteIsTwoLinksThroughTheSwitch) {
  proto::Topology topo = Hub(4, proto::PCIE_SWITCH, 24);
  EXPECT_EQ(PathNames(topo, "gpu0", "gpu3"),
            (std::vector<std::string>{"gpu0-switch", "gpu3-switch"}));
  const PairRoute route = P2pRoute(topo, 0, 3);
  EXPECT_DOUBLE_EQ(route.link_latency_us, 2);
  EXPECT_DOUBLE_EQ(route.bottleneck_gb_per_s, 24);
}

TEST(RankPathTest, RootPortRouteStaysOnItsSocket) {
  EXPECT_EQ(PathNames(TwoSockets(), "gpu0", "gpu1"),
            (std::vector<std::string>{"gpu0-rc0", "gpu1-rc0"}));
}

TEST(RankPathTest, CrossSocketRouteCrossesTheSocketLink) {
  proto::Topology topo = TwoSockets();
  EXPECT_EQ(PathNames(topo, "gpu1", "gpu2"),
            (std::vector<std::string>{"gpu1-rc0", "rc0-cpu0", "cpu0-cpu1", "rc1-cpu1",
                                      "gpu2-rc1"}));
  const PairRoute route = P2pRoute(topo, 1, 2);
  EXPECT_DOUBLE_EQ(route.link_latency_us, 3);
  EXPECT_DOUBLE_EQ(route.bottleneck_gb_per_s, 10);
}

TEST(RankPathTest, NvlinkPairTakesTheBridge) {
  proto::Topology topo = TwoSockets();
  AddLink(&topo, "gpu0", "gpu1", 48, 0.6);
  topo.mutable_links(topo.links_size() - 1)->set_kind(proto::NVLINK);
  EXPECT_EQ(PathNames(topo, "gpu1", "gpu0"), (std::vector<std::string>{"gpu0-gpu1"}));
  // The unbridged pair still goes through the root complex, not the bridge.
  AddLink(&topo, "gpu2", "gpu3", 48, 0.6);
  EXPECT_EQ(PathNames(topo, "gpu0", "gpu2").size(), 5u);
}

TEST(RankPathTest, NetworkRouteCrossesBothNics) {
  proto::Topology topo;
  topo.set_name("two-nodes");
  *topo.mutable_gpu() = testing::UnitGpu();
  AddNode(&topo, "net", proto::NETWORK_SWITCH);
  for (int h = 0; h < 2; ++h) {
    const std::string p = "n" + std::to_string(h) + "-";
    AddNode(&topo, p + "gpu0", proto::GPU);
    AddNode(&topo, p + "nic", proto::NIC);
    topo.mutable_nodes(topo.nodes_size() - 1)->set_host(h);
    AddLink(&topo, p + "gpu0", p + "nic", 24, 1);
    AddLink(&topo, p + "nic", "net", 12.5, 1.35);
  }
  EXPECT_EQ(PathNames(topo, "n0-gpu0", "n1-gpu0"),
            (std::vector<std::string>{"n0-gpu0-n0-nic", "n0-nic-net", "n1-nic-net",
                                      "n1-gpu0-n1-nic"}));
  const PairRoute route = P2pRoute(topo, 0, 1);
  EXPECT_DOUBLE_EQ(route.link_latency_us, 4.7);
  EXPECT_DOUBLE_EQ(route.bottleneck_gb_per_s, 12.5);
}

TEST(RankPathTest, TiesGoToTheNodeListedFirst) {
  // gpu0 and gpu1 joined through x and through y (two links each): SimGrid's
  // Floyd routing keeps the first intermediate in node order.
  for (bool y_first : {false, true}) {
    proto::Topology topo;
    topo.set_name("diamond");
    *topo.mutable_gpu() = testing::UnitGpu();
    AddNode(&topo, "gpu0", proto::GPU);
    AddNode(&topo, "gpu1", proto::GPU);
    AddNode(&topo, y_first ? "y" : "x", proto::PCIE_SWITCH);
    AddNode(&topo, y_first ? "x" : "y", proto::PCIE_SWITCH);
    for (const char* mid : {"x", "y"}) {
      AddLink(&topo, "gpu0", mid, 24, 1);
      AddLink(&topo, mid, "gpu1", 24, 1);
    }
    const std::string mid = y_first ? "y" : "x";
    EXPECT_EQ(PathNames(topo, "gpu0", "gpu1"),
              (std::vector<std::string>{"gpu0-" + mid, mid + "-gpu1"}));
  }
}

TEST(RankPathTest, RejectsUnknownGpu) {
  auto path = RankPath(Star(2, 450, 1), "gpu0", "switch");
  EXPECT_EQ(path.status().code(), Status::Code::kBadInput);
  EXPECT_NE(path.status().message().find("no GPU named 'switch'"), std::string::npos);
}

bool HasFinding(const CheckSummary& s, Finding::Severity severity, const std::string& where,
                const std::string& words) {
  for (const Finding& f : s.findings)
    if (f.severity == severity && f.where == where && f.message.find(words) != std::string::npos)
      return true;
  return false;
}

TEST(CheckTopologyTest, StarIsOkAndSymmetric) {
  CheckSummary s = CheckTopology(Star(4, 450, 1));
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(s.findings.empty());
  EXPECT_EQ(s.num_ranks, 4);
  EXPECT_EQ(s.num_links, 4);
  EXPECT_EQ(s.asymmetric_pairs, 0);
}

TEST(CheckTopologyTest, FlagsImpossibleBandwidthAndLatency) {
  proto::Topology topo = Star(3, 450, 1);
  topo.mutable_links(0)->set_bw_gb_per_s(5000);
  topo.mutable_links(1)->set_latency_us(2e5);
  CheckSummary s = CheckTopology(topo);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(HasFinding(s, Finding::Severity::kError, "link 'gpu0-switch'",
                         "bw_gb_per_s 5000 outside [1e-06, 2000] GB/s"));
  EXPECT_TRUE(HasFinding(s, Finding::Severity::kError, "link 'gpu1-switch'",
                         "latency_us 200000 outside"));
}

TEST(CheckTopologyTest, FlagsImpossibleGpu) {
  proto::Topology topo = Star(2, 450, 1);
  topo.mutable_gpu()->set_peak_flops(1e17);
  topo.mutable_gpu()->set_memory_efficiency(1.5);
  CheckSummary s = CheckTopology(topo);
  EXPECT_TRUE(HasFinding(s, Finding::Severity::kError, "gpu", "peak_flops"));
  EXPECT_TRUE(HasFinding(s, Finding::Severity::kError, "gpu", "memory_efficiency 1.5"));
}

TEST(CheckTopologyTest, WarnsOnFastPcieAndNvlink) {
  proto::Topology topo = Hub(2, proto::PCIE_SWITCH, 100);
  AddLink(&topo, "gpu0", "gpu1", 1000, 0.6);
  topo.mutable_links(2)->set_kind(proto::NVLINK);
  CheckSummary s = CheckTopology(topo);
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(HasFinding(s, Finding::Severity::kWarning, "link 'gpu0-switch'",
                         "faster than PCIe Gen5 x16"));
  EXPECT_TRUE(HasFinding(s, Finding::Severity::kWarning, "link 'gpu0-gpu1'", "NVLink at 1000"));
}

TEST(CheckTopologyTest, FlagsUnreachableGpu) {
  proto::Topology topo = Star(2, 450, 1);
  AddNode(&topo, "lonely", proto::GPU);
  CheckSummary s = CheckTopology(topo);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(HasFinding(s, Finding::Severity::kError, "topology", "GPU 'lonely' is not connected"));
}

// Every shipped topology loads, validates, passes `epsim topo check` and has
// the GPUs its name promises.
// SHM needs a CPU to stage through: forcing P2P off on a CPU-less star is
// an error of the file, found by check.
TEST(CheckTopologyTest, FlagsPairsWithoutATransport) {
  proto::Topology topo = Star(2, 10, 1);
  topo.mutable_nccl()->set_p2p(proto::P2P_OFF);
  CheckSummary s = CheckTopology(topo);
  EXPECT_FALSE(s.ok());
  ASSERT_FALSE(s.findings.empty());
  EXPECT_EQ(s.findings.back().where, "transport");
  EXPECT_NE(s.findings.back().message.find("has no CPU node"), std::string::npos)
      << s.findings.back().message;
}

TEST(ShippedTopologiesTest, LoadValidateAndPassCheck) {
  const std::map<std::string, int> expected_gpus = {
      {"a6000-x4-pcie-gen4", 4},  {"a6000-x4-pcie-switch", 4}, {"a6000-x8-2socket", 8},
      {"a6000-x8-nvlink-pairs", 8}, {"a6000-2node-x8-100g", 16}, {"a6000-2node-x8-200g", 16},
      {"dgx-a100", 8},            {"dgx-h100", 8},             {"h100-cluster-2node", 16},
      {"h100-cluster-4node", 32}, {"h100-cluster-8node", 64},  {"h100-cluster-32node", 256}};
  std::map<std::string, int> found;
  const std::filesystem::path dir = std::filesystem::path(EPSIM_SOURCE_DIR) / "topologies";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".textproto") continue;
    SCOPED_TRACE(entry.path().filename().string());
    auto topo = LoadTopology(entry.path().string());
    ASSERT_TRUE(topo.ok()) << topo.status().ToString();
    EXPECT_EQ(topo->name(), entry.path().stem().string());
    CheckSummary s = CheckTopology(*topo);
    for (const Finding& f : s.findings)
      EXPECT_NE(f.severity, Finding::Severity::kError) << f.where << ": " << f.message;
    found[topo->name()] = s.num_ranks;
  }
  for (const auto& [name, gpus] : expected_gpus) EXPECT_EQ(found[name], gpus) << name;
}

}  // namespace
}  // namespace epsim::topology
