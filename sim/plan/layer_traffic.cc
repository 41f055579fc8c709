#include "sim/plan/layer_traffic.h"

#include <algorithm>
#include <unordered_map>

#include "sim/dispatch/token_split.h"

namespace epsim::plan {
namespace {

// A token at position p of its sequence attends to p + 1 tokens; positions
// are the order of the sequence's tokens within the layer.
std::vector<double> CausalContext(const trace::LayerRouting& layer) {
  std::unordered_map<uint64_t, uint64_t> seen;
  std::vector<double> context(layer.num_tokens());
  for (size_t t = 0; t < layer.num_tokens(); ++t)
    context[t] = static_cast<double>(++seen[layer.sequence_ids[t]]);
  return context;
}

uint32_t DistinctRanks(const dispatch::RoutedToken& routed) {
  uint32_t distinct = 0;
  for (size_t i = 0; i < routed.rows.size(); ++i) {
    bool first = true;
    for (size_t j = 0; j < i; ++j) first &= routed.rows[j].rank != routed.rows[i].rank;
    distinct += first;
  }
  return distinct;
}

}  // namespace

uint64_t LayerTraffic::RemoteRows() const {
  uint64_t sum = 0;
  for (uint32_t s = 0; s < num_ranks; ++s)
    for (uint32_t d = 0; d < num_ranks; ++d)
      if (s != d) sum += rows[s * num_ranks + d];
  return sum;
}

uint64_t LayerTraffic::RowsInto(uint32_t rank) const {
  uint64_t sum = 0;
  for (uint32_t s = 0; s < num_ranks; ++s) sum += rows[s * num_ranks + rank];
  return sum;
}

uint64_t LayerTraffic::RowsFrom(uint32_t rank) const {
  uint64_t sum = 0;
  for (uint32_t d = 0; d < num_ranks; ++d) sum += rows[rank * num_ranks + d];
  return sum;
}

LayerTraffic CountLayer(const trace::LayerRouting& layer, const placement::Placement& placement,
                        const dispatch::Strategy& strategy) {
  const uint32_t d = placement.num_ranks();
  const dispatch::TokenSplit split(layer.num_tokens(), d);
  LayerTraffic out;
  out.num_ranks = d;
  out.num_tokens = layer.num_tokens();
  out.tokens_per_rank = split.TokensPerRank();
  out.rows.assign(size_t{d} * d, 0);
  out.tokens_per_expert.assign(placement.num_experts(), 0);
  out.reduce_inputs_per_rank.assign(d, 0);
  out.reduce_outputs_per_rank.assign(d, 0);
  out.sum_context_per_rank.assign(d, 0.0);
  const std::vector<double> context = CausalContext(layer);
  dispatch::RoutedToken routed;
  for (size_t t = 0; t < layer.num_tokens(); ++t) {
    const uint32_t src = split.RankOf(t);
    strategy.Route({layer.topk(t), layer.num_topk}, src, placement, &routed);
    for (const dispatch::DispatchRow& row : routed.rows) {
      ++out.rows[size_t{src} * d + row.rank];
      if (row.count > 1) {
        out.reduce_inputs_per_rank[row.rank] += row.count;
        ++out.reduce_outputs_per_rank[row.rank];
      }
    }
    for (uint32_t e : routed.experts) ++out.tokens_per_expert[e];
    out.sum_devices += DistinctRanks(routed);
    out.sum_context_per_rank[src] += context[t];
  }
  return out;
}

}  // namespace epsim::plan
