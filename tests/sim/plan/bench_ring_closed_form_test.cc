// Closed-form cases for the ring collectives of sim/plan/bench_schedule.h,
// replayed by the engine on a uniform star (every GPU one full-duplex link
// to a switch): ring pair r -> r+1 crosses two links, each direction of a
// link carries one transfer per step, so a collective takes one base
// latency (its later steps are pipelined, Phase.pipelined) plus RingSteps x
//   (2 x link latency + chunk / efficiency / bw)
// to 1e-9 relative. Each TEST
// runs in its own process (Simulate() may be called once per process).
#include <gtest/gtest.h>

#include <cstdint>

#include "sim/engine/simulator.h"
#include "sim/plan/bench_schedule.h"
#include "tests/sim/topology/topology_test_util.h"

namespace epsim::plan {
namespace {

// The star's figures: 10 GB/s links of 1 us.
constexpr double kBwBytesPerS = 10e9;
constexpr double kLinkLatencyS = 1e-6;

// Star(n) under one protocol of `base_us` and payload `efficiency`.
proto::Topology Ring(uint32_t n, double base_us, double efficiency) {
  proto::Topology topo = testing::Star(static_cast<int>(n), kBwBytesPerS / 1e9,
                                       kLinkLatencyS * 1e6);
  proto::NcclProtocol* p = topo.mutable_nccl()->mutable_protocols(0);
  p->set_base_latency_us(base_us);
  p->set_payload_efficiency(efficiency);
  return topo;
}

// Simulated time of `schedule`: first step's start to the last arrival.
double SimulatedS(const proto::Topology& topo, const proto::Schedule& schedule,
                  engine::SimOptions opts = {}) {
  Result<engine::SimResult> result = engine::Simulate(topo, {schedule}, opts);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return 0;
  const proto::Report& r = result->reports[0];
  return r.total_time_s() - r.phases(0).start_s();
}

// One base latency for the collective (the steps after the first are
// pipelined: Phase.pipelined), then per step the route's latency and the
// chunk's transfer.
double ClosedFormS(uint32_t steps, double base_us, double efficiency, uint64_t chunk_bytes) {
  return base_us * 1e-6 +
         steps * (2 * kLinkLatencyS + chunk_bytes / efficiency / kBwBytesPerS);
}

#define EXPECT_REL_1E9(got, want) EXPECT_NEAR((got), (want), 1e-9 * (want))

// 4 ranks, 4 MiB: 6 steps of 1 MiB, 2 us + 104.8576 us each.
TEST(BenchRingClosedFormTest, AllReduceIsTwoNMinusOneStepsOfSizeOverN) {
  const proto::Schedule s = RingSchedule(BenchOp::kAllReduce, 4, 4u << 20);
  const double want = ClosedFormS(6, 0, 1, 1u << 20);
  EXPECT_DOUBLE_EQ(want, 6 * (2e-6 + 104.8576e-6));
  EXPECT_REL_1E9(SimulatedS(Ring(4, 0, 1), s), want);
}

// A protocol latency and a payload efficiency are charged per step.
TEST(BenchRingClosedFormTest, AllReduceChargesProtocolLatencyAndEfficiencyPerStep) {
  const proto::Schedule s = RingSchedule(BenchOp::kAllReduce, 8, 8u << 20);
  EXPECT_REL_1E9(SimulatedS(Ring(8, 5, 0.5), s), ClosedFormS(14, 5, 0.5, 1u << 20));
}

// Not a power of two: 3 ranks, 3 x 64 KiB output, 2 steps of 64 KiB.
TEST(BenchRingClosedFormTest, AllGatherIsNMinusOneSteps) {
  const proto::Schedule s = RingSchedule(BenchOp::kAllGather, 3, 3 * 65536);
  EXPECT_REL_1E9(SimulatedS(Ring(3, 3, 1), s), ClosedFormS(2, 3, 1, 65536));
}

TEST(BenchRingClosedFormTest, ReduceScatterIsNMinusOneSteps) {
  const proto::Schedule s = RingSchedule(BenchOp::kReduceScatter, 8, 8u << 20);
  EXPECT_REL_1E9(SimulatedS(Ring(8, 2, 1), s), ClosedFormS(7, 2, 1, 1u << 20));
}

// NCCL-like window of one transfer per rank: a ring step has one peer, so
// nothing changes.
TEST(BenchRingClosedFormTest, WindowOfOneKeepsTheClosedForm) {
  engine::SimOptions opts;
  opts.max_inflight = 1;
  const proto::Schedule s = RingSchedule(BenchOp::kAllReduce, 4, 4u << 20);
  EXPECT_REL_1E9(SimulatedS(Ring(4, 5, 1), s, opts), ClosedFormS(6, 5, 1, 1u << 20));
}

// The per-phase replay starts a step when every rank has issued it (a
// barrier); on a ring of identical steps that is the same time.
TEST(BenchRingClosedFormTest, PerPhaseReplayGivesTheSameTime) {
  engine::SimOptions opts;
  opts.granularity = engine::SimOptions::Granularity::kPhase;
  const proto::Schedule s = RingSchedule(BenchOp::kAllReduce, 4, 4u << 20);
  EXPECT_REL_1E9(SimulatedS(Ring(4, 5, 1), s, opts), ClosedFormS(6, 5, 1, 1u << 20));
}

// The step dependencies are what serialise the latencies: without them
// every step would be issued at once, and a latency-bound all-reduce (1 KiB
// chunks, 7 us latency per step) would take little more than one step.
TEST(BenchRingClosedFormTest, StepsWithoutDependenciesWouldOverlap) {
  proto::Schedule s = RingSchedule(BenchOp::kAllReduce, 4, 4096);
  for (proto::Phase& phase : *s.mutable_phases()) phase.clear_depends_on();
  const double want = ClosedFormS(6, 5, 1, 1024);
  EXPECT_LT(SimulatedS(Ring(4, 5, 1), s), 0.5 * want);
}

}  // namespace
}  // namespace epsim::plan
