#include "sim/placement/placement.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>

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
    p.primary_.push_back(ranks[0]);
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

std::vector<uint32_t> BalancedExpertCounts(uint32_t num_experts, uint32_t num_ranks) {
  std::vector<uint32_t> counts(num_ranks, num_ranks == 0 ? 0 : num_experts / num_ranks);
  for (uint32_t r = 0; r < num_ranks && r < num_experts % num_ranks; ++r) ++counts[r];
  return counts;
}

Status CheckExpertsFitRanks(const std::string& algorithm, uint32_t num_experts,
                            uint32_t num_ranks) {
  if (num_ranks == 0) return Status::Usage(algorithm + " placement needs at least one rank");
  if (num_experts < num_ranks)
    return Status::BadInput(fmt::format(
        "{} placement: {} experts on {} devices would leave a device without an expert "
        "(use at most {} devices, or a placement file)",
        algorithm, num_experts, num_ranks, num_experts));
  return Status::Ok();
}

Result<Placement> Contiguous(uint32_t num_experts, uint32_t num_ranks) {
  EPSIM_RETURN_IF_ERROR(CheckExpertsFitRanks("contiguous", num_experts, num_ranks));
  std::vector<uint32_t> rank_of_expert;
  const std::vector<uint32_t> counts = BalancedExpertCounts(num_experts, num_ranks);
  for (uint32_t r = 0; r < num_ranks; ++r)
    rank_of_expert.insert(rank_of_expert.end(), counts[r], r);
  return Placement::Make("contiguous", num_ranks, std::move(rank_of_expert));
}

namespace {

// Expert e on rank e % D: the first E mod D ranks get one more, as
// BalancedExpertCounts says.
Result<Placement> RoundRobin(uint32_t num_experts, uint32_t num_ranks) {
  EPSIM_RETURN_IF_ERROR(CheckExpertsFitRanks("round-robin", num_experts, num_ranks));
  std::vector<uint32_t> rank_of_expert(num_experts);
  for (uint32_t e = 0; e < num_experts; ++e) rank_of_expert[e] = e % num_ranks;
  return Placement::Make("round-robin", num_ranks, std::move(rank_of_expert));
}

// Primary copies per rank.
std::vector<uint32_t> PrimaryCounts(const Placement& p) {
  std::vector<uint32_t> counts(p.num_ranks(), 0);
  for (uint32_t e = 0; e < p.num_experts(); ++e) ++counts[p.RankOf(e)];
  return counts;
}

// "8 (4 devices), 7 (4 devices)": distinct counts, largest first.
std::string CountsText(const std::vector<uint32_t>& counts) {
  std::map<uint32_t, uint32_t, std::greater<>> devices_with;
  for (uint32_t c : counts) ++devices_with[c];
  std::string out;
  for (const auto& [count, devices] : devices_with)
    out += fmt::format("{}{} ({} device{})", out.empty() ? "" : ", ", count, devices,
                       devices == 1 ? "" : "s");
  return out;
}

}  // namespace

std::string DescribeExpertsPerDevice(const LayerPlacements& placements) {
  std::vector<const Placement*> layers = {&placements.fallback()};
  for (const auto& [layer, p] : placements.per_layer()) layers.push_back(&p);
  const std::vector<uint32_t> counts = PrimaryCounts(placements.fallback());
  bool differ = false, replicated = false;
  size_t least = SIZE_MAX, most = 0;  // all copies on a device, over layers
  for (const Placement* p : layers) {
    differ |= PrimaryCounts(*p) != counts;
    replicated |= p->replicated();
    for (uint32_t r = 0; r < p->num_ranks(); ++r) {
      least = std::min(least, p->ExpertsOn(r).size());
      most = std::max(most, p->ExpertsOn(r).size());
    }
  }
  std::string out = CountsText(counts);
  if (replicated)
    out += least == most ? fmt::format(" + replicas: {} copies per device", most)
                         : fmt::format(" + replicas: {}..{} copies per device", least, most);
  if (differ) out += "; other layers differ";
  return out;
}

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
