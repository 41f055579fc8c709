#include "sim/topology/topology.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/sim/topology/topology_test_util.h"

namespace epsim::topology {
namespace {

using testing::AddLink;
using testing::AddNode;
using testing::Star;

void ExpectBadInput(const proto::Topology& topo, const std::string& words) {
  Status st = ValidateTopology(topo);
  EXPECT_EQ(st.code(), Status::Code::kBadInput) << st.ToString();
  EXPECT_NE(st.message().find(words), std::string::npos) << st.message();
}

TEST(TopologyTest, AcceptsStar) {
  EXPECT_TRUE(ValidateTopology(Star(4, 450, 1)).ok());
}

TEST(TopologyTest, GpuNamesFollowFileOrder) {
  proto::Topology topo = Star(3, 450, 1);
  EXPECT_EQ(GpuNames(topo), (std::vector<std::string>{"gpu0", "gpu1", "gpu2"}));
}

TEST(TopologyTest, RejectsLinkToUnknownNode) {
  proto::Topology topo = Star(2, 450, 1);
  AddLink(&topo, "gpu0", "ghost", 450, 1);
  ExpectBadInput(topo, "unknown node 'ghost'");
}

TEST(TopologyTest, RejectsZeroBandwidth) {
  proto::Topology topo = Star(2, 450, 1);
  topo.mutable_links(1)->set_bw_gb_per_s(0);
  ExpectBadInput(topo, "link 'gpu1-switch': bw_gb_per_s 0 must be > 0");
}

TEST(TopologyTest, RejectsNegativeLatency) {
  proto::Topology topo = Star(2, 450, 1);
  topo.mutable_links(0)->set_latency_us(-1);
  ExpectBadInput(topo, "latency_us -1 must be >= 0");
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

TEST(TopologyTest, RejectsTopologyWithoutGpu) {
  proto::Topology topo;
  *topo.mutable_gpu() = testing::UnitGpu();
  AddNode(&topo, "switch", proto::NVSWITCH);
  ExpectBadInput(topo, "no GPU node");
}

TEST(TopologyTest, RejectsEfficiencyAboveOne) {
  proto::Topology topo = Star(2, 450, 1);
  topo.mutable_gpu()->set_compute_efficiency(1.5);
  ExpectBadInput(topo, "compute_efficiency 1.5 must be in (0, 1]");
}

TEST(TopologyTest, RejectsZeroPeakFlops) {
  proto::Topology topo = Star(2, 450, 1);
  topo.mutable_gpu()->set_peak_flops(0);
  ExpectBadInput(topo, "peak_flops 0 must be > 0");
}

TEST(TopologyTest, LoadsA6000Box) {
  std::string path = std::string(EPSIM_SOURCE_DIR) + "/topologies/a6000-x4-pcie-gen4.textproto";
  Result<proto::Topology> topo = LoadTopology(path);
  ASSERT_TRUE(topo.ok()) << topo.status().ToString();
  EXPECT_EQ(topo->name(), "a6000-x4-pcie-gen4");
  EXPECT_EQ(GpuNames(*topo), (std::vector<std::string>{"gpu0", "gpu1", "gpu2", "gpu3"}));
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
