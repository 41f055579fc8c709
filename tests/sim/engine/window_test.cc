// Closed-form cases of the NCCL-like window (SimOptions::max_inflight).
// Each TEST runs in its own process, as Simulate() may be called once per
// process.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/engine/simulator.h"
#include "tests/sim/topology/topology_test_util.h"

namespace epsim::engine {
namespace {

using testing::AddAllToAll;
using testing::AddCompute;
using testing::EmptySchedule;
using testing::Star;
using testing::Uniform;

Result<SimResult> SimulateWindowed(const proto::Topology& topo, const proto::Schedule& schedule,
                                   uint32_t max_inflight) {
  SimOptions opts;
  opts.max_inflight = max_inflight;
  return Simulate(topo, {schedule}, opts);
}

std::string Setting(const SimResult& result, const std::string& key) {
  for (const auto& [k, v] : result.settings) {
    if (k == key) return v;
  }
  return "";
}

// W = 1 on a star of n GPUs, uniform B bytes per pair: in round k every rank
// sends to (r + k) mod n, so each uplink and each downlink carries exactly
// one flow. A round costs the route latency (2 links) then B / bw, and the
// rounds run back to back: (n - 1) x (2 x latency + B / bw).
TEST(WindowTest, OneInFlightSerializesPairwiseRounds) {
  const int n = 4;
  proto::Schedule schedule = EmptySchedule(n);
  AddAllToAll(&schedule, Uniform(n, 1000000));
  Result<SimResult> result = SimulateWindowed(Star(n, 100, 1), schedule, 1);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const proto::Report& report = result->reports[0];
  double want_s = (n - 1) * (2 * 1e-6 + 1e6 / 100e9);  // 36 us
  EXPECT_NEAR(report.total_time_s(), want_s, 1e-12);
  for (int r = 0; r < n; ++r) EXPECT_NEAR(report.ops(r).end_s(), want_s, 1e-12);
  EXPECT_EQ(Setting(*result, "max_inflight"), "1 per rank, pairwise order");
}

// W = 2, n = 4: rounds 1 and 2 share each uplink and downlink (B / (bw / 2)
// each, both done at 2 lat + 2 B / bw); round 3 then runs alone:
// 2 x 2 lat + 3 B / bw.
TEST(WindowTest, TwoInFlightOverlapTwoRounds) {
  const int n = 4;
  proto::Schedule schedule = EmptySchedule(n);
  AddAllToAll(&schedule, Uniform(n, 1000000));
  Result<SimResult> result = SimulateWindowed(Star(n, 100, 1), schedule, 2);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  double want_s = 2 * 2e-6 + 3 * 1e6 / 100e9;  // 34 us
  EXPECT_NEAR(result->reports[0].total_time_s(), want_s, 1e-12);
}

// A window at least n - 1 wide keeps every transfer in flight: the same
// answer as unlimited on the reference star (simgrid-3.32.md).
TEST(WindowTest, WideWindowMatchesUnlimitedReference) {
  proto::Schedule schedule = EmptySchedule(8);
  AddAllToAll(&schedule, Uniform(8, 1000000));
  AddCompute(&schedule, std::vector<double>(8, 1.0), {0});
  Result<SimResult> result = SimulateWindowed(Star(8, 450, 1), schedule, 7);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  double want_s = 2 * 1e-6 + 7e6 / 450e9 + 1e-6;
  EXPECT_NEAR(result->reports[0].total_time_s(), want_s, 1e-12);
}

// W = 0 keeps every transfer in flight: the reference value.
TEST(WindowTest, ZeroIsUnlimitedAndUnreported) {
  proto::Schedule schedule = EmptySchedule(8);
  AddAllToAll(&schedule, Uniform(8, 1000000));
  AddCompute(&schedule, std::vector<double>(8, 1.0), {0});
  Result<SimResult> result = SimulateWindowed(Star(8, 450, 1), schedule, 0);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  double want_s = 2 * 1e-6 + 7e6 / 450e9 + 1e-6;
  EXPECT_NEAR(result->reports[0].total_time_s(), want_s, 1e-12);
  EXPECT_EQ(Setting(*result, "max_inflight"), "unlimited");
}

}  // namespace
}  // namespace epsim::engine
