// Placement-free statistics of routing, per layer: what the router does,
// independent of where experts live. Computed by streaming a trace once.
// Placement-dependent figures (C_T, rows per strategy, per-device load,
// traffic matrices) are in sim/plan/routing_stats.h, built on these.
//
// Definitions, for one layer with N tokens and E experts:
//   load[e]        tokens that selected expert e (top-k picks; sums to N k)
//   imbalance      max(load) / mean(load)            (1 = perfectly even)
//   cv             stddev(load) / mean(load)         (population stddev)
//   coact[i][j]    tokens that selected both i and j (i != j; diagonal = load)
//   affinity[i][j] tokens that selected i in this layer and j in the next
//                  traced layer (same token id); absent for the last layer
#ifndef EPSIM_SIM_TRACE_TRACE_STATS_H_
#define EPSIM_SIM_TRACE_TRACE_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/trace/trace.h"

namespace epsim::trace {

// A dense row-major E x E matrix of counts.
struct CountMatrix {
  uint32_t n = 0;
  std::vector<uint64_t> values;  // [n * n]

  void Resize(uint32_t size) { n = size, values.assign(size_t{size} * size, 0); }
  uint64_t at(uint32_t i, uint32_t j) const { return values[size_t{i} * n + j]; }
  uint64_t& at(uint32_t i, uint32_t j) { return values[size_t{i} * n + j]; }
};

struct LayerRoutingStats {
  uint32_t layer = 0;
  uint64_t num_tokens = 0;
  std::vector<uint64_t> load;   // [E]
  CountMatrix coact;            // E x E
  CountMatrix affinity;         // E x E; n == 0 for the last layer
  uint32_t next_layer = 0;      // the layer `affinity` points to
  uint64_t affinity_tokens = 0; // tokens present in both layers
};

struct TraceStats {
  uint32_t num_experts = 0;
  uint32_t num_topk = 0;
  std::vector<LayerRoutingStats> layers;  // ascending
};

// Streams `path` once. Besides the matrices it keeps every token's top-k
// (4 bytes per pick) to pair consecutive layers, whose records may interleave.
Result<TraceStats> ComputeTraceStats(const std::string& path);
// The same over an in-memory trace.
TraceStats ComputeTraceStats(const Trace& trace);

// max / mean and coefficient of variation of a load vector (0 when empty).
double Imbalance(const std::vector<uint64_t>& load);
double CoefficientOfVariation(const std::vector<uint64_t>& load);

// Pearson correlation of the off-diagonal entries of two equal-size
// matrices (how alike two co-activation structures are); 0 if either is flat.
double OffDiagonalCorrelation(const CountMatrix& a, const CountMatrix& b);

// Fraction of a token's next-layer picks that repeat the most affine
// expert: for each expert i, max_j affinity[i][j] / sum_j affinity[i][j],
// weighted by row sums. 1/E-ish for independent layers, 1 for a fixed map.
double AffinityConcentration(const CountMatrix& affinity);

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_TRACE_STATS_H_
