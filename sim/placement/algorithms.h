// Placement algorithms: per-layer expert -> rank maps computed from a
// profiling trace, the content of a placement file (`epsim place`).
//
//   contiguous   experts in order, rank r the next counts[r] of them (no
//                profile needed)
//   round-robin  expert e on rank e % D (no profile needed)
//   occult       Occult's collaboration-graph greedy as published
//                (dispatch.md; balanced_partition.h has the exact rules)
//   partition    exact-balance partition of the co-activation graph: the
//                best of Kernighan-Lin refinements started from Occult's
//                greedy, the in-order split and seeded random splits
//                (objective: co-activated pairs on one device); with the
//                profile's tokens, then a swap search on mean C_T itself
//                (the objective), keeping the best start, Occult's
//                unrefined greedy among them, so never worse than occult
//   replicate    `partition`, then EPLB-style extra copies of hot experts
//                within `replica_slots` per rank (replicate.h)
// With a topology, `partition` and `replicate` split hierarchically
// (topology_groups.h): experts are first split among the outermost groups
// (hosts, sockets, ...) and then within each, so strongly collaborating
// experts share an NVLink pair or PCIe switch before they spread further;
// the C_T search then only swaps within an innermost group. `occult` stays
// as published and ignores the topology.
//
// Every algorithm gives rank r exactly counts[r] primary copies, counts =
// BalancedExpertCounts(E, D) (placement.h): E / D each, the first E mod D
// ranks one more, so E need not be divisible by D; E < D is bad input.
// Each traced layer gets its own placement; layers outside the profile use
// the first traced layer's.
#ifndef EPSIM_SIM_PLACEMENT_ALGORITHMS_H_
#define EPSIM_SIM_PLACEMENT_ALGORITHMS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/placement/placement.h"
#include "sim/proto/topology.pb.h"
#include "sim/trace/trace.h"
#include "sim/trace/trace_stats.h"

namespace epsim::placement {

struct PlacementSpec {
  std::string algorithm;
  uint32_t num_ranks = 0;
  uint32_t replica_slots = 0;  // replicate: extra expert copies per rank (memory budget)
  const proto::Topology* topology = nullptr;  // not owned; may be null
  uint64_t seed = 1;
  uint32_t random_starts = 8;  // partition: seeded random starts besides the two fixed ones
  uint32_t search_kicks = 40;  // partition: iterated-local-search rounds on mean C_T
  // replicate: the `partition` placement of this same spec and profile when
  // it is already computed (not owned; may be null): its layers are the
  // primary copies, not computed again.
  const LayerPlacements* partition = nullptr;
};

// The algorithm names ComputePlacement knows, in the order above.
const std::vector<std::string>& AlgorithmNames();
// True for the names that need no profile (contiguous, round-robin).
bool IsTraceFree(const std::string& algorithm);

// Computes one placement per layer of `profile`. `tokens`, when given, is
// the same profile's routing (trace::ReadTrace), which lets `partition` and
// `replicate` refine on exact mean C_T. Unknown algorithm: usage error.
Result<LayerPlacements> ComputePlacement(const PlacementSpec& spec,
                                         const trace::TraceStats& profile,
                                         const trace::Trace* tokens = nullptr);

// Objective figures of a placement on a profile, as unweighted means over
// the profile's layers (primary copies only):
//   collab_intra   fraction of co-activated expert pairs on one device
//   ct_mean        mean C_T of the profile's tokens (0 without tokens)
//   device_imbalance  max / mean of the expected rank load (replicate.h's
//                  model; for one copy per expert, the exact load)
struct PlacementQuality {
  uint32_t layer = 0;
  double collab_intra = 0;
  double ct_mean = 0;
  double device_imbalance = 0;
};
// Per layer of the profile, then the mean (layer field unused) last.
std::vector<PlacementQuality> EvaluatePlacement(const LayerPlacements& placements,
                                                const trace::TraceStats& profile,
                                                const trace::Trace* tokens,
                                                const proto::Topology* topology);

// The file description: algorithm, parameters (memory budget for
// replicate, topology groups) and the mean objective figures.
std::string DescribePlacement(const PlacementSpec& spec, const PlacementQuality& mean);

}  // namespace epsim::placement

#endif  // EPSIM_SIM_PLACEMENT_ALGORITHMS_H_
