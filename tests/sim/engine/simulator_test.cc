// Closed-form network and replay cases. Each TEST runs in its own process
// (gtest_discover_tests), as Simulate() may be called once per process.
#include "sim/engine/simulator.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/topology/topology.h"
#include "tests/sim/topology/topology_test_util.h"

namespace epsim::engine {
namespace {

SimOptions WithArgs(std::vector<std::string> simgrid_args) {
  SimOptions opts;
  opts.simgrid_args = std::move(simgrid_args);
  return opts;
}

using testing::AddAllToAll;
using testing::AddCompute;
using testing::AddLink;
using testing::AddNode;
using testing::EmptySchedule;
using testing::Star;
using testing::Uniform;

// Simulates on `topo` as a bare network (testing::BareNccl) unless the
// topology sets its own NCCL protocols.
proto::Report SimulateOne(proto::Topology topo, const proto::Schedule& schedule,
                          std::vector<std::string> simgrid_args = {}) {
  if (topo.nccl().protocols().empty()) testing::BareNccl(&topo);
  Result<SimResult> result = Simulate(topo, {schedule}, WithArgs(simgrid_args));
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return proto::Report();
  EXPECT_EQ(result->reports.size(), 1u);
  return result->reports[0];
}

const proto::OpTiming& Op(const proto::Report& report, uint32_t phase, uint32_t rank) {
  return report.ops(phase * report.num_ranks() + rank);
}

TEST(SimulatorTest, OneFlowOverDirectLinkTakesLatencyPlusBytesOverBandwidth) {
  proto::Topology topo;
  *topo.mutable_gpu() = testing::UnitGpu();
  AddNode(&topo, "gpu0", proto::GPU);
  AddNode(&topo, "gpu1", proto::GPU);
  AddLink(&topo, "gpu0", "gpu1", 24, 1.5);
  proto::Schedule schedule = EmptySchedule(2);
  AddAllToAll(&schedule, {0, 1000000, 0, 0});
  proto::Report report = SimulateOne(topo, schedule);
  double want_s = 1.5e-6 + 1e6 / 24e9;
  EXPECT_NEAR(report.total_time_s(), want_s, want_s * 1e-9);
  EXPECT_NEAR(Op(report, 0, 0).end_s(), want_s, want_s * 1e-9);
  EXPECT_EQ(Op(report, 0, 0).bytes(), 1000000u);
}

TEST(SimulatorTest, OneFlowOverMultiHopPathTakesSumOfLatenciesPlusBytesOverMinBandwidth) {
  proto::Topology topo;
  *topo.mutable_gpu() = testing::UnitGpu();
  AddNode(&topo, "gpu0", proto::GPU);
  AddNode(&topo, "switch", proto::PCIE_SWITCH);
  AddNode(&topo, "gpu1", proto::GPU);
  AddLink(&topo, "gpu0", "switch", 100, 1.0);
  AddLink(&topo, "switch", "gpu1", 25, 0.5, proto::HALF);
  proto::Schedule schedule = EmptySchedule(2);
  AddAllToAll(&schedule, {0, 0, 3000000, 0});  // gpu1 -> gpu0
  proto::Report report = SimulateOne(topo, schedule);
  double want_s = 1.5e-6 + 3e6 / 25e9;
  EXPECT_NEAR(report.total_time_s(), want_s, want_s * 1e-9);
  EXPECT_NEAR(Op(report, 0, 1).end_s(), want_s, want_s * 1e-9);
}

// The reference case of simgrid-3.32.md: 2 x 1 us + 7 MB / 450 GB/s + 1 us.
TEST(SimulatorTest, EightGpuStarAllToAllMatchesReference) {
  proto::Schedule schedule = EmptySchedule(8);
  AddAllToAll(&schedule, Uniform(8, 1000000));
  AddCompute(&schedule, std::vector<double>(8, 1.0), {0});
  proto::Report report = SimulateOne(Star(8, 450, 1), schedule);
  double want_s = 2 * 1e-6 + 7e6 / 450e9 + 1e-6;
  EXPECT_NEAR(report.total_time_s(), want_s, 1e-12);
  EXPECT_NEAR(report.total_time_s() * 1e6, 18.5556, 5e-5);
  ASSERT_EQ(report.phases_size(), 2);
  EXPECT_NEAR(report.phases(0).end_s(), want_s - 1e-6, 1e-12);
  EXPECT_EQ(report.phases(0).bytes(), 56000000u);
  EXPECT_EQ(report.phases(0).rows(), 56000u);
  EXPECT_NEAR(report.phases(1).start_s(), want_s - 1e-6, 1e-12);
}

// GPUs 0 and 1 behind switch s1 (GPU 1 one hop further, via s0), GPU 2
// behind s2; the s1-root uplink (20 GB/s) is the bottleneck. Routes: 0->2
// four links (4 us), 1->2 five links (5 us). Flow 0 runs alone at 20 GB/s
// for 1 us, then both get 10 GB/s (max-min, not latency-weighted).
TEST(SimulatorTest, SharedUplinkIsSplitMaxMinWhateverTheHopCount) {
  proto::Topology topo;
  topo.set_name("tree");
  *topo.mutable_gpu() = testing::UnitGpu();
  for (const char* gpu : {"gpu0", "gpu1", "gpu2"}) AddNode(&topo, gpu, proto::GPU);
  for (const char* sw : {"s0", "s1", "s2"}) AddNode(&topo, sw, proto::PCIE_SWITCH);
  AddNode(&topo, "root", proto::ROOT_COMPLEX);
  AddLink(&topo, "gpu0", "s1", 100, 1);
  AddLink(&topo, "gpu1", "s0", 100, 1);
  AddLink(&topo, "s0", "s1", 100, 1);
  AddLink(&topo, "s1", "root", 20, 1);
  AddLink(&topo, "root", "s2", 100, 1);
  AddLink(&topo, "s2", "gpu2", 100, 1);
  proto::Schedule schedule = EmptySchedule(3);
  const uint64_t b = 100000000;
  AddAllToAll(&schedule, {0, 0, b, 0, 0, b, 0, 0, 0});
  proto::Report report = SimulateOne(topo, schedule);
  double solo_bytes = 20e9 * 1e-6;
  double end0_s = 5e-6 + (b - solo_bytes) / 10e9;  // 10.003 ms
  double end1_s = end0_s + solo_bytes / 20e9;      // 10.004 ms
  EXPECT_NEAR(Op(report, 0, 0).end_s(), end0_s, end0_s * 1e-9);
  EXPECT_NEAR(Op(report, 0, 1).end_s(), end1_s, end1_s * 1e-9);
  EXPECT_EQ(report.phases(0).max_rank(), 1u);
  EXPECT_NEAR(report.phases(0).end_s(), end1_s, end1_s * 1e-9);
}

TEST(SimulatorTest, HalfDuplexLinkIsSharedByBothDirections) {
  proto::Topology topo;
  *topo.mutable_gpu() = testing::UnitGpu();
  AddNode(&topo, "gpu0", proto::GPU);
  AddNode(&topo, "gpu1", proto::GPU);
  AddLink(&topo, "gpu0", "gpu1", 10, 1, proto::HALF);
  proto::Schedule schedule = EmptySchedule(2);
  AddAllToAll(&schedule, Uniform(2, 100000));
  proto::Report report = SimulateOne(topo, schedule);
  double want_s = 1e-6 + 2e5 / 10e9;  // each direction gets 5 GB/s
  EXPECT_NEAR(report.total_time_s(), want_s, want_s * 1e-9);
}

// Rank 0 sends 100 kB to ranks 1 and 2 (star, 10 GB/s, 0.5 us per link:
// both arrive at 1 us + 200 kB / 10 GB/s = 21 us) while rank 1 computes for
// 50 us and rank 2 for 5 us. Transfers start when posted, whatever the
// receiver does; compute that depends on them starts when they arrive, and
// compute that does not overlaps the sends.
TEST(SimulatorTest, TransfersStartWhenPostedAndDependentComputeWaitsForThem) {
  proto::Schedule schedule = EmptySchedule(3);
  AddCompute(&schedule, {0, 50, 5});
  AddAllToAll(&schedule, {0, 100000, 100000, 0, 0, 0, 0, 0, 0}, {0});
  AddCompute(&schedule, {5, 5, 5}, {1});
  proto::Report report = SimulateOne(Star(3, 10, 0.5), schedule);
  EXPECT_NEAR(Op(report, 1, 0).start_s(), 0, 1e-12);
  EXPECT_NEAR(Op(report, 1, 0).end_s(), 21e-6, 1e-12);
  EXPECT_NEAR(Op(report, 2, 0).start_s(), 0, 1e-12);  // overlaps its own sends
  EXPECT_NEAR(Op(report, 2, 0).end_s(), 5e-6, 1e-12);
  EXPECT_NEAR(Op(report, 2, 1).start_s(), 50e-6, 1e-12);  // own stream was busy
  EXPECT_NEAR(Op(report, 2, 2).start_s(), 21e-6, 1e-12);  // waited for the data
  EXPECT_NEAR(report.total_time_s(), 55e-6, 1e-12);
  EXPECT_EQ(report.phases(2).max_rank(), 1u);
}

// Communication overlapped with compute, closed form. gpu0 -> gpu1 carries
// 1 MB over a 24 GB/s, 1.5 us link: T_a = 1.5 + 1e6 / 24e3 = 43.1667 us.
// Both ranks also run compute that does not wait for it. While a rank's
// all-to-all is in flight (rank 0 until its send lands, rank 1 until its
// receive does: both T_a) it holds comm_sm_share = 0.25 of the GPU, so
// compute runs at 0.75 meanwhile.
proto::Report OverlapCase(double compute_us, double share) {
  proto::Topology topo;
  *topo.mutable_gpu() = testing::UnitGpu();
  topo.mutable_gpu()->set_comm_sm_share(share);
  AddNode(&topo, "gpu0", proto::GPU);
  AddNode(&topo, "gpu1", proto::GPU);
  AddLink(&topo, "gpu0", "gpu1", 24, 1.5);
  proto::Schedule schedule = EmptySchedule(2);
  AddAllToAll(&schedule, {0, 1000000, 0, 0});
  AddCompute(&schedule, {compute_us, compute_us});
  return SimulateOne(topo, schedule);
}

constexpr double kTaUs = 1.5 + 1e6 / 24e3;

// Compute of 100 us hides the all-to-all: it loses 0.25 T_a to it and ends
// at 100 + 0.25 T_a = 110.79 us on both ranks; the all-to-all adds nothing.
TEST(SimulatorTest, OverlappedCommunicationIsHiddenButTakesItsSmShare) {
  const proto::Report r = OverlapCase(100, 0.25);
  const double want_us = 100 + 0.25 * kTaUs;
  EXPECT_NEAR(Op(r, 1, 0).end_s() * 1e6, want_us, 1e-6);
  EXPECT_NEAR(Op(r, 1, 1).end_s() * 1e6, want_us, 1e-6);
  EXPECT_NEAR(Op(r, 0, 1).end_s() * 1e6, kTaUs, 1e-6);  // the transfer is not slowed
  EXPECT_NEAR(r.total_time_s() * 1e6, want_us, 1e-6);
  EXPECT_NEAR(r.phases(0).critical_s(), 0.0, 1e-12);
  EXPECT_NEAR(r.phases(1).critical_s() * 1e6, want_us, 1e-6);
}

// Compute of 20 us does not: at 0.75 speed it ends at 20 / 0.75 = 26.67 us,
// the pass at T_a, and the all-to-all adds its exposed part.
TEST(SimulatorTest, OverlappedCommunicationLongerThanComputeIsExposed) {
  const proto::Report r = OverlapCase(20, 0.25);
  EXPECT_NEAR(Op(r, 1, 0).end_s() * 1e6, 20 / 0.75, 1e-6);
  EXPECT_NEAR(r.total_time_s() * 1e6, kTaUs, 1e-6);
  EXPECT_NEAR(r.phases(0).critical_s() * 1e6, kTaUs, 1e-6);
  EXPECT_NEAR(r.phases(1).critical_s(), 0.0, 1e-12);
}

// Without a share (the default) overlap is free, as before.
TEST(SimulatorTest, OverlapWithoutSmShareLeavesComputeAlone) {
  const proto::Report r = OverlapCase(100, 0);
  EXPECT_NEAR(Op(r, 1, 0).end_s() * 1e6, 100, 1e-6);
  EXPECT_NEAR(r.total_time_s() * 1e6, 100, 1e-6);
}

TEST(SimulatorTest, A6000BoxAllToAllIsBoundByEachGpuPcieLink) {
  std::string path = std::string(EPSIM_SOURCE_DIR) + "/topologies/a6000-x4-pcie-gen4.textproto";
  Result<proto::Topology> topo = topology::LoadTopology(path);
  ASSERT_TRUE(topo.ok()) << topo.status().ToString();
  proto::Schedule schedule = EmptySchedule(4);
  AddAllToAll(&schedule, Uniform(4, 1000000));
  proto::Report report = SimulateOne(*topo, schedule);
  double want_s = 2 * 1e-6 + 3e6 / 24e9;  // 127 us
  EXPECT_NEAR(report.total_time_s(), want_s, want_s * 1e-9);
  EXPECT_EQ(report.topology(), "a6000-x4-pcie-gen4");
}

TEST(SimulatorTest, IdenticalSchedulesInOneCallTakeTheSameTime) {
  proto::Schedule schedule = EmptySchedule(8);
  AddAllToAll(&schedule, Uniform(8, 1000000));
  AddCompute(&schedule, std::vector<double>(8, 1.0), {0});
  Result<SimResult> result = Simulate(Star(8, 450, 1), {schedule, schedule}, SimOptions{});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->reports.size(), 2u);
  double want_s = 2 * 1e-6 + 7e6 / 450e9 + 1e-6;
  EXPECT_NEAR(result->reports[0].total_time_s(), want_s, 1e-12);
  EXPECT_NEAR(result->reports[1].total_time_s(), want_s, 1e-12);
  EXPECT_NEAR(result->reports[1].phases(1).start_s(), want_s - 1e-6, 1e-12);
}

TEST(SimulatorTest, ReportCopiesScheduleNamesAndSettings) {
  proto::Schedule schedule = EmptySchedule(2);
  AddAllToAll(&schedule, {0, 2000, 1000, 0});
  Result<SimResult> result = Simulate(Star(2, 10, 1), {schedule}, SimOptions{});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const proto::Report& report = result->reports[0];
  EXPECT_EQ(report.source(), "simulated");
  EXPECT_EQ(report.model(), "test-model");
  EXPECT_EQ(report.strategy(), "test-strategy");
  EXPECT_EQ(report.placement(), "test-placement");
  EXPECT_EQ(report.topology(), "star");
  EXPECT_EQ(report.num_ranks(), 2u);
  EXPECT_EQ(report.phases(0).bytes(), 3000u);
  EXPECT_EQ(report.phases(0).max_rank(), 0u);  // it sends more
  EXPECT_EQ(Op(report, 0, 1).bytes(), 1000u);
  std::map<std::string, std::string> settings(result->settings.begin(), result->settings.end());
  EXPECT_EQ(settings["host/model"], "ptask_L07");
  EXPECT_EQ(settings["simgrid_version"].rfind("3.", 0), 0u);
  EXPECT_NE(settings["sharing"].find("max-min"), std::string::npos);
  EXPECT_EQ(settings["transport"], "--p2p on: 2 P2P, 0 SHM, 0 NET ordered GPU pairs");
  EXPECT_EQ(settings["granularity"], "pair");
  EXPECT_EQ(settings["max_inflight"], "unlimited");
  EXPECT_EQ(report.settings().at("host/model"), "ptask_L07");
}

TEST(SimulatorTest, UserConfigOverridesDefaults) {
  proto::Schedule schedule = EmptySchedule(2);
  AddAllToAll(&schedule, Uniform(2, 1000));
  Result<SimResult> result =
      Simulate(Star(2, 10, 1), {schedule}, WithArgs({"--cfg=network/model:LV08"}));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::map<std::string, std::string> settings(result->settings.begin(), result->settings.end());
  EXPECT_EQ(settings["network/model"], "LV08");
  EXPECT_EQ(settings["simgrid_args"], "--cfg=network/model:LV08");
}

TEST(SimulatorTest, ReportsEveryUserConfigValue) {
  Result<SimResult> result = Simulate(Star(2, 10, 1), {},
                                      WithArgs({"--cfg=maxmin/precision:1e-6"}));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::map<std::string, std::string> settings(result->settings.begin(), result->settings.end());
  EXPECT_EQ(settings["maxmin/precision"], "1e-6");
  EXPECT_EQ(settings["host/model"], "ptask_L07");
}

TEST(SimulatorTest, SecondCallInOneProcessIsAnError) {
  ASSERT_TRUE(Simulate(Star(2, 10, 1), {}, SimOptions{}).ok());
  Result<SimResult> again = Simulate(Star(2, 10, 1), {}, SimOptions{});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Status::Code::kInternal);
}

