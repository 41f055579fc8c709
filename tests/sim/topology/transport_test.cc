// The NCCL transport model (sim/topology/transport.h) on the shipped
// topologies and on hand-built ones: which transport each pair gets and why,
// SHM routes, message costs, defaults and bad NCCL blocks.
#include "sim/topology/transport.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sim/topology/topology.h"
#include "tests/sim/topology/topology_test_util.h"

namespace epsim::topology {
namespace {

using testing::AddLink;
using testing::AddNode;

proto::Topology Load(const std::string& name) {
  Result<proto::Topology> topo =
      LoadTopology(std::string(EPSIM_SOURCE_DIR) + "/topologies/" + name + ".textproto");
  EXPECT_TRUE(topo.ok()) << topo.status().ToString();
  return topo.ok() ? *topo : proto::Topology();
}

TransportTable Build(const proto::Topology& topo, proto::P2pPolicy policy = proto::P2P_AUTO) {
  Result<TransportTable> table = TransportTable::Build(topo, policy);
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return table.ok() ? std::move(*table) : TransportTable();
}

TEST(TransportTest, DefaultsAreNcclsFigures) {
  const proto::NcclModel nccl = EffectiveNccl(proto::Topology());
  ASSERT_EQ(nccl.protocols_size(), 2);
  EXPECT_EQ(nccl.protocols(0).name(), "LL");
  EXPECT_EQ(nccl.protocols(0).max_bytes(), 16384u);
  EXPECT_DOUBLE_EQ(nccl.protocols(0).base_latency_us(), 6.6);
  EXPECT_DOUBLE_EQ(nccl.protocols(0).payload_efficiency(), 0.5);
  EXPECT_EQ(nccl.protocols(1).name(), "Simple");
  EXPECT_EQ(nccl.protocols(1).max_bytes(), 0u);
  EXPECT_DOUBLE_EQ(nccl.protocols(1).base_latency_us(), 8.4);
  EXPECT_NEAR(nccl.protocols(1).extra_hop_nvlink_us(), 2.8, 1e-12);
  EXPECT_NEAR(nccl.protocols(1).extra_hop_pcie_us(), 4.7, 1e-12);
  EXPECT_NEAR(nccl.protocols(1).extra_hop_network_us(), 11.3, 1e-12);
  EXPECT_DOUBLE_EQ(nccl.protocols(0).extra_hop_memory_us(), 0);
  EXPECT_DOUBLE_EQ(nccl.protocols(1).extra_hop_memory_us(), 0);
  EXPECT_EQ(nccl.max_peers_in_flight(), 8u);
  EXPECT_DOUBLE_EQ(nccl.host_memory_gb_per_s(), 128);
}

TEST(TransportTest, FileValuesOverrideDefaults) {
  proto::Topology topo;
  topo.mutable_nccl()->set_max_peers_in_flight(0);  // explicit 0 = unlimited, not "unset"
  topo.mutable_nccl()->set_host_memory_gb_per_s(200);
  const proto::NcclModel nccl = EffectiveNccl(topo);
  EXPECT_EQ(nccl.max_peers_in_flight(), 0u);
  EXPECT_DOUBLE_EQ(nccl.host_memory_gb_per_s(), 200);
}

TEST(TransportTest, ProtocolByMessageSize) {
  const TransportTable table = Build(Load("dgx-a100"));
  EXPECT_EQ(table.ProtocolFor(8).name(), "LL");
  EXPECT_EQ(table.ProtocolFor(16384).name(), "LL");
  EXPECT_EQ(table.ProtocolFor(16385).name(), "Simple");
  EXPECT_DOUBLE_EQ(table.WireBytes(0, 1, 1000), 2000);
  EXPECT_DOUBLE_EQ(table.WireBytes(0, 1, 1 << 20), 1 << 20);
  EXPECT_NEAR(table.MessageLatencyUs(0, 1, 8), 6.6 + 0.6, 1e-12);
  EXPECT_NEAR(table.MessageLatencyUs(0, 1, 1 << 20), 8.4 + 2.8 + 0.6, 1e-12);
}

TEST(TransportTest, SwitchlessIntelBoxUsesShmEverywhere) {
  const TransportTable table = Build(Load("a6000-x4-pcie-gen4"));
  EXPECT_EQ(table.Count(Transport::kShm), 12);
  const PairRoute& pair = table.Pair(0, 3);
  EXPECT_EQ(pair.transport, Transport::kShm);
  EXPECT_NE(pair.why.find("root complex 'rc0' (PHB)"), std::string::npos) << pair.why;
  // gpu0-rc0, rc0-cpu0, memory, rc0-cpu0 back, gpu3-rc0 back.
  ASSERT_EQ(pair.hops.size(), 5u);
  EXPECT_EQ(pair.hops[2].link, -1);
  EXPECT_TRUE(pair.hops[0].forward);
  EXPECT_FALSE(pair.hops[3].forward);
  EXPECT_FALSE(pair.hops[4].forward);
  EXPECT_EQ(pair.extra_hops, 2);
  EXPECT_DOUBLE_EQ(pair.bottleneck_gb_per_s, 24);
}

TEST(TransportTest, PcieSwitchBoxUsesP2p) {
  const TransportTable table = Build(Load("a6000-x4-pcie-switch"));
  EXPECT_EQ(table.Count(Transport::kP2p), 12);
  EXPECT_EQ(table.Pair(1, 2).why, "PCIe switches only (PXB)");
  EXPECT_EQ(table.Pair(1, 2).hops.size(), 2u);
}

TEST(TransportTest, GeforceCardsHaveNoPcieP2pWhateverTheCpu) {
  // A PCIe switch box (PXB: P2P for a professional card) and an AMD host.
  for (const char* name : {"a6000-x4-pcie-switch", "a6000-x8-2socket"}) {
    proto::Topology topo = Load(name);
    for (proto::Component& node : *topo.mutable_nodes())
      if (node.kind() == proto::CPU) node.set_cpu_vendor(proto::AMD);
    topo.mutable_gpu()->set_name("NVIDIA GeForce RTX 4090");
    const TransportTable stock = Build(topo);
    EXPECT_EQ(stock.Count(Transport::kP2p), 0) << name;
    EXPECT_NE(stock.Pair(0, 1).why.find("no PCIe P2P on 'NVIDIA GeForce RTX 4090'"),
              std::string::npos) << stock.Pair(0, 1).why;
    // A P2P-enabling driver is a setting of the topology.
    topo.mutable_gpu()->set_pcie_p2p(proto::PCIE_P2P_SUPPORTED);
    EXPECT_GT(Build(topo).Count(Transport::kP2p), 0) << name;
    // And --p2p on still forces it.
    topo.mutable_gpu()->set_pcie_p2p(proto::PCIE_P2P_UNSUPPORTED);
    EXPECT_EQ(Build(topo, proto::P2P_ON).Count(Transport::kP2p), Build(topo, proto::P2P_ON).num_ranks() * (Build(topo, proto::P2P_ON).num_ranks() - 1)) << name;
  }
  proto::GpuSpec gpu;
  gpu.set_name("NVIDIA TITAN RTX");
  EXPECT_FALSE(GpuHasPcieP2p(gpu));
  gpu.set_name("NVIDIA RTX A6000");
  EXPECT_TRUE(GpuHasPcieP2p(gpu));
}

TEST(TransportTest, ShmEfficiencyScalesOnlyShmPairs) {
  proto::Topology topo = Load("a6000-x4-pcie-gen4");
  EXPECT_DOUBLE_EQ(EffectiveNccl(topo).shm_efficiency(), 1);
  topo.mutable_nccl()->set_shm_efficiency(0.5);
  const TransportTable shm = Build(topo);
  ASSERT_EQ(shm.Pair(0, 1).transport, Transport::kShm);
  EXPECT_DOUBLE_EQ(shm.WireBytes(0, 1, 1 << 20), 2.0 * (1 << 20));
  const TransportTable p2p = Build(topo, proto::P2P_ON);
  EXPECT_DOUBLE_EQ(p2p.WireBytes(0, 1, 1 << 20), 1 << 20);
  const TransportTable stock = Build(Load("a6000-x4-pcie-gen4"));
  EXPECT_NEAR(shm.LoneMessageUs(0, 1, 1 << 20) - stock.LoneMessageUs(0, 1, 1 << 20),
              (1 << 20) / (stock.Pair(0, 1).bottleneck_gb_per_s * 1e3), 1e-9);
  for (double bad : {0.0, 1.5, -0.1}) {
    topo.mutable_nccl()->set_shm_efficiency(bad);
    Status st = ValidateNccl(topo);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find("nccl.shm_efficiency"), std::string::npos);
  }
}

TEST(TransportTest, P2pThroughACpuPaysItsForwardingCap) {
  proto::Topology topo = Load("a6000-x8-2socket");
  for (proto::Component& node : *topo.mutable_nodes()) {
    if (node.kind() != proto::CPU) continue;
    node.set_cpu_vendor(proto::AMD);
    node.set_p2p_gb_per_s(node.name() == "cpu0" ? 10 : 7);
  }
  const TransportTable table = Build(topo);
  // Across sockets: both sockets forward; the slower one is the bottleneck.
  const PairRoute& across = table.Pair(0, 4);
  ASSERT_EQ(across.transport, Transport::kP2p);
  int caps = 0;
  for (const Hop& hop : across.hops) caps += hop.p2p_cpu >= 0;
  EXPECT_EQ(caps, 2);
  EXPECT_DOUBLE_EQ(across.bottleneck_gb_per_s, 7);
  // Inside socket 0 through its root complex: the home socket's cap.
  const PairRoute& inside = table.Pair(0, 1);
  ASSERT_EQ(inside.transport, Transport::kP2p);
  ASSERT_EQ(inside.hops.back().p2p_cpu >= 0, true);
  EXPECT_DOUBLE_EQ(inside.bottleneck_gb_per_s, 10);
  // SHM pairs and switch-only P2P pairs have no cap.
  EXPECT_EQ(Build(topo, proto::P2P_OFF).Pair(0, 4).bottleneck_gb_per_s,
            Build(Load("a6000-x8-2socket"), proto::P2P_OFF).Pair(0, 4).bottleneck_gb_per_s);
  // Not on other nodes, never negative.
  proto::Topology bad = topo;
  for (proto::Component& node : *bad.mutable_nodes())
    if (node.kind() == proto::GPU) node.set_p2p_gb_per_s(5);
  EXPECT_FALSE(ValidateNccl(bad).ok());
  bad = topo;
  for (proto::Component& node : *bad.mutable_nodes())
    if (node.kind() == proto::CPU) node.set_p2p_gb_per_s(-1);
  Status st = ValidateNccl(bad);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("p2p_gb_per_s -1 outside [1e-06, 2000] GB/s"), std::string::npos);
}

