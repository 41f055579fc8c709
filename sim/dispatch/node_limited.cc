// Node-limited routing (DeepSeek-V3): each token uses experts on at most M
// nodes. A node's score is the sum of the scores of its best two candidate
// experts (one if it has only one, 0 if none); the M best nodes are kept
// (ties to the lower node id) and the top-k is re-taken among the
// candidates on them, by descending score, weights their router scores.
//
// Choices:
// - An expert belongs to the node of its primary copy. Routing is part of
//   the model, so it must not depend on where replicas happen to be; the
//   dispatch then uses only copies on the chosen nodes (ChooseReplica with a RankMask), which
//   the primary guarantees to exist, so the M-node limit holds.
// - Only the trace's candidates have scores. V3 scores nodes over all
//   experts; with a shorter candidate list node scores use the listed ones,
//   and when too few candidates sit on the chosen nodes the token gets
//   fewer than k experts (counted as changed picks).
// - M >= the number of nodes (one node included) leaves routing unchanged;
//   then this is deduplicated dispatch (NoEffectReason says so).
// Dispatch is deduplicated, one row per device.
#include <algorithm>
#include <numeric>
#include <string>

#include <fmt/format.h>

#include "sim/dispatch/strategies.h"

namespace epsim::dispatch {
namespace {

class NodeLimited : public Strategy {
 public:
  explicit NodeLimited(uint32_t max_nodes) : max_nodes_(max_nodes) {}

  std::string name() const override { return "node-limited:" + std::to_string(max_nodes_); }
  bool changes_routing() const override { return true; }
  bool needs_scores() const override { return true; }
  std::string NoEffectReason(const ClusterMap& cluster, uint32_t) const override {
    if (max_nodes_ < cluster.num_hosts) return "";
    return fmt::format("{}: the {} ranks are on {} node{}, within the limit of {}: routing "
                       "unchanged, dispatched as dedup",
                       name(), cluster.host_of_rank.size(), cluster.num_hosts,
                       cluster.num_hosts == 1 ? "" : "s", max_nodes_);
  }

  void Route(const TokenView& token, uint32_t src, const RouteContext& ctx,
             RoutedToken* out) const override {
    if (max_nodes_ >= ctx.cluster.num_hosts) {
      GroupByDevice(token.topk(), token.scores.first(token.num_topk), src, ctx, out);
      return;
    }
    const std::vector<uint8_t> chosen = ChooseNodes(token, ctx);
    std::vector<uint32_t> experts;
    std::vector<float> weights;
    for (size_t i = 0; i < token.candidates.size() && experts.size() < token.num_topk; ++i) {
      if (!chosen[NodeOfExpert(ctx, token.candidates[i])]) continue;
      experts.push_back(token.candidates[i]);
      weights.push_back(token.scores[i]);
    }
    RankMask allowed(ctx.placement.num_ranks(), 0);
    for (uint32_t r = 0; r < allowed.size(); ++r) allowed[r] = chosen[ctx.cluster.HostOf(r)];
    GroupByDevice(experts, weights, src, ctx, out, &allowed);
  }

 private:
  static uint32_t NodeOfExpert(const RouteContext& ctx, uint32_t expert) {
    return ctx.cluster.HostOf(ctx.placement.RankOf(expert));
  }

  // chosen[node] != 0 for the M nodes with the highest best-two sums.
  std::vector<uint8_t> ChooseNodes(const TokenView& token, const RouteContext& ctx) const {
    const uint32_t num_nodes = ctx.cluster.num_hosts;
    std::vector<double> score(num_nodes, 0.0);
    std::vector<uint32_t> counted(num_nodes, 0);
    // Candidates come by descending score: a node's first two are its best.
    for (size_t i = 0; i < token.candidates.size(); ++i) {
      const uint32_t node = NodeOfExpert(ctx, token.candidates[i]);
      if (counted[node] < 2) score[node] += token.scores[i], ++counted[node];
    }
    std::vector<uint32_t> order(num_nodes);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return score[a] > score[b]; });
    std::vector<uint8_t> chosen(num_nodes, 0);
    for (uint32_t i = 0; i < max_nodes_; ++i) chosen[order[i]] = 1;
    return chosen;
  }

  const uint32_t max_nodes_;
};

}  // namespace

std::unique_ptr<Strategy> MakeNodeLimited(uint32_t max_nodes) {
  return std::make_unique<NodeLimited>(max_nodes);
}

}  // namespace epsim::dispatch
