// Closed-form network cases on PROCESS ranks (epsim-hw's host backend): CPU
// processes of one socket, each on its own MEMORY link to the socket, talk
// through the socket's host memory (transport.h). The machine, built by
// testing::ProcessHost: four processes, links of L GB/s per direction and
// 0.5 us each, host memory M GB/s (reads and writes together: a byte
// written and read loads it twice, so flows share M / 2). The protocol
// (testing::ProcessNccl): base 2 us, payload efficiency 0.5, 3 us per memory
// hop (two per message), P2P on (processes stay SHM anyway), no window.
// Every message's latency is therefore 2 + 2 x 3 + 2 x 0.5 = 9 us, and a
// message of B bytes puts 2 B on the wire. Each expected time below is
// worked out by hand and must agree within 0.1%. Each TEST runs in its own
// process (Simulate() may be called once per process).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/engine/simulator.h"
#include "sim/topology/topology.h"
#include "tests/sim/topology/topology_test_util.h"

namespace epsim::engine {
namespace {

using testing::AddAllToAll;
using testing::EmptySchedule;

constexpr double kMiB = 1048576.0;
constexpr double kLatencyUs = 2 + 2 * 3 + 2 * 0.5;
constexpr uint64_t kBytes = 1u << 20;  // small enough that the latency counts

proto::Topology FourProcesses(double link_gb_per_s, double memory_gb_per_s) {
  proto::Topology topo = testing::ProcessHost(4, link_gb_per_s, 0.5, memory_gb_per_s);
  testing::ProcessNccl(&topo, 2, 0.5, 3);
  EXPECT_TRUE(topology::ValidateTopology(topo).ok()) << topology::ValidateTopology(topo).ToString();
  return topo;
}

// One all-to-all phase on the four processes with `send` [src][dst].
proto::Report RunPhase(const proto::Topology& topo, const std::vector<uint64_t>& send,
                  SimOptions opts = {}) {
  proto::Schedule schedule = EmptySchedule(4);
  AddAllToAll(&schedule, send);
  Result<SimResult> result = Simulate(topo, {schedule}, opts);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? result->reports[0] : proto::Report();
}

double PhaseUs(const proto::Report& report) {
  return (report.phases(0).end_s() - report.phases(0).start_s()) * 1e6;
}

std::vector<uint64_t> Ring() {
  std::vector<uint64_t> send(16, 0);
  for (int r = 0; r < 4; ++r) send[r * 4 + (r + 1) % 4] = kBytes;
  return send;
}

#define EXPECT_WITHIN_0_1_PCT(got, want) EXPECT_NEAR((got), (want), 1e-3 * (want))

// A lone message, link-bound: L = 20, M = 100 (50 for one flow):
// 9 us + 2 MiB / 20 GB/s = 9 + 104.858 = 113.858 us.
TEST(ProcessClosedFormTest, LoneMessageIsBoundByTheProcessLink) {
  std::vector<uint64_t> send(16, 0);
  send[0 * 4 + 2] = kBytes;
  const double want = kLatencyUs + 2 * kMiB / 20e3;
  const proto::Report report = RunPhase(FourProcesses(20, 100), send);
  EXPECT_WITHIN_0_1_PCT(PhaseUs(report), want);
  EXPECT_EQ(report.settings().at("transport"),
            "--p2p on: 0 P2P, 12 SHM, 0 NET ordered process pairs");
}

// A lone message, memory-bound: L = 20, M = 30 (15 for one flow):
// 9 us + 2 MiB / 15 GB/s = 9 + 139.810 = 148.810 us.
TEST(ProcessClosedFormTest, LoneMessageIsBoundByHalfTheHostMemory) {
  std::vector<uint64_t> send(16, 0);
  send[1 * 4 + 3] = kBytes;
  const double want = kLatencyUs + 2 * kMiB / 15e3;
  EXPECT_WITHIN_0_1_PCT(PhaseUs(RunPhase(FourProcesses(20, 30), send)), want);
}

// A ring 0 -> 1 -> 2 -> 3 -> 0, all at once: each link direction carries one
// flow (20 GB/s), the socket memory four: 100 / 2 / 4 = 12.5 GB/s each, the
// bottleneck. 9 us + 2 MiB / 12.5 GB/s = 9 + 167.772 = 176.772 us.
TEST(ProcessClosedFormTest, RingSharesTheSocketMemory) {
  const double want = kLatencyUs + 2 * kMiB / 12.5e3;
  EXPECT_WITHIN_0_1_PCT(PhaseUs(RunPhase(FourProcesses(20, 100), Ring())), want);
}

// All-to-all, 12 flows of B: the socket memory carries all of them, 50 / 12
// GB/s each, below the links' 20 / 3 (three flows per link direction).
// 9 us + 12 x 2 MiB / 50 GB/s = 9 + 503.316 = 512.316 us.
TEST(ProcessClosedFormTest, AllToAllIsBoundByTheSocketMemory) {
  const double want = kLatencyUs + 12 * 2 * kMiB / 50e3;
  EXPECT_WITHIN_0_1_PCT(PhaseUs(RunPhase(FourProcesses(20, 100), testing::Uniform(4, kBytes))), want);
}

// The same as one parallel task per phase: the fluid optimum is the same.
TEST(ProcessClosedFormTest, AllToAllPerPhaseIsBoundByTheSocketMemory) {
  SimOptions opts;
  opts.granularity = SimOptions::Granularity::kPhase;
  const double want = kLatencyUs + 12 * 2 * kMiB / 50e3;
  EXPECT_WITHIN_0_1_PCT(
      PhaseUs(RunPhase(FourProcesses(20, 100), testing::Uniform(4, kBytes), opts)), want);
}

// With ample memory (M = 1000: 500 / 12 = 41.7 GB/s per flow) the links
// bind: three flows per direction, 20 / 3 GB/s each.
// 9 us + 3 x 2 MiB / 20 GB/s = 9 + 314.573 = 323.573 us.
TEST(ProcessClosedFormTest, AllToAllWithAmpleMemoryIsBoundByTheProcessLinks) {
  const double want = kLatencyUs + 3 * 2 * kMiB / 20e3;
  EXPECT_WITHIN_0_1_PCT(PhaseUs(RunPhase(FourProcesses(20, 1000), testing::Uniform(4, kBytes))), want);
}

}  // namespace
}  // namespace epsim::engine