TEST(TransportTest, AmdHostAllowsP2pThroughTheCpu) {
  proto::Topology topo = Load("a6000-x8-2socket");
  for (proto::Component& node : *topo.mutable_nodes()) {
    if (node.kind() == proto::CPU) node.set_cpu_vendor(proto::AMD);
  }
  const TransportTable table = Build(topo);
  EXPECT_EQ(table.Count(Transport::kP2p), 56);
  EXPECT_NE(table.Pair(0, 4).why.find("AMD host"), std::string::npos);
  EXPECT_EQ(table.Pair(0, 4).hops.size(), 5u);  // gpu0 rc0 cpu0 cpu1 rc1 gpu4, no memory
}

TEST(TransportTest, NvlinkPairsUseTheBridgeAndShmOtherwise) {
  const TransportTable table = Build(Load("a6000-x8-nvlink-pairs"));
  EXPECT_EQ(table.Pair(0, 1).transport, Transport::kP2p);
  EXPECT_EQ(table.Pair(0, 1).path_class, PairRoute::PathClass::kNvlink);
  EXPECT_EQ(table.Pair(0, 2).transport, Transport::kShm);
  EXPECT_EQ(table.Count(Transport::kP2p), 8);
}

TEST(TransportTest, P2pOffStagesNvlinkPairsThroughHostMemoryToo) {
  const TransportTable table = Build(Load("a6000-x8-nvlink-pairs"), proto::P2P_OFF);
  EXPECT_EQ(table.Pair(0, 1).transport, Transport::kShm);
  EXPECT_EQ(table.Pair(0, 1).path_class, PairRoute::PathClass::kPcie);
  EXPECT_EQ(table.Count(Transport::kShm), 56);
}

