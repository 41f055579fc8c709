// Properties of every strategy on generated traces, counted through the
// planner's own LayerTraffic (sim/plan/layer_traffic.cc):
//   dedup never moves more rows than classical;
//   pruned:N_d never reaches more than N_d devices per token;
//   node-limited:M never more than M nodes;
//   hierarchical never sends a token twice to the same node;
//   topk_changed / weight_kept agree with a per-token recount, and
//   strategies that keep routing report 0 changed and the full weight.
#include <gtest/gtest.h>

#include "sim/dispatch/profile.h"
#include "sim/dispatch/strategies.h"
#include "sim/dispatch/token_split.h"
#include "sim/plan/layer_traffic.h"
#include "sim/synth/uniform.h"
#include "tests/sim/dispatch/dispatch_test_util.h"

namespace epsim::dispatch {
namespace {

constexpr uint32_t kExperts = 64, kRanks = 8, kTopk = 8;

struct Case {
  std::string name;
  trace::LayerRouting layer;
  placement::Placement placement;
  ClusterMap cluster;
};

// Uniform top-8 of 64 (candidates = top-k, from the trace generator) and
// random tokens with 16 candidates; contiguous and replicated placements;
// 2 nodes x 4 GPUs and 4 nodes x 2 GPUs.
std::vector<Case> Cases() {
  synth::UniformTraceOptions o;
  o.num_experts = kExperts;
  o.num_topk = kTopk;
  o.layers = {0};
  o.num_tokens = 2048;
  o.tokens_per_sequence = 256;
  o.seed = 5;
  auto uniform = synth::GenerateUniformTrace(o);
  EXPECT_TRUE(uniform.ok());
  std::mt19937_64 rng(9);
  const trace::LayerRouting candidates = testing::RandomLayer(rng, 2048, kExperts, kTopk, 16);
  const placement::Placement contiguous = *placement::Contiguous(kExperts, kRanks);
  const placement::Placement replicated = testing::RandomPlacement(rng, kExperts, kRanks, true);
  return {{"uniform-contiguous-2x4", uniform->layers[0], contiguous, testing::EvenNodes(8, 2)},
          {"candidates-contiguous-4x2", candidates, contiguous, testing::EvenNodes(8, 4)},
          {"candidates-replicated-2x4", candidates, replicated, testing::EvenNodes(8, 2)},
          {"uniform-replicated-4x2", uniform->layers[0], replicated, testing::EvenNodes(8, 4)}};
}

const std::vector<std::string> kSpecs = {
    "classical",      "dedup",          "hierarchical",   "pruned:1:score", "pruned:2:score",
    "pruned:3:score", "pruned:8:score", "pruned:1:similarity", "pruned:2:similarity",
    "pruned:8:similarity", "c2r:7", "c2r:63", "node-limited:1", "node-limited:2",
    "node-limited:4"};

// The strategies whose routing must equal the router's top-k here: those
// that never change it, N_d = D, T = E - 1 (every candidate is a partner)
// and M >= the number of nodes.
bool KeepsRouting(const std::string& spec, const ClusterMap& cluster) {
  if (spec.starts_with("node-limited:")) return std::stoul(spec.substr(13)) >= cluster.num_hosts;
  return spec == "classical" || spec == "dedup" || spec == "hierarchical" ||
         spec == "pruned:8:score" || spec == "pruned:8:similarity" || spec == "c2r:63";
}

void CheckToken(const std::string& spec, const Case& s, uint32_t src, const RoutedToken& r) {
  auto node = [&](uint32_t rank) { return s.cluster.HostOf(rank); };
  const size_t devices = testing::DistinctOver(r, [](const DispatchRow& row) { return row.rank; });
  const size_t nodes =
      testing::DistinctOver(r, [&](const DispatchRow& row) { return node(row.rank); });
  if (spec.starts_with("pruned:")) {
    EXPECT_LE(devices, std::stoul(spec.substr(7))) << spec;
  }
  if (spec.starts_with("node-limited:")) {
    EXPECT_LE(nodes, std::stoul(spec.substr(13))) << spec;
  }
  if (spec == "hierarchical") {
    // Network copies as the planner counts them: distinct relays off the
    // source's node; one per destination node at most.
    std::map<uint32_t, std::set<uint32_t>> relays_per_node;
    for (const DispatchRow& row : r.rows) {
      EXPECT_EQ(node(row.relay), node(row.rank));
      if (node(row.rank) != node(src)) relays_per_node[node(row.rank)].insert(row.relay);
    }
    for (const auto& [n, relays] : relays_per_node) EXPECT_EQ(relays.size(), 1u) << "node " << n;
  }
}

uint64_t RemoteNodes(const ClusterMap& cluster, uint32_t src, const RoutedToken& r) {
  std::set<uint32_t> nodes;
  for (const DispatchRow& row : r.rows)
    if (cluster.HostOf(row.rank) != cluster.HostOf(src)) nodes.insert(cluster.HostOf(row.rank));
  return nodes.size();
}

TEST(DispatchPropertiesTest, HoldOnGeneratedTraces) {
  for (const Case& s : Cases()) {
    SCOPED_TRACE(s.name);
    trace::Trace profile_trace;
    profile_trace.header.set_num_experts(kExperts);
    profile_trace.layers.push_back(s.layer);
    const auto profiles = BuildProfiles(profile_trace);
    const RouteContext ctx{s.placement, s.cluster, &profiles.at(0)};
    std::map<std::string, plan::LayerTraffic> traffic;
    uint64_t remote_nodes = 0;  // sum over tokens of nodes reached other than the source's
    for (const std::string& spec : kSpecs) {
      auto strategy = MakeStrategy(spec);
      ASSERT_TRUE(strategy.ok()) << spec;
      ASSERT_TRUE(CheckStrategyFits(**strategy, kTopk).ok()) << spec;
      traffic[spec] = plan::CountLayer(s.layer, ctx, **strategy);
      // Per token: the limits, and a recount of the routing change.
      const TokenSplit split(s.layer.num_tokens(), kRanks);
      uint64_t changed = 0;
      double kept = 0;
      RoutedToken r;
      for (size_t t = 0; t < s.layer.num_tokens(); ++t) {
        const TokenView token = plan::ViewOf(s.layer, t);
        (*strategy)->Route(token, split.RankOf(t), ctx, &r);
        CheckToken(spec, s, split.RankOf(t), r);
        if (spec == "dedup") remote_nodes += RemoteNodes(s.cluster, split.RankOf(t), r);
        const std::set<uint32_t> used(r.experts.begin(), r.experts.end());
        for (uint32_t i = 0; i < kTopk; ++i)
          used.count(token.candidates[i]) ? kept += token.scores[i] : ++changed;
      }
      const plan::LayerTraffic& lt = traffic[spec];
      EXPECT_EQ(lt.topk_picks, s.layer.num_tokens() * kTopk) << spec;
      EXPECT_EQ(lt.topk_changed, changed) << spec;
      EXPECT_NEAR(lt.weight_kept, kept, 1e-6 * lt.weight_total) << spec;
      if (KeepsRouting(spec, s.cluster)) {
        EXPECT_EQ(lt.topk_changed, 0u) << spec;
        EXPECT_EQ(lt.weight_kept, lt.weight_total) << spec;
      } else {
        EXPECT_GT(lt.topk_changed, 0u) << spec << " should change some picks here";
        EXPECT_LT(lt.weight_kept, lt.weight_total) << spec;
      }
      if (::testing::Test::HasFailure()) return;
    }
    EXPECT_LE(traffic["dedup"].RemoteRows(), traffic["classical"].RemoteRows());
    // Top-8 of 64 on 8 ranks often picks two experts of one rank.
    EXPECT_LT(traffic["dedup"].RemoteRows(), traffic["classical"].RemoteRows());
    // Hierarchical: the same experts on the same ranks as dedup, network
    // copies = distinct remote nodes per token, forwards stay in a node.
    const plan::LayerTraffic& h = traffic["hierarchical"];
    const plan::LayerTraffic& d = traffic["dedup"];
    EXPECT_EQ(h.tokens_per_rank_expert, d.tokens_per_rank_expert);
    uint64_t network = 0, dedup_network = 0;
    for (uint32_t a = 0; a < kRanks; ++a)
      for (uint32_t b = 0; b < kRanks; ++b) {
        const bool cross = s.cluster.HostOf(a) != s.cluster.HostOf(b);
        if (!cross) continue;
        network += h.rows[a * kRanks + b];
        dedup_network += d.rows[a * kRanks + b];
        EXPECT_EQ(h.forward_rows[a * kRanks + b], 0u);
      }
    EXPECT_EQ(network, remote_nodes);
    EXPECT_LT(network, dedup_network);
    EXPECT_EQ(h.sum_nodes, d.sum_nodes);
  }
}

}  // namespace
}  // namespace epsim::dispatch
