// Every parameter reads back what it wrote, applies where it should, and a
// wrong name lists the right ones.
#include "sim/calibrate/parameters.h"

#include <gtest/gtest.h>

#include "sim/base/data_paths.h"
#include "sim/topology/topology.h"
#include "sim/topology/transport.h"

namespace epsim::calibrate {
namespace {

proto::Topology Load(const std::string& name) {
  Result<std::string> file = ResolveDataFile("topologies", name);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  Result<proto::Topology> t = topology::LoadTopology(file.ok() ? *file : name);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : proto::Topology();
}

std::vector<std::string> Names(const std::vector<Parameter>& params) {
  std::vector<std::string> names;
  for (const Parameter& p : params) names.push_back(p.name);
  return names;
}

bool Has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(ParametersTest, SetThenGetRoundTripsAndTheTopologyStaysValid) {
  for (const char* name : {"a6000-x4-pcie-gen4", "dgx-a100"}) {
    const proto::Topology stock = Load(name);
    for (const Parameter& p : ParametersOf(stock)) {
      proto::Topology t = stock;
      const double v = std::min(p.upper, std::max(p.lower, p.get(stock) * 0.5 + p.scale * 0.01));
      p.set(&t, v);
      EXPECT_DOUBLE_EQ(p.get(t), v) << name << " " << p.name;
      EXPECT_TRUE(topology::ValidateTopology(t).ok()) << name << " " << p.name;
      EXPECT_LE(p.lower, p.get(stock)) << p.name;
      EXPECT_GE(p.upper, p.get(stock)) << p.name;
    }
  }
}

TEST(ParametersTest, ListsWhatAppliesToTheTopology) {
  const std::vector<std::string> pcie = Names(ParametersOf(Load("a6000-x4-pcie-gen4")));
  EXPECT_TRUE(Has(pcie, "gpu.compute_efficiency"));
  EXPECT_TRUE(Has(pcie, "gpu.gemm_half_rows"));
  EXPECT_TRUE(Has(pcie, "gpu.permute_row_ns"));
  EXPECT_TRUE(Has(pcie, "nccl.LL.base_latency_us"));
  EXPECT_TRUE(Has(pcie, "nccl.Simple.extra_hop_pcie_us"));
  EXPECT_FALSE(Has(pcie, "gpu.peak_flops"));  // a GPU's peak is its datasheet's
  EXPECT_FALSE(Has(pcie, "nccl.LL.extra_hop_nvlink_us"));
  EXPECT_FALSE(Has(pcie, "nccl.LL.extra_hop_memory_us"));
  const std::vector<std::string> nvswitch = Names(ParametersOf(Load("dgx-a100")));
  EXPECT_TRUE(Has(nvswitch, "nccl.Simple.extra_hop_nvlink_us"));
}

TEST(ParametersTest, ProtocolParametersWriteTheDefaultsOut) {
  proto::Topology t = Load("a6000-x4-pcie-gen4");
  t.clear_nccl();
  const std::vector<Parameter> params = ParametersOf(t);
  Result<const Parameter*> p = FindParameter(params, "nccl.Simple.base_latency_us");
  ASSERT_TRUE(p.ok());
  const double stock = (*p)->get(t);
  EXPECT_GT(stock, 0);
  (*p)->set(&t, 3.5);
  EXPECT_EQ(t.nccl().protocols_size(), topology::EffectiveNccl(Load("a6000-x4-pcie-gen4")).protocols_size());
  EXPECT_DOUBLE_EQ((*p)->get(t), 3.5);
  // The other protocol keeps its default.
  Result<const Parameter*> ll = FindParameter(params, "nccl.LL.base_latency_us");
  ASSERT_TRUE(ll.ok());
  EXPECT_DOUBLE_EQ((*ll)->get(t), (*ll)->get(Load("a6000-x4-pcie-gen4")));
}

TEST(ParametersTest, NonUniformLinksGetAScale) {
  proto::Topology t = Load("a6000-x4-pcie-gen4");
  int pcie = 0;
  for (proto::Link& l : *t.mutable_links())
    if (l.kind() == proto::PCIE && pcie++ == 0) l.set_bw_gb_per_s(l.bw_gb_per_s() * 2);
  const std::vector<Parameter> params = ParametersOf(t);
  Result<const Parameter*> scale = FindParameter(params, "links.PCIE.bw_scale");
  ASSERT_TRUE(scale.ok()) << scale.status().ToString();
  proto::Topology scaled = t;
  (*scale)->set(&scaled, 0.5);
  for (int i = 0; i < t.links_size(); ++i) {
    const double expected = t.links(i).kind() == proto::PCIE ? t.links(i).bw_gb_per_s() * 0.5
                                                             : t.links(i).bw_gb_per_s();
    EXPECT_DOUBLE_EQ(scaled.links(i).bw_gb_per_s(), expected) << i;
  }
  EXPECT_DOUBLE_EQ((*scale)->get(scaled), 0.5);
}

TEST(ParametersTest, AnUnknownNameListsTheValidOnes) {
  const std::vector<Parameter> params = ParametersOf(Load("a6000-x4-pcie-gen4"));
  Result<const Parameter*> p = FindParameter(params, "gpu.warp_speed");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("no parameter 'gpu.warp_speed'"), std::string::npos);
  EXPECT_NE(p.status().message().find("gpu.gemm_half_rows"), std::string::npos);
}

}  // namespace
}  // namespace epsim::calibrate
