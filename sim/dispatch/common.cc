// Pieces shared by the strategies: replica choice and grouping by device.
#include <algorithm>

#include "sim/base/check.h"
#include "sim/dispatch/strategy.h"

namespace epsim::dispatch {

ClusterMap ClusterMap::SingleHost(uint32_t num_ranks) {
  ClusterMap m;
  m.host_of_rank.assign(num_ranks, 0);
  m.num_hosts = 1;
  return m;
}

uint32_t ChooseReplica(const placement::Placement& p, const ClusterMap& cluster, uint32_t expert,
                       uint32_t src, std::span<const uint32_t> preferred,
                       const RankMask* allowed) {
  const std::vector<uint32_t>& ranks = p.RanksOf(expert);
  auto ok = [&](uint32_t r) { return allowed == nullptr || (*allowed)[r] != 0; };
  if (ranks.size() == 1 && ok(ranks[0])) return ranks[0];
  auto usable = [&](uint32_t r) {
    return ok(r) && std::find(ranks.begin(), ranks.end(), r) != ranks.end();
  };
  if (usable(src)) return src;
  for (uint32_t r : preferred)
    if (usable(r)) return r;
  for (uint32_t r : ranks)
    if (ok(r) && cluster.HostOf(r) == cluster.HostOf(src)) return r;
  for (uint32_t r : ranks)
    if (ok(r)) return r;
  EPSIM_CHECK(!"expert without a copy on an allowed rank");
  return ranks[0];
}

bool HasAllowedCopy(const placement::Placement& p, const RankMask& allowed, uint32_t expert) {
  for (uint32_t r : p.RanksOf(expert))
    if (allowed[r]) return true;
  return false;
}

void GroupByDevice(std::span<const uint32_t> experts, std::span<const float> weights,
                   uint32_t src, const RouteContext& ctx, RoutedToken* out,
                   const RankMask* allowed) {
  out->Clear();
  const size_t k = experts.size();
  if (!ctx.placement.replicated() && allowed == nullptr && k <= 64) {
    // One copy per expert: rows by first appearance of each rank, experts
    // in token order within a row (what the general path below builds),
    // by counting sort.
    const uint32_t* primary = ctx.placement.primary_ranks();
    uint32_t chosen[64];
    uint8_t slot_of[64], count[64] = {};
    size_t num_chosen = 0;
    for (size_t i = 0; i < k; ++i) {
      const uint32_t r = primary[experts[i]];
      size_t j = 0;
      while (j < num_chosen && chosen[j] != r) ++j;
      if (j == num_chosen) chosen[num_chosen++] = r;
      slot_of[i] = static_cast<uint8_t>(j);
      ++count[j];
    }
    uint32_t next[64];
    out->rows.resize(num_chosen);
    for (size_t j = 0, first = 0; j < num_chosen; first += count[j], ++j) {
      next[j] = static_cast<uint32_t>(first);
      out->rows[j] = {chosen[j], static_cast<uint32_t>(first), count[j], chosen[j]};
    }
    out->experts.resize(k);
    out->weights.resize(k);
    for (size_t i = 0; i < k; ++i) {
      const uint32_t at = next[slot_of[i]]++;
      out->experts[at] = experts[i];
      out->weights[at] = weights[i];
    }
    return;
  }
  // Replica per expert, preferring ranks already chosen for this token so a
  // replicated expert joins an existing row instead of opening a new one.
  // Called once per token and strategy: scratch on the stack for the k of
  // published models (<= 16), on the heap beyond 64.
  constexpr size_t kOnStack = 64;
  uint32_t stack[2 * kOnStack];
  std::vector<uint32_t> heap;
  uint32_t* scratch = stack;
  if (experts.size() > kOnStack) {
    heap.resize(2 * experts.size());
    scratch = heap.data();
  }
  uint32_t* rank_of = scratch;
  uint32_t* chosen = scratch + experts.size();
  size_t num_chosen = 0;
  for (size_t i = 0; i < experts.size(); ++i) {
    rank_of[i] = ChooseReplica(ctx.placement, ctx.cluster, experts[i], src,
                               std::span<const uint32_t>(chosen, num_chosen), allowed);
    if (std::find(chosen, chosen + num_chosen, rank_of[i]) == chosen + num_chosen)
      chosen[num_chosen++] = rank_of[i];
  }
  // Rows in order of first appearance; k is small (<= 16 in published
  // models), so the quadratic grouping is the fast one.
  for (uint32_t rank : std::span<const uint32_t>(chosen, num_chosen)) {
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
