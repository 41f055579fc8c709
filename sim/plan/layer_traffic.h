// LayerTraffic: what one MoE layer's dispatch does, counted over all tokens
// of the layer for one placement and strategy. The planner turns it into
// schedule phases; the statistics report its means. Routing itself lives in
// sim/dispatch; this only counts.
#ifndef EPSIM_SIM_PLAN_LAYER_TRAFFIC_H_
#define EPSIM_SIM_PLAN_LAYER_TRAFFIC_H_

#include <cstdint>
#include <vector>

#include "sim/dispatch/strategy.h"
#include "sim/placement/placement.h"
#include "sim/trace/trace.h"

namespace epsim::plan {

struct LayerTraffic {
  uint32_t num_ranks = 0;
  uint64_t num_tokens = 0;
  std::vector<uint64_t> tokens_per_rank;    // [rank] tokens held before dispatch
  std::vector<uint64_t> rows;               // [src * num_ranks + dst], diagonal = local rows
  std::vector<uint64_t> tokens_per_expert;  // [expert] (token, expert) pairs computed
  std::vector<uint64_t> reduce_inputs_per_rank;   // [rank] expert outputs summed by stage-1 reduce
  std::vector<uint64_t> reduce_outputs_per_rank;  // [rank] rows those sums produce
  std::vector<double> sum_context_per_rank;       // [rank] causal attention context, see compute_cost.h
  uint64_t sum_devices = 0;  // sum over tokens of distinct devices reached (C_T)

  // Rows that leave their device (off-diagonal sum).
  uint64_t RemoteRows() const;
  // Rows received by `rank`, local ones included.
  uint64_t RowsInto(uint32_t rank) const;
  // Rows sent from `rank`, local ones included.
  uint64_t RowsFrom(uint32_t rank) const;
};

// Routes every token of `layer` (held as TokenSplit says) and counts.
LayerTraffic CountLayer(const trace::LayerRouting& layer, const placement::Placement& placement,
                        const dispatch::Strategy& strategy);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_LAYER_TRAFFIC_H_