TEST(TransportTest, ClusterPairsAcrossHostsAreNet) {
  const TransportTable table = Build(Load("h100-cluster-2node"));
  EXPECT_EQ(table.Count(Transport::kNet), 2 * 8 * 8);
  EXPECT_EQ(table.Count(Transport::kP2p), 2 * 8 * 7);
  EXPECT_EQ(table.Pair(0, 8).path_class, PairRoute::PathClass::kNetwork);
  EXPECT_NEAR(table.MessageLatencyUs(0, 8, 1 << 20), 8.4 + 11.3 + 6.7, 1e-9);
}

// PXN: n0-gpu1 -> n1-gpu2 crosses to n0-gpu2 over NVLink and takes rail 2.
TEST(TransportTest, CrossRailPairsUseTheDestinationsRail) {
  const proto::Topology topo = Load("h100-cluster-2node");
  const TransportTable table = Build(topo);
  const PairRoute& pair = table.Pair(1, 10);
  ASSERT_EQ(pair.hops.size(), 8u);
  EXPECT_EQ(topo.links(pair.hops[0].link).name(), "n0-gpu1-n0-nvsw");
  EXPECT_EQ(topo.links(pair.hops[4].link).name(), "n0-nic2-leaf2");
  EXPECT_EQ(topo.links(pair.hops[7].link).name(), "n1-gpu2-n1-pcisw2");
  EXPECT_NE(pair.why.find("out through 'n0-nic2', in through 'n1-nic2'"), std::string::npos)
      << pair.why;
}

