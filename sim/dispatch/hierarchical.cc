// Hierarchical dispatch (DeepEP's internode kernels, DeepSeek-V3): the
// token's top-k is unchanged and deduplicated per device (GroupByDevice);
// a row for a device on another node than the source does not go there
// directly: one copy crosses the network to the relay, the GPU of the
// destination node with the same local index as the source, and the relay
// forwards it over NVLink to every GPU of its node that the token uses
// (itself included, at no cost). Rows on the source's node go directly
// (relay == rank). Every row bound for a node names the same relay, so the
// planner (plan/layer_traffic.cc) counts one network copy per destination
// node. Combine mirrors it: gathered on the relay, one copy back.
//
// Choices:
// - Local index = position of the source among the ranks of its node, in
//   rank order. A destination node with fewer ranks uses the index modulo
//   its size (heterogeneous nodes have no DeepEP counterpart).
// - Replicas are chosen as dedup chooses them (GroupByDevice); a choice
//   that prefers nodes the token already reaches could save copies but
//   would make hierarchical and dedup differ in more than the transport.
// - On one node no row has a relay: this is dedup (NoEffectReason says so).
#include <string>

#include <fmt/format.h>

#include "sim/dispatch/strategies.h"

namespace epsim::dispatch {
namespace {

// The `index`-th rank (modulo the node's size) of `node`, in rank order.
uint32_t RankWithLocalIndex(const ClusterMap& cluster, uint32_t node, uint32_t index) {
  std::vector<uint32_t> ranks;
  for (uint32_t r = 0; r < cluster.host_of_rank.size(); ++r)
    if (cluster.HostOf(r) == node) ranks.push_back(r);
  return ranks[index % ranks.size()];
}

uint32_t LocalIndex(const ClusterMap& cluster, uint32_t rank) {
  uint32_t index = 0;
  for (uint32_t r = 0; r < rank; ++r) index += cluster.HostOf(r) == cluster.HostOf(rank);
  return index;
}

class Hierarchical : public Strategy {
 public:
  std::string name() const override { return "hierarchical"; }
  bool hierarchical() const override { return true; }
  std::string NoEffectReason(const ClusterMap& cluster, uint32_t) const override {
    if (cluster.num_hosts > 1) return "";
    return fmt::format("hierarchical: the {} ranks are on one node, so no row needs a relay: "
                       "dispatched as dedup",
                       cluster.host_of_rank.size());
  }

  void Route(const TokenView& token, uint32_t src, const RouteContext& ctx,
             RoutedToken* out) const override {
    GroupByDevice(token.topk(), token.scores.first(token.num_topk), src, ctx, out);
    const uint32_t src_node = ctx.cluster.HostOf(src);
    const uint32_t local = LocalIndex(ctx.cluster, src);
    for (DispatchRow& row : out->rows) {
      const uint32_t node = ctx.cluster.HostOf(row.rank);
      row.relay = node == src_node ? row.rank : RankWithLocalIndex(ctx.cluster, node, local);
    }
  }
};

}  // namespace

std::unique_ptr<Strategy> MakeHierarchical() { return std::make_unique<Hierarchical>(); }

}  // namespace epsim::dispatch
