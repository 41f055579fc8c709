#include "sim/topology/topology.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <utility>

#include "tests/sim/topology/topology_test_util.h"

namespace epsim::topology {
namespace {

using testing::AddLink;
using testing::AddNode;
using testing::ProcessHost;
using testing::Star;

void ExpectBadInput(const proto::Topology& topo, const std::string& words) {
  Status st = ValidateTopology(topo);
  EXPECT_EQ(st.code(), Status::Code::kBadInput) << st.ToString();
  EXPECT_NE(st.message().find(words), std::string::npos) << st.message();
}

TEST(TopologyTest, AcceptsStar) {
  EXPECT_TRUE(ValidateTopology(Star(4, 450, 1)).ok());
}

TEST(TopologyTest, RankNamesFollowFileOrder) {
  proto::Topology topo = Star(3, 450, 1);
  EXPECT_EQ(RankNames(topo), (std::vector<std::string>{"gpu0", "gpu1", "gpu2"}));
  EXPECT_EQ(RankKind(topo), proto::GPU);
}

// The host backend's box: one socket, four processes on MEMORY links.
TEST(TopologyTest, AcceptsProcessRanks) {
  proto::Topology topo = ProcessHost(4, 20, 0.5, 100);
  // Listed out of name order, so file order is what RankNames must keep.
  std::swap(*topo.mutable_nodes(1), *topo.mutable_nodes(3));
  const Status st = ValidateTopology(topo);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(RankNames(topo), (std::vector<std::string>{"proc2", "proc1", "proc0", "proc3"}));
  EXPECT_EQ(RankKind(topo), proto::PROCESS);
  EXPECT_TRUE(IsRankNode(topo.nodes(1)));
  EXPECT_FALSE(IsRankNode(topo.nodes(0)));  // cpu0
}

TEST(TopologyTest, RejectsGpusMixedWithProcesses) {
  proto::Topology topo = Star(2, 450, 1);
  AddNode(&topo, "proc0", proto::PROCESS);
  ExpectBadInput(topo, "node 'proc0' is a PROCESS rank but rank 0 'gpu0' is a GPU: ranks must "
                       "all be of one kind");
}

TEST(TopologyTest, RejectsProcessesMixedWithGpus) {
  proto::Topology topo = ProcessHost(2, 20, 0.5, 100);
  AddNode(&topo, "gpu0", proto::GPU);
  AddLink(&topo, "gpu0", "cpu0", 24, 1);
  ExpectBadInput(topo, "node 'gpu0' is a GPU rank but rank 0 'proc0' is a PROCESS");
}

TEST(TopologyTest, RejectsProcessOnAPcieLink) {
  proto::Topology topo = ProcessHost(2, 20, 0.5, 100);
  topo.mutable_links(1)->set_kind(proto::PCIE);
  ExpectBadInput(topo, "node 'proc1': link 'proc1-cpu0' is PCIE to CPU 'cpu0' of host 0; a "
                       "PROCESS node needs exactly one link, a MEMORY link to a CPU node of its "
                       "host");
}

TEST(TopologyTest, RejectsProcessWithTwoLinks) {
  proto::Topology topo = ProcessHost(2, 20, 0.5, 100);
  AddLink(&topo, "proc0", "proc1", 20, 0.5);
  ExpectBadInput(topo, "node 'proc0': 2 links; a PROCESS node needs exactly one link");
}

TEST(TopologyTest, RejectsProcessOnAnotherHostsCpu) {
  proto::Topology topo = ProcessHost(2, 20, 0.5, 100);
  topo.mutable_nodes(2)->set_host(1);
  ExpectBadInput(topo, "node 'proc1': link 'proc1-cpu0' is MEMORY to CPU 'cpu0' of host 0");
}

TEST(TopologyTest, RejectsDisconnectedProcess) {
  proto::Topology topo = ProcessHost(1, 20, 0.5, 100);
  AddNode(&topo, "cpu1", proto::CPU);
  AddNode(&topo, "proc1", proto::PROCESS);
  AddLink(&topo, "proc1", "cpu1", 20, 0.5);
  topo.mutable_links(1)->set_kind(proto::MEMORY);
  ExpectBadInput(topo, "process 'proc1' is not connected to process 'proc0'");
}

TEST(TopologyTest, RejectsLinkToUnknownNode) {
  proto::Topology topo = Star(2, 450, 1);
  AddLink(&topo, "gpu0", "ghost", 450, 1);
  ExpectBadInput(topo, "unknown node 'ghost'");
}

TEST(TopologyTest, RejectsZeroBandwidth) {
  proto::Topology topo = Star(2, 450, 1);
  topo.mutable_links(1)->set_bw_gb_per_s(0);
  ExpectBadInput(topo, "link 'gpu1-switch': bw_gb_per_s 0 outside [1e-06, 2000] GB/s");
}

TEST(TopologyTest, RejectsNegativeLatency) {
  proto::Topology topo = Star(2, 450, 1);
  topo.mutable_links(0)->set_latency_us(-1);
  ExpectBadInput(topo, "latency_us -1 outside [0, 100000] us");
}

TEST(TopologyTest, RejectsDisconnectedGpu) {
  proto::Topology topo = Star(2, 450, 1);
  AddNode(&topo, "lonely", proto::GPU);
  ExpectBadInput(topo, "GPU 'lonely' is not connected to GPU 'gpu0'");
}

TEST(TopologyTest, RejectsRepeatedNodeName) {
  proto::Topology topo = Star(2, 450, 1);
  AddNode(&topo, "gpu1", proto::GPU);
  ExpectBadInput(topo, "node name 'gpu1' repeated");
}

TEST(TopologyTest, RejectsParallelLinks) {
  proto::Topology topo = Star(2, 450, 1);
  AddLink(&topo, "switch", "gpu0", 450, 1);
  topo.mutable_links(2)->set_name("second");
  ExpectBadInput(topo, "a second link between");
}

TEST(TopologyTest, RejectsTopologyWithoutRank) {
  proto::Topology topo;
  *topo.mutable_gpu() = testing::UnitGpu();
  AddNode(&topo, "switch", proto::NVSWITCH);
  ExpectBadInput(topo, "no rank node (GPU or PROCESS)");
}

TEST(TopologyTest, RejectsEfficiencyAboveOne) {
  proto::Topology topo = Star(2, 450, 1);
  topo.mutable_gpu()->set_compute_efficiency(1.5);
  ExpectBadInput(topo, "gpu.compute_efficiency 1.5 outside (0, 1]");
}

TEST(TopologyTest, RejectsZeroPeakFlops) {
  proto::Topology topo = Star(2, 450, 1);
  topo.mutable_gpu()->set_peak_flops(0);
  ExpectBadInput(topo, "gpu.peak_flops 0 outside [1e+06, 1e+16] FLOP/s");
}

// Non-finite and absurd figures: each named with its plausible range (the
// engine would abort on an infinite time or stall on a vanishing rate).
TEST(TopologyTest, RejectsNonFiniteAndImplausibleFigures) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    void (*set)(proto::Topology*, double);
    double value;
    const char* words;
  };
  const Case cases[] = {
      {[](proto::Topology* t, double x) { t->mutable_links(0)->set_latency_us(x); }, inf,
       "link 'gpu0-switch': latency_us inf outside [0, 100000] us"},
      {[](proto::Topology* t, double x) { t->mutable_links(0)->set_latency_us(x); }, nan,
       "latency_us nan outside"},
      {[](proto::Topology* t, double x) { t->mutable_links(0)->set_bw_gb_per_s(x); }, inf,
       "bw_gb_per_s inf outside [1e-06, 2000] GB/s"},
      {[](proto::Topology* t, double x) { t->mutable_links(0)->set_bw_gb_per_s(x); }, 1e-300,
       "bw_gb_per_s 1e-300 outside"},
      {[](proto::Topology* t, double x) { t->mutable_gpu()->set_peak_flops(x); }, 1e-300,
       "gpu.peak_flops 1e-300 outside [1e+06, 1e+16] FLOP/s"},
      {[](proto::Topology* t, double x) { t->mutable_gpu()->set_peak_flops(x); }, inf,
       "gpu.peak_flops inf outside"},
      {[](proto::Topology* t, double x) { t->mutable_gpu()->set_mem_bw_gb_per_s(x); }, 1e9,
       "gpu.mem_bw_gb_per_s 1000000000 outside [0.001, 100000] GB/s"},
      {[](proto::Topology* t, double x) { t->mutable_gpu()->set_launch_us(x); }, inf,
       "gpu.launch_us inf outside"},
      {[](proto::Topology* t, double x) { t->mutable_gpu()->set_memory_gb(x); }, nan,
       "gpu.memory_gb nan outside"},
      {[](proto::Topology* t, double x) { t->mutable_gpu()->set_ffn_row_ns(x); }, inf,
       "gpu.ffn_row_ns inf outside [0, 1e9]"},
  };
  for (const Case& c : cases) {
    proto::Topology topo = Star(2, 450, 1);
    c.set(&topo, c.value);
    ExpectBadInput(topo, c.words);
  }
  // The ends of the ranges are accepted: a CPU core's MFLOP/s, a kB/s link.
  proto::Topology slow = Star(2, 1e-6, 0);
  slow.mutable_gpu()->set_peak_flops(1e6);
  slow.mutable_gpu()->set_mem_bw_gb_per_s(1e-3);
  EXPECT_TRUE(ValidateTopology(slow).ok()) << ValidateTopology(slow).ToString();
}

