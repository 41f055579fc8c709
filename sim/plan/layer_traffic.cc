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

// Distinct values of f(row) over the token's rows (k is small).
template <typename F>
uint32_t Distinct(const dispatch::RoutedToken& routed, F f) {
  uint32_t distinct = 0;
  for (size_t i = 0; i < routed.rows.size(); ++i) {
    bool first = true;
    for (size_t j = 0; j < i; ++j) first &= f(routed.rows[j]) != f(routed.rows[i]);
    distinct += first;
  }
  return distinct;
}

class Counter {
 public:
  Counter(const dispatch::RouteContext& ctx, bool hierarchical, LayerTraffic* out)
      : ctx_(ctx), hierarchical_(hierarchical), out_(out), d_(ctx.placement.num_ranks()),
        e_(ctx.placement.num_experts()) {}

  void Add(const dispatch::TokenView& token, uint32_t src, const dispatch::RoutedToken& routed) {
    AddRows(src, routed);
    for (const dispatch::DispatchRow& row : routed.rows) {
      for (uint32_t i = row.first; i < row.first + row.count; ++i) {
        ++out_->tokens_per_expert[routed.experts[i]];
        ++out_->tokens_per_rank_expert[size_t{row.rank} * e_ + routed.experts[i]];
      }
      if (row.count > 1) {
        out_->reduce_inputs_per_rank[row.rank] += row.count;
        ++out_->reduce_outputs_per_rank[row.rank];
      }
    }
    out_->sum_devices += Distinct(routed, [](const auto& r) { return r.rank; });
    out_->sum_nodes += Distinct(routed, [&](const auto& r) { return ctx_.cluster.HostOf(r.rank); });
    AddRoutingChange(token, routed);
  }

 private:
  // Single-stage: one first-stage row per routed row. Hierarchical: one
  // copy per distinct relay, then a forward for each row not at its relay.
  void AddRows(uint32_t src, const dispatch::RoutedToken& routed) {
    for (size_t i = 0; i < routed.rows.size(); ++i) {
      const dispatch::DispatchRow& row = routed.rows[i];
      bool first_copy = true;
      if (hierarchical_)
        for (size_t j = 0; j < i; ++j) first_copy &= routed.rows[j].relay != row.relay;
      if (first_copy) ++out_->rows[size_t{src} * d_ + row.relay];
      if (row.relay != row.rank) ++out_->forward_rows[size_t{row.relay} * d_ + row.rank];
    }
  }

  void AddRoutingChange(const dispatch::TokenView& token, const dispatch::RoutedToken& routed) {
    for (uint32_t i = 0; i < token.num_topk; ++i) {
      out_->weight_total += token.scores[i];
      ++out_->topk_picks;
      const bool kept = std::find(routed.experts.begin(), routed.experts.end(),
                                  token.candidates[i]) != routed.experts.end();
      if (kept)
        out_->weight_kept += token.scores[i];
      else
        ++out_->topk_changed;
    }
  }

  const dispatch::RouteContext& ctx_;
  const bool hierarchical_;
  LayerTraffic* out_;
  const uint32_t d_, e_;
};

uint64_t SumRow(const std::vector<uint64_t>& m, uint32_t n, uint32_t r) {
  uint64_t sum = 0;
  for (uint32_t j = 0; j < n; ++j) sum += m[size_t{r} * n + j];
  return sum;
}

uint64_t SumColumn(const std::vector<uint64_t>& m, uint32_t n, uint32_t c) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < n; ++i) sum += m[size_t{i} * n + c];
  return sum;
}

}  // namespace

uint64_t LayerTraffic::RemoteRows() const {
  uint64_t sum = 0;
  for (uint32_t s = 0; s < num_ranks; ++s)
    for (uint32_t d = 0; d < num_ranks; ++d)
      if (s != d) sum += rows[s * num_ranks + d] + forward_rows[s * num_ranks + d];
  return sum;
}

uint64_t LayerTraffic::RowsInto(uint32_t rank) const { return SumColumn(rows, num_ranks, rank); }
uint64_t LayerTraffic::RowsFrom(uint32_t rank) const { return SumRow(rows, num_ranks, rank); }
uint64_t LayerTraffic::ForwardFrom(uint32_t rank) const {
  return SumRow(forward_rows, num_ranks, rank);
}
uint64_t LayerTraffic::ForwardInto(uint32_t rank) const {
  return SumColumn(forward_rows, num_ranks, rank);
}

dispatch::TokenView ViewOf(const trace::LayerRouting& layer, size_t t) {
  return {{layer.topk(t), layer.num_candidates}, {layer.weights(t), layer.num_candidates},
          layer.num_topk};
}

LayerTraffic CountLayer(const trace::LayerRouting& layer, const dispatch::RouteContext& ctx,
                        const dispatch::Strategy& strategy) {
  const uint32_t d = ctx.placement.num_ranks(), e = ctx.placement.num_experts();
  const dispatch::TokenSplit split(layer.num_tokens(), d);
  LayerTraffic out;
  out.num_ranks = d;
  out.num_tokens = layer.num_tokens();
  out.tokens_per_rank = split.TokensPerRank();
  out.rows.assign(size_t{d} * d, 0);
  out.forward_rows.assign(size_t{d} * d, 0);
  out.tokens_per_expert.assign(e, 0);
  out.tokens_per_rank_expert.assign(size_t{d} * e, 0);
  out.reduce_inputs_per_rank.assign(d, 0);
  out.reduce_outputs_per_rank.assign(d, 0);
  out.sum_context_per_rank.assign(d, 0.0);
  const std::vector<double> context = CausalContext(layer);
  Counter counter(ctx, strategy.hierarchical(), &out);
  dispatch::RoutedToken routed;
  for (size_t t = 0; t < layer.num_tokens(); ++t) {
    const uint32_t src = split.RankOf(t);
    const dispatch::TokenView token = ViewOf(layer, t);
    strategy.Route(token, src, ctx, &routed);
    counter.Add(token, src, routed);
    out.sum_context_per_rank[src] += context[t];
  }
  return out;
}

}  // namespace epsim::plan
