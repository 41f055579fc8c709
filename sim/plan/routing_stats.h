// Routing statistics of a trace for an expert-parallel size and placement,
// computed by streaming the trace (bounded memory apart from the per-token
// data trace_stats.h keeps for layer affinity) through the same placement and
// dispatch code the planner uses.
//
// Definitions, per layer, over the layer's tokens t held as TokenSplit says
// (placement-free ones, load / coact / affinity, are in trace/trace_stats.h):
//   ct_mean          mean of C_T(t) = |{dev(e) : e in topk(t)}|, the distinct
//                    devices a token's experts live on (its own device counts
//                    when one of its experts is there)
//   rows_classical   mean rows per token that leave the token's device under
//                    classical dispatch: |{e in topk(t) : dev(e) != src(t)}|
//   rows_dedup       the same under deduplicated dispatch:
//                    C_T(t) - [src(t) in devices(t)]
//   load_imbalance   max / mean of the per-expert load; load_cv its
//                    coefficient of variation
//   device_load      expert-token pairs computed on each device;
//                    device_imbalance its max / mean
//   collab_intra     fraction of co-activated expert pairs (i != j, counted
//                    per token) whose experts share a device; Occult places
//                    experts to raise it
//   affinity_concentration   see trace_stats.h (to the next traced layer)
//   affinity_same_device     fraction of (pick in this layer, pick in the
//                    next) pairs of a token whose experts share a device
//   traffic_classical / traffic_dedup   rows [src][dst] that leave their
//                    device (diagonal 0); bytes = rows x hidden x bytes/elem
// "mean" is the unweighted mean of the per-layer scalars.
#ifndef EPSIM_SIM_PLAN_ROUTING_STATS_H_
#define EPSIM_SIM_PLAN_ROUTING_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/placement/placement.h"
#include "sim/trace/trace_stats.h"

namespace epsim::plan {

struct LayerStats {
  uint32_t layer = 0;
  double num_tokens = 0;  // an integer per layer; the mean over layers need not be
  double ct_mean = 0;
  double rows_classical = 0;
  double rows_dedup = 0;
  double load_imbalance = 0;
  double load_cv = 0;
  double device_imbalance = 0;
  double collab_intra = 0;
  double affinity_concentration = 0;  // 0 for the last layer
  double affinity_same_device = 0;    // 0 for the last layer
  bool has_next_layer = false;
};

// Vectors and matrices of one layer, for --matrices outputs.
struct LayerDetail {
  std::vector<uint64_t> device_load;         // [rank]
  std::vector<uint64_t> traffic_classical;   // [src * D + dst] rows
  std::vector<uint64_t> traffic_dedup;       // [src * D + dst] rows
};

struct RoutingStats {
  std::string placement;
  uint32_t num_ranks = 0;
  std::string experts_per_device;    // placement::DescribeExpertsPerDevice
  std::vector<LayerStats> layers;
  std::vector<LayerDetail> details;  // parallel to layers
  trace::TraceStats trace;           // load, coact, affinity per layer
  LayerStats mean;                   // layer field unused
};

// Streams the trace at `path` under a trace-independent placement named
// `placement_name` (placement::MakePlacement: "contiguous", "round-robin").
Result<RoutingStats> ComputeRoutingStats(const std::string& path, uint32_t num_ranks,
                                         const std::string& placement_name);
// The same under per-layer placements (e.g. from placement::ResolvePlacement),
// which must be for the trace's expert count and `num_ranks` ranks. Figures
// that need one device per expert (device_load, collab_intra, affinity) use
// the primary copies; ct_mean and rows follow each token's replica choice.
Result<RoutingStats> ComputeRoutingStats(const std::string& path, uint32_t num_ranks,
                                         const placement::LayerPlacements& placements);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_ROUTING_STATS_H_