TEST(TopologyTest, LoadsA6000Box) {
  std::string path = std::string(EPSIM_SOURCE_DIR) + "/topologies/a6000-x4-pcie-gen4.textproto";
  Result<proto::Topology> topo = LoadTopology(path);
  ASSERT_TRUE(topo.ok()) << topo.status().ToString();
  EXPECT_EQ(topo->name(), "a6000-x4-pcie-gen4");
  EXPECT_EQ(RankNames(*topo), (std::vector<std::string>{"gpu0", "gpu1", "gpu2", "gpu3"}));
  EXPECT_DOUBLE_EQ(topo->gpu().peak_flops(), 154.8e12);
  EXPECT_DOUBLE_EQ(topo->gpu().mem_bw_gb_per_s(), 768);
  for (const proto::Link& link : topo->links()) {
    if (link.kind() == proto::PCIE) {
      EXPECT_DOUBLE_EQ(link.bw_gb_per_s(), 24) << link.name();
    }
  }
}

TEST(TopologyTest, LoadErrorNamesTheFile) {
  Result<proto::Topology> topo = LoadTopology("/nonexistent/box.textproto");
  ASSERT_FALSE(topo.ok());
  EXPECT_NE(topo.status().message().find("/nonexistent/box.textproto"), std::string::npos)
      << topo.status().message();
}

}  // namespace
}  // namespace epsim::topology
