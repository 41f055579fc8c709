// Balanced partitioning of an expert collaboration graph: the graph
// algorithms behind the `occult` and `partition` placements, on plain
// vectors (no trace, no topology), so they can be tested on hand-made graphs.
//
// A CollabGraph holds symmetric non-negative edge weights between n
// vertices (experts), diagonal zero: w(i, j) = tokens that selected both i
// and j in the profile. An Assignment gives each vertex its part (device);
// `part_sizes[p]` is the exact number of vertices part p must hold. The
// objective is the intra-part weight: the sum of w(i, j) over unordered
// pairs {i, j} in one part (maximised; equivalently the edge cut, the total
// weight minus it, is minimised).
#ifndef EPSIM_SIM_PLACEMENT_BALANCED_PARTITION_H_
#define EPSIM_SIM_PLACEMENT_BALANCED_PARTITION_H_

#include <cstdint>
#include <vector>

#include "sim/trace/trace_stats.h"

namespace epsim::placement {

struct CollabGraph {
  uint32_t n = 0;
  std::vector<double> w;  // [n * n], symmetric, zero diagonal

  double at(uint32_t i, uint32_t j) const { return w[size_t{i} * n + j]; }
  // Total weight over unordered pairs.
  double TotalWeight() const;
};

// Off-diagonal co-activation counts of `coact` restricted to `vertices`
// (vertex v of the result is expert vertices[v]).
CollabGraph GraphFromCoact(const trace::CountMatrix& coact, const std::vector<uint32_t>& vertices);

using Assignment = std::vector<uint32_t>;  // part of each vertex

double IntraWeight(const CollabGraph& g, const Assignment& part);

// Occult's greedy (dispatch.md), with weights normalised by the largest
// one: part 0 is seeded with the most collaborating pair; a part grows by
// the unplaced vertex of highest mean weight to the vertices already in it
// until it holds part_sizes[p]; each next part is seeded with the unplaced
// vertex least connected (sum of weights) to all placed ones. Ties go to
// the lowest vertex id (lowest pair, lexicographically).
Assignment OccultGreedy(const CollabGraph& g, const std::vector<uint32_t>& part_sizes);

// Vertices 0.. in order: the first part_sizes[0] to part 0, and so on.
Assignment InOrder(const std::vector<uint32_t>& part_sizes);

// Kernighan-Lin with exact balance: passes of tentative best swaps between
// parts (every vertex moved once per pass, negative gains allowed so a
// pass can climb out of a local optimum), keeping the best prefix; stops
// when a pass gains nothing. Never lowers IntraWeight. Swaps are allowed
// only between parts with equal `swap_class` (empty: all parts).
void RefineKernighanLin(const CollabGraph& g, const std::vector<uint32_t>& swap_class,
                        Assignment* part);

// Best of Occult's greedy, the in-order split and `random_starts` seeded
// random balanced splits, each refined by Kernighan-Lin: never lower
// IntraWeight than OccultGreedy. Deterministic for a seed.
Assignment PartitionGraph(const CollabGraph& g, const std::vector<uint32_t>& part_sizes,
                          uint64_t seed, uint32_t random_starts);

}  // namespace epsim::placement

#endif  // EPSIM_SIM_PLACEMENT_BALANCED_PARTITION_H_
