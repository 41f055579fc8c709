// Factories of the strategies beyond classical and dedup: Occult's
// collaboration pruning, C2R, DeepSeek-V3's node-limited routing and
// DeepEP-style hierarchical dispatch (definitions: the project's
// reference/dispatch.md). MakeStrategy (strategy.h) builds them from their
// command-line specs; these are for code that has the parameters in hand.
#ifndef EPSIM_SIM_DISPATCH_STRATEGIES_H_
#define EPSIM_SIM_DISPATCH_STRATEGIES_H_

#include <cstdint>
#include <memory>

#include "sim/base/status.h"
#include "sim/dispatch/strategy.h"

namespace epsim::dispatch {

// How pruning replaces experts outside the allowed devices.
enum class PruneScheme {
  kScore,       // Scheme 1: re-select the top-k among the allowed devices' experts
  kSimilarity,  // Scheme 2: replace each by its most similar allowed expert
};

// "pruned:N_d:score" / "pruned:N_d:similarity": at most `max_devices`
// (N_d >= 1) devices per token, dispatch deduplicated. The similarity scheme
// needs LayerProfile::similarity.
std::unique_ptr<Strategy> MakePruned(uint32_t max_devices, PruneScheme scheme);
// "c2r:T": top-1 plus the best k-1 of its first T partners (T >= 1; T >=
// k - 1 is checked by CheckStrategyFits). Needs LayerProfile::partners.
std::unique_ptr<Strategy> MakeC2R(uint32_t num_partners);
// "node-limited:M": experts from at most `max_nodes` (M >= 1) nodes.
std::unique_ptr<Strategy> MakeNodeLimited(uint32_t max_nodes);
// "hierarchical": unchanged top-k, one network copy per destination node.
std::unique_ptr<Strategy> MakeHierarchical();

// Luffy's parameters (reference/dispatch.md, "Sequence migration and token
// condensation"); the planner applies them to whole layers
// (plan/layer_traffic.h), as they decide where sequences live, not how one
// token is routed.
struct LuffyParams {
  // q: a sequence moves, in the combine, to the one of its q cheapest
  // devices (least combine rows) whose attention load is least.
  uint32_t candidates = 2;
  // The similarity structure: tokens of one sequence on one device fall into
  // clusters of `cluster_tokens` consecutive positions, each a clique above
  // the threshold (1 = no two tokens similar, nothing condensed). Routing
  // traces carry no hidden states; this stands in for them.
  uint32_t cluster_tokens = 1;
  // Capacity: a device holds at most ceil(N / D * (1 + slack_percent / 100))
  // of a layer's N tokens after migration.
  uint32_t slack_percent = 10;
};

// "luffy:Q:C[:S]": Luffy's sequence migration and token condensation over
// classical rows (Luffy builds on DeepSpeed-MoE's top-k all-to-all).
std::unique_ptr<Strategy> MakeLuffy(const LuffyParams& params);

// Checks the constraints a strategy puts on the trace it routes that its
// spec alone cannot: c2r:T needs T >= num_topk - 1. Usage error otherwise;
// Ok for every other strategy.
Status CheckStrategyFits(const Strategy& strategy, uint32_t num_topk);

}  // namespace epsim::dispatch

#endif  // EPSIM_SIM_DISPATCH_STRATEGIES_H_