// A uniform all-to-all loads every NIC uplink of a rail-optimised cluster
// alike: NIC j of a node carries its 8 GPUs' traffic to the 3 other nodes'
// GPU j, 24 ordered pairs.
TEST(TransportTest, NetTrafficIsSpreadEvenlyOverTheNics) {
  const proto::Topology topo = Load("h100-cluster-4node");
  const TransportTable table = Build(topo);
  std::map<std::string, int> uplink_pairs;
  for (int s = 0; s < table.num_ranks(); ++s) {
    for (int d = 0; d < table.num_ranks(); ++d) {
      if (s == d) continue;
      for (const Hop& hop : table.Pair(s, d).hops) {
        const proto::Link& link = topo.links(hop.link);
        if (link.kind() == proto::NETWORK && hop.forward && link.a().find("-nic") != std::string::npos)
          ++uplink_pairs[link.name()];
      }
    }
  }
  EXPECT_EQ(uplink_pairs.size(), 32u);
  for (const auto& [name, pairs] : uplink_pairs) EXPECT_EQ(pairs, 24) << name;
}

TEST(TransportTest, ShmWithoutACpuIsAnError) {
  Result<TransportTable> table = TransportTable::Build(Load("dgx-a100"), proto::P2P_OFF);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), Status::Code::kBadInput);
  EXPECT_NE(table.status().message().find("has no CPU node"), std::string::npos)
      << table.status().message();
}

