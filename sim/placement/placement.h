// Expert placement: which device (rank) holds each routed expert of a layer.
//
// A Placement is a plain map expert -> rank plus its inverse. It is computed
// once per run (per layer where a strategy asks for it) and shared, read-only,
// by the dispatch strategies, the planner and the hardware harness.
#ifndef EPSIM_SIM_PLACEMENT_PLACEMENT_H_
#define EPSIM_SIM_PLACEMENT_PLACEMENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::placement {

class Placement {
 public:
  // `rank_of_expert[e]` is the device holding expert e; every value must be
  // < num_ranks. Checked by Make().
  static Result<Placement> Make(std::string name, uint32_t num_ranks,
                                std::vector<uint32_t> rank_of_expert);

  const std::string& name() const { return name_; }
  uint32_t num_experts() const { return static_cast<uint32_t>(rank_of_expert_.size()); }
  uint32_t num_ranks() const { return num_ranks_; }
  uint32_t RankOf(uint32_t expert) const { return rank_of_expert_[expert]; }
  // Experts on `rank`, ascending.
  const std::vector<uint32_t>& ExpertsOn(uint32_t rank) const { return experts_on_rank_[rank]; }

 private:
  std::string name_;
  uint32_t num_ranks_ = 0;
  std::vector<uint32_t> rank_of_expert_;
  std::vector<std::vector<uint32_t>> experts_on_rank_;
};

// Experts [r*E/D, (r+1)*E/D) on rank r. E not divisible by D is bad input.
Result<Placement> Contiguous(uint32_t num_experts, uint32_t num_ranks);

// Builds a placement by name ("contiguous"). Unknown names are usage errors.
Result<Placement> MakePlacement(const std::string& name, uint32_t num_experts, uint32_t num_ranks);

}  // namespace epsim::placement

#endif  // EPSIM_SIM_PLACEMENT_PLACEMENT_H_
