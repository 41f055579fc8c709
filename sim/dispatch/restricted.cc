// Replica choice and grouping limited to allowed ranks. Routing-changing
// strategies decide which devices (or nodes) a token may use; if the replica
// choice were free (ChooseReplica prefers a copy on the source), a
// replicated expert could land outside that set and break the limit the
// strategy promises. Restricting the choice keeps the limit exact.
#include "sim/dispatch/restricted.h"

#include <algorithm>

#include "sim/base/check.h"

namespace epsim::dispatch {

bool HasAllowedCopy(const placement::Placement& p, const RankMask& allowed, uint32_t expert) {
  for (uint32_t r : p.RanksOf(expert))
    if (allowed[r]) return true;
  return false;
}

uint32_t ChooseAllowedReplica(const placement::Placement& p, const ClusterMap& cluster,
                              uint32_t expert, uint32_t src, std::span<const uint32_t> preferred,
                              const RankMask& allowed) {
  const std::vector<uint32_t>& ranks = p.RanksOf(expert);
  auto usable = [&](uint32_t r) {
    return allowed[r] && std::find(ranks.begin(), ranks.end(), r) != ranks.end();
  };
  if (usable(src)) return src;
  for (uint32_t r : preferred)
    if (usable(r)) return r;
  for (uint32_t r : ranks)
    if (allowed[r] && cluster.NodeOf(r) == cluster.NodeOf(src)) return r;
  for (uint32_t r : ranks)
    if (allowed[r]) return r;
  EPSIM_CHECK(!"expert without a copy on an allowed rank");
  return ranks[0];
}

void GroupWithin(std::span<const uint32_t> experts, std::span<const float> weights, uint32_t src,
                 const RouteContext& ctx, const RankMask& allowed, RoutedToken* out) {
  out->Clear();
  std::vector<uint32_t> rank_of(experts.size());
  std::vector<uint32_t> chosen;
  for (size_t i = 0; i < experts.size(); ++i) {
    rank_of[i] = ChooseAllowedReplica(ctx.placement, ctx.cluster, experts[i], src, chosen, allowed);
    if (std::find(chosen.begin(), chosen.end(), rank_of[i]) == chosen.end())
      chosen.push_back(rank_of[i]);
  }
  for (uint32_t rank : chosen) {
    const uint32_t first = static_cast<uint32_t>(out->experts.size());
    for (size_t i = 0; i < experts.size(); ++i) {
      if (rank_of[i] != rank) continue;
      out->experts.push_back(experts[i]);
      out->weights.push_back(weights[i]);
    }
    out->rows.push_back({rank, first, static_cast<uint32_t>(out->experts.size()) - first, rank});
  }
}

}  // namespace epsim::dispatch