TEST(TransportTest, CpuMemoryOverridesTheDefault) {
  proto::Topology topo = Load("a6000-x4-pcie-gen4");
  const TransportTable before = Build(topo);
  EXPECT_DOUBLE_EQ(before.MemoryGbPerS(0), 128);  // cpu0 is node 0
  topo.mutable_nodes(0)->set_memory_gb_per_s(30);
  const TransportTable after = Build(topo);
  EXPECT_DOUBLE_EQ(after.MemoryGbPerS(0), 30);
  EXPECT_DOUBLE_EQ(after.Pair(0, 1).bottleneck_gb_per_s, 15);
}

// ---- PROCESS ranks (the host backend) -----------------------------------------

// Four processes on one socket: 20 GB/s, 0.5 us MEMORY links, 100 GB/s of
// host memory; protocol base 2 us, efficiency 0.5, 3 us per memory hop.
proto::Topology FourProcesses() {
  proto::Topology topo = testing::ProcessHost(4, 20, 0.5, 100);
  testing::ProcessNccl(&topo, 2, 0.5, 3);
  return topo;
}

TEST(TransportTest, ProcessPairsAreShmWhateverTheP2pPolicy) {
  for (proto::P2pPolicy policy : {proto::P2P_ON, proto::P2P_AUTO, proto::P2P_OFF}) {
    const TransportTable table = Build(FourProcesses(), policy);
    EXPECT_EQ(table.rank_kind(), proto::PROCESS);
    EXPECT_EQ(table.Count(Transport::kShm), 12) << P2pPolicyName(policy);
    const PairRoute& pair = table.Pair(0, 2);
    EXPECT_EQ(pair.transport, Transport::kShm);
    EXPECT_EQ(pair.why, "processes of one host: MPI through host shared memory");
  }
}

// proc0 -> cpu0 over its MEMORY link, cpu0's memory, cpu0 -> proc2 over proc2's.
TEST(TransportTest, ProcessRouteIsMemoryLinkHostMemoryMemoryLink) {
  const TransportTable table = Build(FourProcesses(), proto::P2P_ON);
  const PairRoute& pair = table.Pair(0, 2);
  ASSERT_EQ(pair.hops.size(), 3u);
  EXPECT_EQ(pair.hops[0].link, 0);  // proc0-cpu0
  EXPECT_TRUE(pair.hops[0].forward);
  EXPECT_EQ(pair.hops[1].link, -1);
  EXPECT_EQ(pair.hops[1].memory_cpu, 0);  // cpu0 is node 0
  EXPECT_EQ(pair.hops[2].link, 2);  // proc2-cpu0, crossed cpu0 -> proc2
  EXPECT_FALSE(pair.hops[2].forward);
  EXPECT_EQ(pair.path_class, PairRoute::PathClass::kMemory);
  EXPECT_EQ(pair.extra_hops, 2);
  EXPECT_DOUBLE_EQ(pair.link_latency_us, 1.0);
  EXPECT_DOUBLE_EQ(pair.bottleneck_gb_per_s, 20);  // min(20, 100 / 2)
}

// base 2 + 2 x 3 us memory hops + 2 x 0.5 us links; then 1 MiB / 0.5 at 20 GB/s.
TEST(TransportTest, ProcessMessageLatencyChargesTwoMemoryHops) {
  const TransportTable table = Build(FourProcesses(), proto::P2P_ON);
  EXPECT_NEAR(table.MessageLatencyUs(0, 2, 1 << 20), 2 + 2 * 3 + 1.0, 1e-12);
  EXPECT_NEAR(table.LoneMessageUs(0, 2, 1 << 20), 9 + 2.0 * (1 << 20) / 20e3, 1e-9);
}

