// Routing statistics of a trace for an expert-parallel size, computed by
// streaming the trace once (bounded memory) through the same placement and
// dispatch code the planner uses.
//
// Definitions, per layer, over the layer's tokens t held as TokenSplit says:
//   ct_mean         mean of C_T(t) = |{dev(e) : e in topk(t)}|, the distinct
//                   devices a token's experts live on (its own device counts
//                   when one of its experts is there)
//   rows_classical  mean rows per token that leave the token's device under
//                   classical dispatch: |{e in topk(t) : dev(e) != src(t)}|
//   rows_dedup      the same under deduplicated dispatch:
//                   C_T(t) - [src(t) in devices(t)]
// "mean" is the unweighted mean of the per-layer figures.
#ifndef EPSIM_SIM_PLAN_ROUTING_STATS_H_
#define EPSIM_SIM_PLAN_ROUTING_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/placement/placement.h"

namespace epsim::plan {

struct LayerStats {
  uint32_t layer = 0;
  double num_tokens = 0;  // an integer per layer; the mean over layers need not be
  double ct_mean = 0;
  double rows_classical = 0;
  double rows_dedup = 0;
};

struct RoutingStats {
  std::string placement;
  uint32_t num_ranks = 0;
  std::vector<LayerStats> layers;
  LayerStats mean;  // layer field unused
};

// Streams the trace at `path`; placement "contiguous" (others later).
Result<RoutingStats> ComputeRoutingStats(const std::string& path, uint32_t num_ranks,
                                         const std::string& placement_name);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_ROUTING_STATS_H_
