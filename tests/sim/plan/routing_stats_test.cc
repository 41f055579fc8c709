#include "sim/plan/routing_stats.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "sim/synth/uniform.h"
#include "sim/trace/writer.h"
#include "tests/sim/plan/plan_test_util.h"

namespace epsim::plan {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (name + "." + std::to_string(::getpid()) + ".trace"))
      .string();
}

TEST(RoutingStatsTest, HandTraceGivesHandCountedMeans) {
  const std::string path = TempPath("hand");
  ASSERT_TRUE(trace::WriteTrace(path, testing::HandTrace({0, 3})).ok());
  auto stats = ComputeRoutingStats(path, 2, "contiguous");
  std::filesystem::remove(path);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_EQ(stats->layers.size(), 2u);
  EXPECT_EQ(stats->layers[1].layer, 3u);
  EXPECT_DOUBLE_EQ(stats->layers[0].num_tokens, 4);
  EXPECT_DOUBLE_EQ(stats->layers[0].ct_mean, 5.0 / 4);
  EXPECT_DOUBLE_EQ(stats->layers[0].rows_classical, 3.0 / 4);
  EXPECT_DOUBLE_EQ(stats->layers[0].rows_dedup, 2.0 / 4);
  EXPECT_DOUBLE_EQ(stats->mean.rows_dedup, 0.5);
}

// The same hand trace: loads e0..e3 = 3, 2, 2, 1; devices 5, 3; per-token
// expert pairs (0,1) x2 and (2,3) on one device, (0,2) across; layer 3
// repeats layer 0, so 14 of the 16 (this pick, next pick) pairs share a device.
TEST(RoutingStatsTest, HandTraceLoadCollaborationAffinityAndTraffic) {
  const std::string path = TempPath("hand_detail");
  ASSERT_TRUE(trace::WriteTrace(path, testing::HandTrace({0, 3})).ok());
  auto stats = ComputeRoutingStats(path, 2, "contiguous");
  std::filesystem::remove(path);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  const LayerStats& l0 = stats->layers[0];
  EXPECT_DOUBLE_EQ(l0.load_imbalance, 1.5);
  EXPECT_NEAR(l0.load_cv, std::sqrt(0.5) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(l0.device_imbalance, 1.25);
  EXPECT_DOUBLE_EQ(l0.collab_intra, 0.75);
  ASSERT_TRUE(l0.has_next_layer);
  EXPECT_DOUBLE_EQ(l0.affinity_concentration, 0.5);
  EXPECT_DOUBLE_EQ(l0.affinity_same_device, 14.0 / 16);
  EXPECT_FALSE(stats->layers[1].has_next_layer);
  EXPECT_EQ(stats->details[0].device_load, (std::vector<uint64_t>{5, 3}));
  EXPECT_EQ(stats->details[0].traffic_classical, (std::vector<uint64_t>{0, 1, 2, 0}));
  EXPECT_EQ(stats->details[0].traffic_dedup, (std::vector<uint64_t>{0, 1, 1, 0}));
  EXPECT_EQ(stats->trace.layers[0].coact.at(0, 1), 2u);
  EXPECT_EQ(stats->trace.layers[0].coact.at(0, 0), 3u);  // diagonal = load
}

// The hand trace on 3 ranks, contiguous {0, 1}, {2}, {3}; tokens 0 | 1 |
// 2, 3. C_T 1, 2, 2, 1; classical rows 0, 1, 1, 2; dedup rows 0, 1, 1, 1;
// device loads 5, 2, 1.
TEST(RoutingStatsTest, UnevenPlacementOnThreeRanks) {
  const std::string path = TempPath("hand_uneven");
  ASSERT_TRUE(trace::WriteTrace(path, testing::HandTrace({0})).ok());
  auto stats = ComputeRoutingStats(path, 3, "contiguous");
  std::filesystem::remove(path);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->experts_per_device, "2 (1 device), 1 (2 devices)");
  const LayerStats& l = stats->layers[0];
  EXPECT_DOUBLE_EQ(l.ct_mean, 6.0 / 4);
  EXPECT_DOUBLE_EQ(l.rows_classical, 4.0 / 4);
  EXPECT_DOUBLE_EQ(l.rows_dedup, 3.0 / 4);
  EXPECT_DOUBLE_EQ(l.device_imbalance, 15.0 / 8);
  EXPECT_EQ(stats->details[0].device_load, (std::vector<uint64_t>{5, 2, 1}));
  EXPECT_EQ(stats->details[0].traffic_classical,
            (std::vector<uint64_t>{0, 0, 0, 1, 0, 0, 2, 1, 0}));
  EXPECT_EQ(stats->details[0].traffic_dedup, (std::vector<uint64_t>{0, 0, 0, 1, 0, 0, 1, 1, 0}));
}

// E[C_T] = D (1 - C(E - E/D, k) / C(E, k)) for uniform routing: OLMoE (64
// experts, top-8) gives 3.659 on 4 devices and 5.43 on 8 (dispatch.md).
TEST(RoutingStatsTest, UniformSyntheticTraceMatchesClosedFormExpectedCt) {
  synth::UniformTraceOptions o;
  o.model = "olmoe-1b-7b";
  o.layers = {0, 1, 2, 3};
  o.num_tokens = 8192;
  auto trace = synth::GenerateUniformTrace(o);
  ASSERT_TRUE(trace.ok());
  const std::string path = TempPath("uniform");
  ASSERT_TRUE(trace::WriteTrace(path, *trace).ok());
  auto d4 = ComputeRoutingStats(path, 4, "contiguous");
  auto d8 = ComputeRoutingStats(path, 8, "contiguous");
  std::filesystem::remove(path);
  ASSERT_TRUE(d4.ok() && d8.ok());
  EXPECT_NEAR(d4->mean.ct_mean, 3.6590, 0.01) << "D = 4";
  EXPECT_NEAR(d8->mean.ct_mean, 5.4326, 0.01) << "D = 8";
  // Classical sends every expert not on the source device: 8 * (1 - 1/D).
  EXPECT_NEAR(d4->mean.rows_classical, 6.0, 0.02);
}

TEST(RoutingStatsTest, MissingTraceIsAnError) {
  auto stats = ComputeRoutingStats("/nonexistent/x.trace", 4, "contiguous");
  EXPECT_FALSE(stats.ok());
  EXPECT_NE(stats.status().message().find("/nonexistent/x.trace"), std::string::npos);
}

}  // namespace
}  // namespace epsim::plan
