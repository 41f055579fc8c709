// Expert placement: which devices (ranks) hold each routed expert of a layer.
//
// A Placement maps every expert to one or more ranks (more than one when the
// expert is replicated, EPLB-style; the first is the primary copy) and keeps
// the inverse. LayerPlacements holds one Placement per MoE layer, as a
// placement file (sim/proto/placement.proto) describes. Both are computed
// once per run and shared, read-only, by the dispatch strategies, the
// planner, the statistics and the hardware harness.
#ifndef EPSIM_SIM_PLACEMENT_PLACEMENT_H_
#define EPSIM_SIM_PLACEMENT_PLACEMENT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::placement {

class Placement {
 public:
  // One copy per expert: `rank_of_expert[e]` < num_ranks (checked).
  static Result<Placement> Make(std::string name, uint32_t num_ranks,
                                std::vector<uint32_t> rank_of_expert);
  // Replicated: `ranks_of_expert[e]` non-empty, distinct, each < num_ranks.
  static Result<Placement> MakeReplicated(std::string name, uint32_t num_ranks,
                                          std::vector<std::vector<uint32_t>> ranks_of_expert);

  const std::string& name() const { return name_; }
  uint32_t num_experts() const { return static_cast<uint32_t>(ranks_of_expert_.size()); }
  uint32_t num_ranks() const { return num_ranks_; }
  // The primary copy's rank.
  uint32_t RankOf(uint32_t expert) const { return primary_[expert]; }
  // [expert] -> RankOf(expert), flat (the hot loop's table).
  const uint32_t* primary_ranks() const { return primary_.data(); }
  // Every rank holding a copy, primary first.
  const std::vector<uint32_t>& RanksOf(uint32_t expert) const { return ranks_of_expert_[expert]; }
  bool replicated() const { return replicated_; }
  // Experts with a copy on `rank`, ascending.
  const std::vector<uint32_t>& ExpertsOn(uint32_t rank) const { return experts_on_rank_[rank]; }

 private:
  std::string name_;
  uint32_t num_ranks_ = 0;
  bool replicated_ = false;
  std::vector<std::vector<uint32_t>> ranks_of_expert_;
  std::vector<std::vector<uint32_t>> experts_on_rank_;
  std::vector<uint32_t> primary_;
};

// Per-layer placements; layers not listed use the fallback.
class LayerPlacements {
 public:
  // The same placement for every layer.
  explicit LayerPlacements(Placement all);
  // Adds or replaces the placement of `layer` (same experts and ranks).
  Status Set(uint32_t layer, Placement placement);

  const std::string& name() const { return fallback_.name(); }
  uint32_t num_experts() const { return fallback_.num_experts(); }
  uint32_t num_ranks() const { return fallback_.num_ranks(); }
  const Placement& ForLayer(uint32_t layer) const;
  const std::map<uint32_t, Placement>& per_layer() const { return per_layer_; }
  const Placement& fallback() const { return fallback_; }

 private:
  Placement fallback_;
  std::map<uint32_t, Placement> per_layer_;
};

// How the built-in placements share E experts among D ranks: E / D each,
// the first E mod D ranks one more (E = 60, D = 8: 8, 8, 8, 8, 7, 7, 7, 7),
// so counts differ by at most one. [rank] -> expert count.
std::vector<uint32_t> BalancedExpertCounts(uint32_t num_experts, uint32_t num_ranks);

// Ok when the built-in placement `algorithm` can place `num_experts` on
// `num_ranks`: at least one rank and at least one expert per rank (fewer
// experts than ranks would leave a rank idle: bad input naming both).
Status CheckExpertsFitRanks(const std::string& algorithm, uint32_t num_experts,
                            uint32_t num_ranks);

// Expert copies per device, for output headers: "8 (4 devices), 7 (4
// devices)", largest count first; "8 (8 devices)" when even. Counts are of
// primary copies; with replicas " + replicas: 9..10 copies per device" adds
// the range of all copies. Layers whose primary counts differ from the
// fallback's give "... ; other layers differ" (placement files may).
std::string DescribeExpertsPerDevice(const LayerPlacements& placements);

// Experts in rank order, BalancedExpertCounts of them per rank: rank 0 the
// first counts[0], and so on (60 on 8: [0, 8) on rank 0, [53, 60) on rank 7).
Result<Placement> Contiguous(uint32_t num_experts, uint32_t num_ranks);

// Builds a trace-independent placement by name ("contiguous",
// "round-robin"). Unknown names are usage errors listing the known ones;
// the profile-based ones (algorithms.h) are usage errors pointing there.
Result<Placement> MakePlacement(const std::string& name, uint32_t num_experts, uint32_t num_ranks);

}  // namespace epsim::placement

#endif  // EPSIM_SIM_PLACEMENT_PLACEMENT_H_