TEST(SimulatorTest, RejectsArgumentsOtherThanCfgAndLog) {
  Result<SimResult> result = Simulate(Star(2, 10, 1), {}, WithArgs({"--help"}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Status::Code::kUsage);
}

TEST(SimulatorTest, RejectsMoreRanksThanGpus) {
  proto::Schedule schedule = EmptySchedule(3);
  AddAllToAll(&schedule, Uniform(3, 1000));
  Result<SimResult> result = Simulate(Star(2, 10, 1), {schedule}, SimOptions{});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Status::Code::kBadInput);
  EXPECT_NE(result.status().message().find("num_ranks 3 > 2 GPUs"), std::string::npos)
      << result.status().message();
}

TEST(SimulatorTest, RejectsBadTopology) {
  proto::Topology topo = Star(2, 10, 1);
  topo.mutable_links(0)->set_bw_gb_per_s(0);
  Result<SimResult> result = Simulate(topo, {}, SimOptions{});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Status::Code::kBadInput);
}

TEST(SimulatorTest, RejectsMalformedSendMatrix) {
  proto::Schedule schedule = EmptySchedule(2);
  AddAllToAll(&schedule, {0, 1000, 1000});
  Result<SimResult> result = Simulate(Star(2, 10, 1), {schedule}, SimOptions{});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("phase 0: all-to-all has 3 send_bytes"),
            std::string::npos)
      << result.status().message();
}

}  // namespace
}  // namespace epsim::engine
