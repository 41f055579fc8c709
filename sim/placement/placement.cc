#include "sim/placement/placement.h"

#include <algorithm>

#include <fmt/format.h>

namespace epsim::placement {

Result<Placement> Placement::Make(std::string name, uint32_t num_ranks,
                                  std::vector<uint32_t> rank_of_expert) {
  std::vector<std::vector<uint32_t>> ranks(rank_of_expert.size());
  for (size_t e = 0; e < ranks.size(); ++e) ranks[e] = {rank_of_expert[e]};
  return MakeReplicated(std::move(name), num_ranks, std::move(ranks));
}

Result<Placement> Placement::MakeReplicated(std::string name, uint32_t num_ranks,
                                            std::vector<std::vector<uint32_t>> ranks_of_expert) {
  if (num_ranks == 0) return Status::Usage("placement needs at least one rank");
  Placement p;
  p.name_ = std::move(name);
  p.num_ranks_ = num_ranks;
  p.experts_on_rank_.resize(num_ranks);
  for (uint32_t e = 0; e < ranks_of_expert.size(); ++e) {
    const std::vector<uint32_t>& ranks = ranks_of_expert[e];
    if (ranks.empty())
      return Status::BadInput(fmt::format("placement {}: expert {} has no rank", p.name_, e));
    for (size_t i = 0; i < ranks.size(); ++i) {
      if (ranks[i] >= num_ranks)
        return Status::BadInput(fmt::format("placement {}: expert {} on rank {} >= num_ranks {}",
                                            p.name_, e, ranks[i], num_ranks));
      if (std::find(ranks.begin(), ranks.begin() + i, ranks[i]) != ranks.begin() + i)
        return Status::BadInput(
            fmt::format("placement {}: expert {} twice on rank {}", p.name_, e, ranks[i]));
      p.experts_on_rank_[ranks[i]].push_back(e);
    }
    p.replicated_ |= ranks.size() > 1;
  }
  p.ranks_of_expert_ = std::move(ranks_of_expert);
  return p;
}

LayerPlacements::LayerPlacements(Placement all) : fallback_(std::move(all)) {}

Status LayerPlacements::Set(uint32_t layer, Placement placement) {
  if (placement.num_experts() != fallback_.num_experts() ||
      placement.num_ranks() != fallback_.num_ranks())
    return Status::BadInput(fmt::format(
        "layer {}: placement of {} experts on {} ranks, expected {} on {}", layer,
        placement.num_experts(), placement.num_ranks(), fallback_.num_experts(),
        fallback_.num_ranks()));
  per_layer_.insert_or_assign(layer, std::move(placement));
  return Status::Ok();
}

const Placement& LayerPlacements::ForLayer(uint32_t layer) const {
  auto it = per_layer_.find(layer);
  return it == per_layer_.end() ? fallback_ : it->second;
}

Result<Placement> Contiguous(uint32_t num_experts, uint32_t num_ranks) {
  if (num_ranks == 0 || num_experts % num_ranks != 0)
    return Status::BadInput(fmt::format(
        "contiguous placement: {} experts cannot be split evenly over {} devices", num_experts,
        num_ranks));
  const uint32_t per_rank = num_experts / num_ranks;
  std::vector<uint32_t> rank_of_expert(num_experts);
  for (uint32_t e = 0; e < num_experts; ++e) rank_of_expert[e] = e / per_rank;
  return Placement::Make("contiguous", num_ranks, std::move(rank_of_expert));
}

namespace {

// Expert e on rank e % D.
Result<Placement> RoundRobin(uint32_t num_experts, uint32_t num_ranks) {
  if (num_ranks == 0 || num_experts % num_ranks != 0)
    return Status::BadInput(fmt::format(
        "round-robin placement: {} experts cannot be split evenly over {} devices", num_experts,
        num_ranks));
  std::vector<uint32_t> rank_of_expert(num_experts);
  for (uint32_t e = 0; e < num_experts; ++e) rank_of_expert[e] = e % num_ranks;
  return Placement::Make("round-robin", num_ranks, std::move(rank_of_expert));
}

}  // namespace

Result<Placement> MakePlacement(const std::string& name, uint32_t num_experts,
                                uint32_t num_ranks) {
  if (name == "contiguous") return Contiguous(num_experts, num_ranks);
  if (name == "round-robin") return RoundRobin(num_experts, num_ranks);
  if (name == "occult" || name == "partition" || name == "replicate")
    return Status::Usage("placement '" + name +
                         "' is computed from a profiling trace (epsim place, or "
                         "ResolvePlacement in sim/placement/resolve.h)");
  return Status::Usage("unknown placement '" + name + "' (known: contiguous, round-robin)");
}

}  // namespace epsim::placement