// Two sockets (cpu0 - cpu1, 10 GB/s, 1 us), two processes on each: a pair
// across them goes through the source socket's memory and the socket link.
TEST(TransportTest, ProcessesOnTwoSocketsCrossTheSocketLink) {
  proto::Topology topo = testing::ProcessHost(2, 20, 0.5, 100);
  testing::ProcessNccl(&topo, 2, 0.5, 3);
  AddNode(&topo, "cpu1", proto::CPU);
  AddLink(&topo, "cpu0", "cpu1", 10, 1);
  topo.mutable_links(2)->set_kind(proto::CPU_INTERCONNECT);
  for (const char* proc : {"proc2", "proc3"}) {
    AddNode(&topo, proc, proto::PROCESS);
    AddLink(&topo, proc, "cpu1", 20, 0.5);
    topo.mutable_links(topo.links_size() - 1)->set_kind(proto::MEMORY);
  }
  ASSERT_TRUE(ValidateTopology(topo).ok()) << ValidateTopology(topo).ToString();
  const TransportTable table = Build(topo);
  const PairRoute& pair = table.Pair(1, 2);
  ASSERT_EQ(pair.hops.size(), 4u);
  EXPECT_EQ(topo.links(pair.hops[0].link).name(), "proc1-cpu0");
  EXPECT_EQ(pair.hops[1].memory_cpu, 0);
  EXPECT_EQ(topo.links(pair.hops[2].link).name(), "cpu0-cpu1");
  EXPECT_EQ(topo.links(pair.hops[3].link).name(), "proc2-cpu1");
  EXPECT_EQ(pair.path_class, PairRoute::PathClass::kMemory);
  EXPECT_DOUBLE_EQ(pair.link_latency_us, 2.0);
  EXPECT_DOUBLE_EQ(pair.bottleneck_gb_per_s, 10);
  EXPECT_EQ(table.Pair(2, 1).hops[1].memory_cpu, 3);  // the source's socket: cpu1
}

// Two hosts, each cpu - nic (PCIe) with two processes, NICs on one switch:
// processes of different hosts are NET through the NICs of their CPUs.
TEST(TransportTest, ProcessesOnTwoHostsUseNet) {
  proto::Topology topo;
  *topo.mutable_gpu() = testing::UnitGpu();
  testing::ProcessNccl(&topo, 2, 0.5, 3);
  AddNode(&topo, "switch", proto::NETWORK_SWITCH);
  for (int h = 0; h < 2; ++h) {
    const std::string cpu = "cpu" + std::to_string(h), nic = "nic" + std::to_string(h);
    AddNode(&topo, cpu, proto::CPU);
    AddNode(&topo, nic, proto::NIC);
    AddLink(&topo, cpu, nic, 24, 1);
    topo.mutable_links(topo.links_size() - 1)->set_kind(proto::PCIE);
    AddLink(&topo, nic, "switch", 12.5, 2);
    topo.mutable_links(topo.links_size() - 1)->set_kind(proto::NETWORK);
    for (int p = 0; p < 2; ++p) {
      const std::string proc = "h" + std::to_string(h) + "-proc" + std::to_string(p);
      AddNode(&topo, proc, proto::PROCESS);
      AddLink(&topo, proc, cpu, 20, 0.5);
      topo.mutable_links(topo.links_size() - 1)->set_kind(proto::MEMORY);
    }
    for (int n = topo.nodes_size() - 4; n < topo.nodes_size(); ++n)
      topo.mutable_nodes(n)->set_host(h);
  }
  ASSERT_TRUE(ValidateTopology(topo).ok()) << ValidateTopology(topo).ToString();
  const TransportTable table = Build(topo);
  EXPECT_EQ(table.Count(Transport::kNet), 8);
  EXPECT_EQ(table.Count(Transport::kShm), 4);
  const PairRoute& pair = table.Pair(0, 3);
  EXPECT_EQ(pair.transport, Transport::kNet);
  EXPECT_EQ(pair.path_class, PairRoute::PathClass::kNetwork);
  EXPECT_NE(pair.why.find("out through 'nic0', in through 'nic1'"), std::string::npos) << pair.why;
  ASSERT_EQ(pair.hops.size(), 6u);  // proc, cpu0, nic0, switch, nic1, cpu1, proc
  EXPECT_EQ(topo.links(pair.hops[0].link).name(), "h0-proc0-cpu0");
  EXPECT_EQ(topo.links(pair.hops[5].link).name(), "h1-proc1-cpu1");
  EXPECT_DOUBLE_EQ(pair.bottleneck_gb_per_s, 12.5);
  EXPECT_NEAR(table.MessageLatencyUs(0, 3, 1 << 20), 2 + 100 + 0.5 + 1 + 2 + 2 + 1 + 0.5, 1e-9);
  EXPECT_EQ(table.Pair(0, 1).path_class, PairRoute::PathClass::kMemory);
}

