// LayerTraffic: what one MoE layer's dispatch does, counted over all tokens
// of the layer for one placement and strategy. The planner turns it into
// schedule phases; the statistics and `epsim compare` report it. Routing
// itself lives in sim/dispatch; this only counts.
#ifndef EPSIM_SIM_PLAN_LAYER_TRAFFIC_H_
#define EPSIM_SIM_PLAN_LAYER_TRAFFIC_H_

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "sim/dispatch/strategy.h"
#include "sim/placement/placement.h"
#include "sim/trace/trace.h"

namespace epsim::plan {

struct LayerTraffic {
  uint32_t num_ranks = 0;
  uint64_t num_tokens = 0;
  std::vector<uint64_t> tokens_per_rank;  // [rank] tokens held before dispatch
  std::vector<uint64_t> tokens_after;     // [rank] tokens held after the combine
  // First-stage rows [src * num_ranks + dst], diagonal = local rows. For
  // hierarchical dispatch dst is the relay that receives the network copy.
  std::vector<uint64_t> rows;
  // Second stage of hierarchical dispatch: rows a relay forwards inside its
  // node, [relay * num_ranks + dst]; all zero for single-stage strategies.
  std::vector<uint64_t> forward_rows;
  // Combine rows [from * num_ranks + to], diagonal = local: the transpose
  // of `rows`, unless sequences move in the combine (Luffy): then expert
  // outputs go to the sequence's new device, and a moving token whose
  // hidden state is not there yet sends its residual from its source.
  std::vector<uint64_t> combine_rows;
  // [rank] expert outputs the final unpermute-reduce sums there (outputs
  // reused for condensed tokens included): RowsFrom(rank) unless Luffy.
  std::vector<uint64_t> combine_inputs_per_rank;
  std::vector<uint64_t> tokens_per_expert;        // [expert] (token, expert) pairs computed
  std::vector<uint64_t> tokens_per_rank_expert;   // [rank * E + expert], replicas apart
  std::vector<uint64_t> reduce_inputs_per_rank;   // [rank] expert outputs summed by stage-1 reduce
  std::vector<uint64_t> reduce_outputs_per_rank;  // [rank] rows those sums produce
  std::vector<double> sum_context_per_rank;       // [rank] causal attention context, see compute_cost.h
  uint64_t sum_devices = 0;     // sum over tokens of distinct devices reached (C_T)
  uint64_t sum_nodes = 0;       // sum over tokens of distinct nodes reached
  uint64_t topk_picks = 0;      // num_tokens x num_topk
  uint64_t topk_changed = 0;    // top-k picks the strategy did not use
  double weight_total = 0;      // sum of the router's top-k scores
  double weight_kept = 0;       // the part of it whose experts are still used
  // Luffy: (token, expert) pairs not sent because a similar token's output
  // is reused; tokens combined on another device than their source; the
  // residual rows among combine_rows.
  uint64_t condensed_pairs = 0;
  uint64_t migrated_tokens = 0;
  uint64_t residual_rows = 0;

  // Rows that leave their device (off-diagonal sums of both stages).
  uint64_t RemoteRows() const;
  // First-stage rows received by `rank`, local ones included.
  uint64_t RowsInto(uint32_t rank) const;
  // First-stage rows sent from `rank`, local ones included.
  uint64_t RowsFrom(uint32_t rank) const;
  // Rows `rank` forwards, resp. receives, in the second stage.
  uint64_t ForwardFrom(uint32_t rank) const;
  uint64_t ForwardInto(uint32_t rank) const;
};

// Where sequences live between MoE layers when they migrate (Luffy),
// carried from one layer's CountLayer to the next one's. A sequence not in
// `rank` yet has its tokens where TokenSplit puts them.
struct SequenceHomes {
  std::unordered_map<uint64_t, uint32_t> rank;  // sequence id -> rank
  uint32_t hidden = 0;  // the model's hidden size, for the attention-cost model
  // The model has shared experts: their output joins the residual on the
  // source, so a moving token's residual row always travels.
  bool shared_experts = false;
};

// Routes every token of `layer` (held as TokenSplit says, or as `homes`
// says for Luffy) and counts. `ctx.placement` must be the layer's
// placement. Luffy (strategy.luffy() != null) needs `homes`, and updates
// it to where the combine leaves each sequence.
LayerTraffic CountLayer(const trace::LayerRouting& layer, const dispatch::RouteContext& ctx,
                        const dispatch::Strategy& strategy, SequenceHomes* homes = nullptr);

// The token's view for the strategies: its candidates and scores.
dispatch::TokenView ViewOf(const trace::LayerRouting& layer, size_t t);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_LAYER_TRAFFIC_H_
