// EPLB-style replication: hot experts get extra copies on other ranks,
// within a memory budget of `replica_slots` extra expert copies per rank
// (each rank then holds its primary experts, BalancedExpertCounts, plus at
// most replica_slots copies).
//
// Expected load model. Tokens start evenly spread over the ranks (a 1/D
// share of each expert's tokens comes from each rank, TokenSplit's blocks)
// and pick a copy as dispatch::ChooseReplica does, leaving out its
// per-token preference for ranks the token already uses: the copy on the
// token's own rank, else the first copy on the token's node, else the
// primary. The expected load of a rank is the expert-token pairs it
// computes under this rule.
#ifndef EPSIM_SIM_PLACEMENT_REPLICATE_H_
#define EPSIM_SIM_PLACEMENT_REPLICATE_H_

#include <cstdint>
#include <vector>

namespace epsim::placement {

using ReplicaRanks = std::vector<std::vector<uint32_t>>;  // [expert] -> ranks, primary first

// Expected expert-token pairs per rank, in units of 1/D token (exact
// integers): `load[e]` tokens per expert, `host_of_rank[r]` the host of r.
std::vector<uint64_t> ExpectedRankLoad(const ReplicaRanks& ranks,
                                       const std::vector<uint64_t>& load,
                                       const std::vector<uint32_t>& host_of_rank);

// Starting from one copy per expert at `primary[e]`, adds copies one at a
// time, each the (expert, rank) that most lowers the expected maximum rank
// load (then the sum of squared loads; then the hotter expert, lower ids),
// until every rank holds `replica_slots` extra copies or no copy is left to
// add. Deterministic.
ReplicaRanks Replicate(const std::vector<uint32_t>& primary, const std::vector<uint64_t>& load,
                       const std::vector<uint32_t>& host_of_rank, uint32_t replica_slots);

}  // namespace epsim::placement

#endif  // EPSIM_SIM_PLACEMENT_REPLICATE_H_
