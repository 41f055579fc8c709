#include "sim/placement/placement.h"

#include <fmt/format.h>

namespace epsim::placement {

Result<Placement> Placement::Make(std::string name, uint32_t num_ranks,
                                  std::vector<uint32_t> rank_of_expert) {
  if (num_ranks == 0) return Status::Usage("placement needs at least one rank");
  Placement p;
  p.name_ = std::move(name);
  p.num_ranks_ = num_ranks;
  p.experts_on_rank_.resize(num_ranks);
  for (uint32_t e = 0; e < rank_of_expert.size(); ++e) {
    if (rank_of_expert[e] >= num_ranks)
      return Status::BadInput(fmt::format("placement {}: expert {} on rank {} >= num_ranks {}",
                                          p.name_, e, rank_of_expert[e], num_ranks));
    p.experts_on_rank_[rank_of_expert[e]].push_back(e);
  }
  p.rank_of_expert_ = std::move(rank_of_expert);
  return p;
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

Result<Placement> MakePlacement(const std::string& name, uint32_t num_experts,
                                uint32_t num_ranks) {
  if (name == "contiguous") return Contiguous(num_experts, num_ranks);
  return Status::Usage("unknown placement '" + name + "' (known: contiguous)");
}

}  // namespace epsim::placement
