// Local search on the exact objective of collaboration-aware placement: the
// mean C_T of a layer's profiled tokens, C_T(t) = |{rank(e) : e in topk(t)}|
// (the distinct devices a token's experts live on), rather than its
// co-activation proxy. Used by the `partition` placement when the profile's
// per-token picks are at hand.
#ifndef EPSIM_SIM_PLACEMENT_DEVICE_COUNT_SEARCH_H_
#define EPSIM_SIM_PLACEMENT_DEVICE_COUNT_SEARCH_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace epsim::placement {

// The selected experts of a layer's tokens, in trace order.
struct LayerTokens {
  uint32_t num_topk = 0;
  std::vector<uint32_t> picks;  // [num_tokens * num_topk]

  size_t num_tokens() const { return num_topk == 0 ? 0 : picks.size() / num_topk; }
};

// Mean C_T over the tokens (0 when there are none).
double MeanDevices(const LayerTokens& tokens, const std::vector<uint32_t>& rank_of_expert,
                   uint32_t num_ranks);

// Lowers the mean C_T of `rank_of_expert` by swaps of two experts on
// different ranks (so every rank keeps its expert count):
// first-improvement descent to a local optimum, then `kicks` rounds of
// iterated local search (two random swaps, descend again, keep the result if
// it is no worse). Swaps only between ranks of equal `swap_class` (empty:
// all). Never raises the mean C_T; deterministic for a seed.
void SearchDevices(const LayerTokens& tokens, uint32_t num_ranks,
                   const std::vector<uint32_t>& swap_class, uint64_t seed, uint32_t kicks,
                   std::vector<uint32_t>* rank_of_expert);

}  // namespace epsim::placement

#endif  // EPSIM_SIM_PLACEMENT_DEVICE_COUNT_SEARCH_H_
