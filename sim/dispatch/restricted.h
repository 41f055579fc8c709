// Pieces shared by the strategies that limit a token to some ranks (pruning
// to N_d devices, node-limited routing): replica choice and grouping by
// device restricted to the allowed ranks. Internal to sim/dispatch.
#ifndef EPSIM_SIM_DISPATCH_RESTRICTED_H_
#define EPSIM_SIM_DISPATCH_RESTRICTED_H_

#include <cstdint>
#include <span>
#include <vector>

#include "sim/dispatch/strategy.h"

namespace epsim::dispatch {

// allowed[rank] != 0 for the ranks a token may use; size num_ranks.
using RankMask = std::vector<uint8_t>;

// True when `expert` has a copy on an allowed rank.
bool HasAllowedCopy(const placement::Placement& p, const RankMask& allowed, uint32_t expert);

// ChooseReplica restricted to allowed ranks, with the same preference order:
// src, then a rank in `preferred`, then one on src's node, then the first
// allowed copy in RanksOf order. With every rank allowed it equals
// ChooseReplica. The expert must have an allowed copy (checked).
uint32_t ChooseAllowedReplica(const placement::Placement& p, const ClusterMap& cluster,
                              uint32_t expert, uint32_t src, std::span<const uint32_t> preferred,
                              const RankMask& allowed);

// GroupByDevice with replicas chosen by ChooseAllowedReplica: rows in order
// of first appearance, experts keeping their order inside a row, relay ==
// rank. With every rank allowed the result equals GroupByDevice's.
void GroupWithin(std::span<const uint32_t> experts, std::span<const float> weights, uint32_t src,
                 const RouteContext& ctx, const RankMask& allowed, RoutedToken* out);

}  // namespace epsim::dispatch

#endif  // EPSIM_SIM_DISPATCH_RESTRICTED_H_
