// BuildSchedule: trace + model + placement + dispatch strategy -> Schedule,
// the contract the simulator replays and the hardware harness executes.
//
// One forward pass (prefill). Blocks simulated: the model's dense blocks
// (attention + dense FFN, with as many tokens as the first traced layer) and
// every MoE block the trace records. Per MoE block, in order:
//   attention [+ shared experts] -> gate_permute -> dispatch -> expert ->
//   combine -> unpermute_reduce
// Hierarchical strategies add dispatch_forward after dispatch and
// combine_gather before combine (the intra-node stages) in layers where some
// row goes through a relay. Each phase depends
// on the one before it; a block's attention depends on the previous block's
// last phase. Traffic is aggregated per (phase, src,
// dst): send_bytes = rows x hidden x dispatch_bytes (combine_bytes back).
//
// Overlap::kSharedExpert (DeepSeek, Qwen): the shared experts run while the
// dispatch is in flight: attention -> gate_permute -> dispatch, and the
// shared-expert phase after it depends on gate_permute only, so it runs on
// the compute stream under the all-to-all on the communication stream; the
// routed experts wait for the dispatch (and, on the compute stream, for the
// shared expert). Models without shared experts are planned as without it.
#ifndef EPSIM_SIM_PLAN_SCHEDULE_BUILDER_H_
#define EPSIM_SIM_PLAN_SCHEDULE_BUILDER_H_

#include <map>

#include "sim/base/status.h"
#include "sim/dispatch/strategy.h"
#include "sim/placement/placement.h"
#include "sim/proto/model.pb.h"
#include "sim/proto/schedule.pb.h"
#include "sim/trace/trace.h"

namespace epsim::plan {

// Which pass: prefill (every traced token once, causal context within its
// sequence) or decode (every forward step of the trace replayed in turn,
// each row a sequence's one new token attending to a KV cache of
// `context` + the steps before + 1 tokens; a trace without steps is one
// step).
//
// Train: the prefill forward pass, then the backward pass block by block
// in reverse: the gradient of the un-permute reduce, the combine's
// gradient all-to-all (the dispatch's rows, to the experts), expert input
// and weight gradients (twice the forward GEMMs), the dispatch's gradient
// all-to-all (the combine's rows, back to the tokens), router and permute
// gradients, shared experts, attention (each twice its forward; with
// `recompute` after its forward again), and per block the ring all-reduce
// of the gradients of its weights replicated on every rank (attention,
// router, shared experts; dense FFN in dense blocks), which runs under the
// next block's backward. Experts are each on one rank, so no expert
// gradient is all-reduced.
enum class Pass { kPrefill, kDecode, kTrain };
// "prefill", "decode", "train"; Usage naming them otherwise.
Result<Pass> PassFromName(const std::string& name);

// What overlaps the dispatch.
enum class Overlap { kNone, kSharedExpert };
// "none", "shared-expert"; Usage naming both otherwise.
Result<Overlap> OverlapFromName(const std::string& name);
const char* OverlapName(Overlap overlap);

// What a plan is made from. Profiles (per layer) are needed only by
// strategies whose needs_profile() is true.
struct PlanInputs {
  const trace::Trace& trace;
  const proto::Model& model;
  const placement::LayerPlacements& placements;
  const dispatch::Strategy& strategy;
  const dispatch::ClusterMap& cluster;
  const std::map<uint32_t, dispatch::LayerProfile>* profiles = nullptr;
  Overlap overlap = Overlap::kNone;
  Pass pass = Pass::kPrefill;
  uint64_t context = 0;  // decode: KV-cache tokens per sequence before the first step
  bool recompute = false;  // train: activations recomputed before each backward
};

// Checks that trace and model agree (experts, top-k, MoE layer indices),
// that the placements fit both, and that the cluster map covers the ranks.
// Errors say which figures contradict.
Status CheckCompatible(const PlanInputs& in);

// The layer's routing context; errors when the strategy needs a profile the
// inputs lack.
Result<dispatch::RouteContext> ContextFor(const PlanInputs& in, uint32_t layer);

Result<proto::Schedule> BuildSchedule(const PlanInputs& in);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_SCHEDULE_BUILDER_H_