struct BadNccl {
  const char* what;
  void (*edit)(proto::Topology*);
  const char* message;
};

TEST(TransportTest, RejectsImpossibleNcclBlocks) {
  const BadNccl cases[] = {
      {"efficiency 0",
       [](proto::Topology* t) {
         auto* p = t->mutable_nccl()->add_protocols();
         p->set_name("x");
       },
       "payload_efficiency 0 must be in (0, 1]"},
      {"bounded last protocol",
       [](proto::Topology* t) {
         auto* p = t->mutable_nccl()->add_protocols();
         p->set_name("x");
         p->set_payload_efficiency(1);
         p->set_max_bytes(10);
       },
       "the last protocol must have max_bytes 0"},
      {"sizes not increasing",
       [](proto::Topology* t) {
         for (uint64_t max : {100, 50, 0}) {
           auto* p = t->mutable_nccl()->add_protocols();
           p->set_name("x");
           p->set_payload_efficiency(1);
           p->set_max_bytes(max);
         }
       },
       "nccl.protocols[1] (x): max_bytes 50 must be > 0 and larger"},
      {"negative latency",
       [](proto::Topology* t) {
         auto* p = t->mutable_nccl()->add_protocols();
         p->set_name("x");
         p->set_payload_efficiency(1);
         p->set_base_latency_us(-1);
       },
       "base_latency_us -1 outside [0, 100000] us"},
      {"negative memory hop",
       [](proto::Topology* t) {
         auto* p = t->mutable_nccl()->add_protocols();
         p->set_name("x");
         p->set_payload_efficiency(1);
         p->set_extra_hop_memory_us(-2);
       },
       "nccl.protocols[0] (x): extra_hop_memory_us -2 outside [0, 100000] us"},
      {"vendor on a GPU",
       [](proto::Topology* t) { t->mutable_nodes(1)->set_cpu_vendor(proto::AMD); },
       "node 'gpu0': cpu_vendor, memory_gb_per_s and p2p_gb_per_s belong on CPU nodes, not GPU"},
  };
  for (const BadNccl& c : cases) {
    proto::Topology topo = testing::Star(2, 10, 1);
    topo.clear_nccl();
    c.edit(&topo);
    const Status st = ValidateTopology(topo);
    EXPECT_EQ(st.code(), Status::Code::kBadInput) << c.what;
    EXPECT_NE(st.message().find(c.message), std::string::npos) << c.what << ": " << st.message();
  }
}

TEST(TransportTest, ParsesP2pFlag) {
  EXPECT_EQ(*ParseP2pPolicy("on"), proto::P2P_ON);
  EXPECT_EQ(*ParseP2pPolicy("off"), proto::P2P_OFF);
  EXPECT_EQ(*ParseP2pPolicy("auto"), proto::P2P_AUTO);
  EXPECT_EQ(ParseP2pPolicy("yes").status().code(), Status::Code::kUsage);  // a flag value
}

}  // namespace
}  // namespace epsim::topology
