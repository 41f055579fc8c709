// Closed-form network cases on the shipped topology files (topologies/),
// with the NCCL model's defaults: every expected time below is worked out by
// hand from the file's figures and the defaults (Simple above 16 KiB: base
// 8.4 us, extra per path nvlink 2.8 / pcie 4.7 (x2 for SHM) / network 11.3 us,
// full efficiency; LL up to 16 KiB: base 6.6 us, no extra, efficiency 0.5;
// host memory 128 GB/s, an SHM byte loads it twice). Each case must agree
// with the formula within 0.1%. Each TEST runs in its own process
// (Simulate() may be called once per process).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/engine/simulator.h"
#include "sim/topology/topology.h"
#include "tests/sim/topology/topology_test_util.h"

namespace epsim::engine {
namespace {

using testing::AddAllToAll;
using testing::AddCompute;
using testing::EmptySchedule;

constexpr double kGiB = 1073741824.0;

proto::Topology Load(const std::string& name) {
  Result<proto::Topology> topo =
      topology::LoadTopology(std::string(EPSIM_SOURCE_DIR) + "/topologies/" + name + ".textproto");
  EXPECT_TRUE(topo.ok()) << topo.status().ToString();
  return topo.ok() ? *topo : proto::Topology();
}

// One all-to-all phase on every GPU of `topo` carrying `cells`
// ({src, dst, bytes}); returns the report.
struct Cell {
  uint32_t src, dst;
  uint64_t bytes;
};
proto::Report RunCells(const proto::Topology& topo, const std::vector<Cell>& cells,
                       SimOptions opts = {}) {
  const auto n = static_cast<uint32_t>(topology::RankNames(topo).size());
  std::vector<uint64_t> send(size_t(n) * n, 0);
  for (const Cell& c : cells) send[c.src * n + c.dst] = c.bytes;
  proto::Schedule schedule = EmptySchedule(n);
  AddAllToAll(&schedule, send);
  Result<SimResult> result = Simulate(topo, {schedule}, opts);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? result->reports[0] : proto::Report();
}

// The phase's time (all transfers arrived) in microseconds.
double PhaseUs(const proto::Report& report) {
  return (report.phases(0).end_s() - report.phases(0).start_s()) * 1e6;
}

#define EXPECT_WITHIN_0_1_PCT(got, want) EXPECT_NEAR((got), (want), 1e-3 * (want))

// ---- a single transfer through each kind of path ---------------------------

// PCIe switch (PXB): NCCL uses P2P. gpu0 - pcisw0 - gpu1, 2 x 1 us, 24 GB/s.
TEST(NetworkClosedFormTest, PcieSwitchPairIsP2pThroughTheSwitch) {
  const double want = 8.4 + 4.7 + 2.0 + kGiB / 24e3;
  EXPECT_WITHIN_0_1_PCT(PhaseUs(RunCells(Load("a6000-x4-pcie-switch"), {{0, 1, 1u << 30}})),
                        want);
}

// CPU root ports (PHB) on Intel: SHM. gpu0 - rc0 - cpu0 - memory - cpu0 - rc0
// - gpu1: links 1 + 0 + 0 + 1 us, two PCIe crossings, bottleneck the 24 GB/s
// GPU links (memory: 128 / 2 = 64 GB/s for one flow).
TEST(NetworkClosedFormTest, RootPortPairIsShmThroughHostMemory) {
  const double want = 8.4 + 2 * 4.7 + 2.0 + kGiB / 24e3;
  EXPECT_WITHIN_0_1_PCT(PhaseUs(RunCells(Load("a6000-x4-pcie-gen4"), {{0, 1, 1u << 30}})), want);
}

// NVLink bridge: P2P over the bridge, 48 GB/s, 0.6 us.
TEST(NetworkClosedFormTest, NvlinkBridgePairIsP2pOverTheBridge) {
  const double want = 8.4 + 2.8 + 0.6 + kGiB / 48e3;
  EXPECT_WITHIN_0_1_PCT(PhaseUs(RunCells(Load("a6000-x8-nvlink-pairs"), {{0, 1, 1u << 30}})),
                        want);
}

// Across sockets on Intel (SYS): SHM through socket 0's memory and the
// 10 GB/s socket link: gpu0 - rc0 - cpu0 - memory - cpu0 - cpu1 - rc1 - gpu4,
// links 1 + 0 + 1 + 0 + 1 us.
TEST(NetworkClosedFormTest, CrossSocketPairIsShmOverTheSocketLink) {
  const double want = 8.4 + 2 * 4.7 + 3.0 + kGiB / 10e3;
  EXPECT_WITHIN_0_1_PCT(PhaseUs(RunCells(Load("a6000-x8-2socket"), {{0, 4, 1u << 30}})), want);
}

// NVSwitch: gpu0 - nvsw - gpu1, 2 x 0.3 us, 230 GB/s.
TEST(NetworkClosedFormTest, NvswitchPairIsP2p) {
  const double want = 8.4 + 2.8 + 0.6 + kGiB / 230e3;
  EXPECT_WITHIN_0_1_PCT(PhaseUs(RunCells(Load("dgx-a100"), {{0, 1, 1u << 30}})), want);
}

// Small messages use LL: 6.6 us base, no extra, half the bandwidth.
TEST(NetworkClosedFormTest, SmallMessageUsesLlAtHalfBandwidth) {
  const double want = 6.6 + 0.6 + 2 * 8192 / 230e3;
  EXPECT_WITHIN_0_1_PCT(PhaseUs(RunCells(Load("dgx-a100"), {{0, 1, 8192}})), want);
}

// Same rail across nodes: gpu - pcisw - nic - leaf - nic - pcisw - gpu, links
// 1 + 1 + 1.35 + 1.35 + 1 + 1 us, 48 GB/s everywhere.
TEST(NetworkClosedFormTest, SameRailAcrossNodesIsNet) {
  const double want = 8.4 + 11.3 + 6.7 + kGiB / 48e3;
  EXPECT_WITHIN_0_1_PCT(PhaseUs(RunCells(Load("h100-cluster-2node"), {{0, 8, 1u << 30}})), want);
}

// ---- shared bottlenecks ------------------------------------------------------

// A fully loaded shared uplink: with P2P off, a ring 0->1->2->3->0 behind the
// PCIe switch goes up and down the switch's one 24 GB/s uplink: four flows
// share each direction (6 GB/s each). All have the same latency:
// gpu - pcisw - rc - cpu - memory - cpu - rc - pcisw - gpu, links 1 + 1 + 0 +
// 0 + 1 + 1 us. Memory: 4 flows on 64 GB/s, not the bottleneck.
TEST(NetworkClosedFormTest, SharedUplinkIsSplitEvenlyByFourFlows) {
  SimOptions opts;
  opts.p2p = proto::P2P_OFF;
  const uint64_t b = 1u << 30;
  const double want = 8.4 + 2 * 4.7 + 4.0 + 4 * kGiB / 24e3;
  EXPECT_WITHIN_0_1_PCT(
      PhaseUs(RunCells(Load("a6000-x4-pcie-switch"), {{0, 1, b}, {1, 2, b}, {2, 3, b}, {3, 0, b}},
                       opts)),
      want);
}

// The cross-socket link as the bottleneck: with P2P on, gpu i -> gpu i+4 for
// i = 0..3 share the 10 GB/s socket link (2.5 GB/s each). Route gpu - rc0 -
// cpu0 - cpu1 - rc1 - gpu: links 1 + 0 + 1 + 0 + 1 us.
TEST(NetworkClosedFormTest, CrossSocketLinkIsSharedByFourFlows) {
  SimOptions opts;
  opts.p2p = proto::P2P_ON;
  const uint64_t b = 1u << 30;
  const double want = 8.4 + 4.7 + 3.0 + 4 * kGiB / 10e3;
  EXPECT_WITHIN_0_1_PCT(
      PhaseUs(RunCells(Load("a6000-x8-2socket"), {{0, 4, b}, {1, 5, b}, {2, 6, b}, {3, 7, b}},
                       opts)),
      want);
}

// The node's NIC as the bottleneck: the 8 GPUs of node 0 each send to their
// counterpart on node 1; all cross node 0's one 12.5 GB/s NIC. Latencies
// differ (socket-1 GPUs also cross the socket link), but the NIC is busy from
// the first start until the last byte: the phase ends at the smallest
// latency (a socket-0 GPU: 8.4 + 11.3 + 6.7 us) + 8 B / 12.5 GB/s. Socket-1
// flows share the 10 GB/s socket link 4 ways (2.5 GB/s), above their NIC
// share (12.5 / 8 GB/s), so the NIC stays the bottleneck.
TEST(NetworkClosedFormTest, NodeNicIsSharedByEightFlows) {
  std::vector<Cell> cells;
  const uint64_t b = 1u << 28;
  for (uint32_t i = 0; i < 8; ++i) cells.push_back({i, i + 8, b});
  const double want = 8.4 + 11.3 + 6.7 + 8 * double(b) / 12.5e3;
  EXPECT_WITHIN_0_1_PCT(PhaseUs(RunCells(Load("a6000-2node-x8-100g"), cells)), want);
}

// ---- P2P versus SHM on the same pair ----------------------------------------

// One pair on the root-port box: P2P (gpu0 - rc0 - gpu1) pays one PCIe extra,
// SHM two; both at 24 GB/s.
TEST(NetworkClosedFormTest, P2pOnSamePairSkipsHostMemory) {
  SimOptions opts;
  opts.p2p = proto::P2P_ON;
  const double want = 8.4 + 4.7 + 2.0 + kGiB / 24e3;
  EXPECT_WITHIN_0_1_PCT(PhaseUs(RunCells(Load("a6000-x4-pcie-gen4"), {{0, 1, 1u << 30}}, opts)),
                        want);
}

// A ring of four on the root-port box. P2P: every flow has its own links,
// 24 GB/s each. SHM: every byte is written to and read from cpu0's memory,
// 4 flows x 2 loads on 128 GB/s: 16 GB/s each.
TEST(NetworkClosedFormTest, RingOverP2pRunsAtLinkSpeed) {
  SimOptions opts;
  opts.p2p = proto::P2P_ON;
  const uint64_t b = 1u << 30;
  const double want = 8.4 + 4.7 + 2.0 + kGiB / 24e3;
  EXPECT_WITHIN_0_1_PCT(
      PhaseUs(RunCells(Load("a6000-x4-pcie-gen4"), {{0, 1, b}, {1, 2, b}, {2, 3, b}, {3, 0, b}},
                       opts)),
      want);
}

TEST(NetworkClosedFormTest, RingOverShmIsBoundByHostMemory) {
  SimOptions opts;
  opts.p2p = proto::P2P_OFF;
  const uint64_t b = 1u << 30;
  const double want = 8.4 + 2 * 4.7 + 2.0 + kGiB / 16e3;
  EXPECT_WITHIN_0_1_PCT(
      PhaseUs(RunCells(Load("a6000-x4-pcie-gen4"), {{0, 1, b}, {1, 2, b}, {2, 3, b}, {3, 0, b}},
                       opts)),
      want);
}

// ---- per-phase parallel tasks -------------------------------------------------

// A uniform all-to-all on DGX A100: each GPU link carries 7 cells each way.
// Per pair and per phase both give latency + 7 B / 230 GB/s.
proto::Report UniformDgx(SimOptions::Granularity granularity) {
  std::vector<Cell> cells;
  const uint64_t b = 1u << 26;
  for (uint32_t s = 0; s < 8; ++s) {
    for (uint32_t d = 0; d < 8; ++d) {
      if (s != d) cells.push_back({s, d, b});
    }
  }
  SimOptions opts;
  opts.granularity = granularity;
  return RunCells(Load("dgx-a100"), cells, opts);
}

TEST(NetworkClosedFormTest, UniformAllToAllPerPair) {
  const double want = 8.4 + 2.8 + 0.6 + 7 * double(1u << 26) / 230e3;
  const proto::Report report = UniformDgx(SimOptions::Granularity::kPair);
  EXPECT_WITHIN_0_1_PCT(PhaseUs(report), want);
  EXPECT_EQ(report.settings().at("granularity"), "pair");
}

TEST(NetworkClosedFormTest, UniformAllToAllPerPhase) {
  const double want = 8.4 + 2.8 + 0.6 + 7 * double(1u << 26) / 230e3;
  const proto::Report report = UniformDgx(SimOptions::Granularity::kPhase);
  EXPECT_WITHIN_0_1_PCT(PhaseUs(report), want);
  EXPECT_EQ(report.settings().at("granularity"), "phase");
}

// Per phase, a skewed matrix ends when its most loaded link drains: gpu0
// sends 4 B to gpu1 and B to gpu2, gpu3 sends B to gpu1. gpu1's downlink
// carries 5 B: latency + 5 B / 230 GB/s.
TEST(NetworkClosedFormTest, PerPhaseEndsWhenTheMostLoadedLinkDrains) {
  SimOptions opts;
  opts.granularity = SimOptions::Granularity::kPhase;
  const uint64_t b = 1u << 26;
  const double want = 8.4 + 2.8 + 0.6 + 5 * double(b) / 230e3;
  EXPECT_WITHIN_0_1_PCT(
      PhaseUs(RunCells(Load("dgx-a100"), {{0, 1, 4 * b}, {0, 2, b}, {3, 1, b}}, opts)), want);
}

// 256 GPUs on the 32-node cluster, 1 MiB per ordered pair, per phase: every
// NIC uplink carries its node's 8 GPUs' cells to the 31 other nodes' GPU on
// its rail (248 cells; cross-rail cells reach that rail over NVLink first),
// and so does the PCIe link from that GPU to its switch; NVLink loads stay
// below 230 cells at 370 GB/s. The slowest message latency is a cross-rail
// one: 8.4 + 11.3 + (0.3 + 0.3 + 1 + 1 + 1.35 + 1.35 + 1 + 1) us.
TEST(NetworkClosedFormTest, ClusterAllToAllIsBoundByTheNics) {
  const proto::Topology topo = Load("h100-cluster-32node");
  std::vector<Cell> cells;
  const uint64_t b = 1u << 20;
  for (uint32_t s = 0; s < 256; ++s) {
    for (uint32_t d = 0; d < 256; ++d) {
      if (s != d) cells.push_back({s, d, b});
    }
  }
  const double want = 8.4 + 11.3 + 7.3 + 248 * double(b) / 48e3;
  const proto::Report report = RunCells(topo, cells);  // auto: per phase above 32 ranks
  EXPECT_EQ(report.settings().at("granularity"), "phase");
  EXPECT_WITHIN_0_1_PCT(PhaseUs(report), want);
}

// ---- per phase, in closed form or by SimGrid -------------------------------

// Dispatch, compute, combine in a row: neither all-to-all can overlap the
// other, so both end in closed form (gpu1's downlink drains 5 B, then
// gpu0's uplink drains 3 B), as the engine ends them.
TEST(NetworkClosedFormTest, OrderedPhasesEndInClosedForm) {
  const uint64_t b = 1u << 26;
  std::vector<uint64_t> first(64, 0), second(64, 0);
  first[0 * 8 + 1] = 4 * b, first[0 * 8 + 2] = b, first[3 * 8 + 1] = b;
  second[0 * 8 + 5] = 2 * b, second[0 * 8 + 6] = b;
  proto::Schedule schedule = EmptySchedule(8);
  AddAllToAll(&schedule, first);
  AddCompute(&schedule, std::vector<double>(8, 100.0), {0});
  AddAllToAll(&schedule, second, {1});
  SimOptions opts;
  opts.granularity = SimOptions::Granularity::kPhase;
  Result<SimResult> result = Simulate(Load("dgx-a100"), {schedule}, opts);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const proto::Report& report = result->reports[0];
  EXPECT_EQ(report.settings().at("closed_form_phases"), "2 of 2 all-to-all phase tasks");
  const double latency = 8.4 + 2.8 + 0.6;
  auto us = [&](int p) { return (report.phases(p).end_s() - report.phases(p).start_s()) * 1e6; };
  EXPECT_WITHIN_0_1_PCT(us(0), latency + 5 * double(b) / 230e3);
  EXPECT_WITHIN_0_1_PCT(us(2), latency + 3 * double(b) / 230e3);
}

// Two all-to-alls that wait for nothing run at once and share gpu0's
// uplink: SimGrid splits it (each ends after 2 B drained), where the
// closed form of either alone would say B.
TEST(NetworkClosedFormTest, PhasesThatMayOverlapGoToSimGrid) {
  const uint64_t b = 1u << 26;
  std::vector<uint64_t> to1(64, 0), to2(64, 0);
  to1[0 * 8 + 1] = b, to2[0 * 8 + 2] = b;
  proto::Schedule schedule = EmptySchedule(8);
  AddAllToAll(&schedule, to1);
  AddAllToAll(&schedule, to2);
  SimOptions opts;
  opts.granularity = SimOptions::Granularity::kPhase;
  Result<SimResult> result = Simulate(Load("dgx-a100"), {schedule}, opts);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const proto::Report& report = result->reports[0];
  EXPECT_EQ(report.settings().at("closed_form_phases"), "0 of 2 all-to-all phase tasks");
  const double want = 8.4 + 2.8 + 0.6 + 2 * double(b) / 230e3;
  for (int p = 0; p < 2; ++p)
    EXPECT_WITHIN_0_1_PCT((report.phases(p).end_s() - report.phases(p).start_s()) * 1e6, want);
}

// Turned off, SimGrid solves every phase task.
TEST(NetworkClosedFormTest, ClosedFormOffLeavesEveryPhaseToSimGrid) {
  SimOptions opts;
  opts.granularity = SimOptions::Granularity::kPhase;
  opts.closed_form = false;
  const uint64_t b = 1u << 26;
  const proto::Report report = RunCells(Load("dgx-a100"), {{0, 1, 4 * b}, {3, 1, b}}, opts);
  EXPECT_EQ(report.settings().at("closed_form_phases"), "0 of 1 all-to-all phase tasks");
  EXPECT_WITHIN_0_1_PCT(PhaseUs(report), 8.4 + 2.8 + 0.6 + 5 * double(b) / 230e3);
}

}  // namespace
}  // namespace epsim::engine
