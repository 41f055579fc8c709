// Where every row of a plan lives on one rank: the executor's buffers and
// index lists for each MoE layer, derived from the plan's per-token routes
// (the dispatch library's RoutedTokens) and nothing else. Every rank derives
// the same global order, so what rank s sends as its i-th row to rank d is
// what d expects as its i-th row from s; no metadata travels.
//
// Copies: a first-stage copy of a token goes to one destination rank.
// Single-stage strategies send one copy per row (classical: per (token,
// expert); dedup and routing-changing ones: per (token, device)).
// Hierarchical layers (the schedule has a DISPATCH_FORWARD phase) send one
// copy per distinct relay; a copy is *relayed* when some row of its group
// lives on another rank than the relay, and the relay forwards it to them.
//
// Order: rows to one destination go in token order; a receiver's segments
// are by source rank; combine and gather are dispatch and forward reversed
// (the same rows, the same order, the other direction).
//
// Values: a row instance on its expert rank yields V = its expert's output
// (one expert) or the gate-weighted sum of its experts' outputs (Occult's
// stage-1 reduce, more than one). A row's contribution to its token is
// c * V with c = its expert's gate weight for one expert, 1 otherwise. A
// relay sums c * V over its group (the relay reduce, inside the combine op)
// and returns one copy, which its source adds with coefficient 1.
#ifndef EPSIM_HW_COMMON_LAYOUT_H_
#define EPSIM_HW_COMMON_LAYOUT_H_

#include <cstdint>
#include <vector>

#include "hw/common/backend.h"
#include "sim/base/status.h"
#include "sim/proto/plan.pb.h"

namespace epsim::hw {

struct LayerLayout {
  uint32_t layer = 0;
  uint64_t first_token = 0, num_tokens = 0;  // this rank's block of the layer
  bool hierarchical = false;
  AllToAllSpec dispatch, forward, gather, combine;  // in rows
  std::vector<uint32_t> permute;      // dispatch send row -> local token
  std::vector<uint32_t> forward_src;  // forward send row -> arrival row
  // Arrival rows: the dispatch receive rows, then the forward receive rows.
  uint64_t arrival_rows = 0;
  struct Expert {
    uint32_t expert = 0;
    std::vector<uint32_t> rows;  // arrival rows, in arrival order
  };
  std::vector<Expert> experts;  // local experts with rows, by ascending id
  uint64_t ycat_rows = 0;       // the experts' outputs back to back
  ReduceSpec combine_pack;      // ycat -> combine send rows of direct copies
  ReduceSpec gather_pack;       // ycat -> gather send rows (rows forwarded to us)
  ReduceSpec relay_own;         // ycat -> gather pool rows after the received ones
  ReduceSpec relay_reduce;      // gather pool -> combine send rows of relayed copies
  ReduceSpec unpermute;         // combine receive rows -> local tokens
  uint64_t gather_pool_rows = 0;
  uint64_t max_expert_rows = 0;

  // Training's backward: every forward step transposed (a gather's
  // transpose sums the gradients of the rows it copied, a reduce's scales
  // and scatters them), the all-to-alls reversed. Buffers:
  //   dcat  = [combine send rows | gather send rows | gather pool rows]
  //           (what the combine-shaped gradients land in, combine dtype);
  //   dxext = [ycat rows | forward send rows] (FP32: the experts' input
  //           gradients, then those a relay gets back for what it forwarded).
  ReduceSpec unpermute_t;  // output gradient (local tokens) -> combine receive rows
  ReduceSpec relay_t;      // dcat combine rows -> dcat pool rows (relay reduce^T)
  ReduceSpec returns_t;    // dcat -> ycat rows (combine pack, gather pack, relay own ^T)
  ReduceSpec arrivals_forwarded_t;  // dxext -> arrival rows received by forward
  ReduceSpec arrivals_t;   // dxext -> dispatch receive rows (expert gathers and forward^T)
  ReduceSpec permute_t;    // dispatch send rows -> local tokens (input gradient)
  // dcat's regions, in rows: combine at 0, gather at dcat_gather, pool at dcat_pool.
  uint64_t dcat_gather = 0, dcat_pool = 0, dcat_rows = 0;
};

// Layouts of `rank` for every layer of `plan` (validated: plan_file.h).
Result<std::vector<LayerLayout>> BuildLayouts(const proto::Plan& plan, uint32_t rank);

}  // namespace epsim::hw

#endif  // EPSIM_HW_COMMON_LAYOUT_H_
