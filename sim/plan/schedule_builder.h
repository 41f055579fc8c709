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
//
// Overlap::kShortcut (ScMoE, ../shared/reference/dispatch.md): the routed
// experts of MoE block j read the representation of MoE block j-1 taken
// after its attention (the Pos-2 shortcut), so block j's gate, permute and
// dispatch are issued right after block j-1's attention, and the dispatch
// overlaps the rest of block j-1 and block j's attention and shared experts.
// Per rank the compute phases run in plan order on the compute stream and
// the all-to-alls in plan order on the communication stream: every phase
// depends on the one before it on its stream and on what feeds it. Block
// j's expert computation goes where it minimises
//   |compute before it in the dispatch's window - T_dispatch|
//   + |compute after it in the combine's window - T_combine|
// (ScMoE's rule), among the places between block j's own compute phases,
// with the times estimated at plan time: compute by the roofline
// (topology/roofline.h) on the slowest rank, an all-to-all as the most any
// rank sends or receives, each pair's bytes over its route's slowest link,
// one pair after another. The first MoE block of a pass takes its
// shortcut from the dense block before it when the model has dense blocks
// (its gate and dispatch follow the dense attention; the dense MLP and its
// own attention run under the dispatch), and otherwise reads its own
// attention (no earlier block to take a shortcut from). Prefill and decode
// only.
//
// Overlap::kMicroBatches (DeepSeek-V3 inference): each block's tokens are
// two micro-batches (the first and second half of the trace's tokens of the
// layer, or of the decode step, in trace order, each spread over the ranks
// as a whole batch is), software-pipelined so that one micro-batch's
// all-to-all runs under the other's compute: per block j, on the compute
// stream, reduce(j-1, 0), attention(j, 0), gate(j, 0) [dispatch(j, 0)],
// reduce(j-1, 1), attention(j, 1), gate(j, 1) [dispatch(j, 1)], shared(j, 0),
// experts(j, 0) [combine(j, 0)], shared(j, 1), experts(j, 1) [combine(j,
// 1)]; the all-to-alls in that order on the communication stream. Prefill
// and decode only.
#ifndef EPSIM_SIM_PLAN_SCHEDULE_BUILDER_H_
#define EPSIM_SIM_PLAN_SCHEDULE_BUILDER_H_

#include <map>
#include <vector>

#include "sim/base/status.h"
#include "sim/dispatch/strategy.h"
#include "sim/placement/placement.h"
#include "sim/plan/layer_traffic.h"
#include "sim/proto/model.pb.h"
#include "sim/proto/schedule.pb.h"
#include "sim/proto/topology.pb.h"
#include "sim/trace/trace.h"

namespace epsim::plan {

// Which pass: prefill (every traced token once, causal context within its
// sequence) or decode (every forward step of the trace replayed in turn,
// each row a sequence's one new token attending to a KV cache of
// `context` + the steps before + 1 tokens; a trace without steps is one
// step).
//
// Train: the prefill forward pass, then the backward pass, the forward
// mirrored phase by phase (every dependency reversed, so the backward
// overlaps what the forward overlapped: the shared expert, ScMoE's
// shortcut, two micro-batches): the gradient of the un-permute reduce, the
// combine's gradient all-to-all (the dispatch's rows, to the experts),
// expert input and weight gradients (twice the forward GEMMs), the
// dispatch's gradient all-to-all (the combine's rows, back to the tokens),
// router and permute gradients, shared experts, attention (each twice its
// forward; with `recompute` after its forward again), and per block the
// ring all-reduce of the gradients of its weights replicated on every rank
// (attention, router, shared experts; dense FFN in dense blocks), which
// runs under the next block's backward. Experts are each on one rank, so
// no expert gradient is all-reduced.
enum class Pass { kPrefill, kDecode, kTrain };
// "prefill", "decode", "train"; Usage naming them otherwise.
Result<Pass> PassFromName(const std::string& name);

// What overlaps the dispatch.
enum class Overlap { kNone, kSharedExpert, kShortcut, kMicroBatches };
// "none", "shared-expert", "scmoe", "micro-batches"; Usage naming them
// otherwise.
Result<Overlap> OverlapFromName(const std::string& name);
const char* OverlapName(Overlap overlap);

// ScMoE's placement of a block's expert computation among the compute
// phases of its window: the place K (before compute[K]; compute.size() =
// after all) minimising |window_before + sum_{i<K} compute_i - t_dispatch|
// + |sum_{i>=K} compute_i - t_combine|, the first on ties. window_before is
// the compute between the dispatch's issue and the first of `compute`.
// Seconds.
size_t ShortcutExpertPlace(double window_before, const std::vector<double>& compute,
                           double t_dispatch, double t_combine);

// What a prefill or train pass counts of one traced layer: the whole
// layer, and under Overlap::kMicroBatches its two micro-batches (the first
// and second half of its rows; none when it has fewer than 2 rows).
struct CountedLayer {
  uint32_t layer = 0;
  uint64_t num_tokens = 0;
  LayerTraffic whole;
  std::vector<LayerTraffic> halves;
};

struct PlanInputs;
// Counts `layer` as BuildSchedule does for `in` (a prefill or train pass
// whose strategy is not Luffy's): errors when the strategy needs a profile
// the inputs lack.
Result<CountedLayer> CountForPlan(const trace::LayerRouting& layer, const PlanInputs& in);

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
  // The machine, for the time estimates Overlap::kShortcut places expert
  // computation by (required there, unused otherwise).
  const proto::Topology* topology = nullptr;
  // The layers already counted while the trace streamed in (stream_count.h),
  // one per entry of trace.layers and in its order, or null. When given,
  // trace.layers need hold only each layer's number (their rows are not
  // read), the pass must be prefill or train and the strategy not Luffy's;
  // BuildSchedule moves the counts out.
  std::vector<CountedLayer>* counted = nullptr;
};

// Checks that trace and model agree (experts, top-k, MoE layer indices),
// that the placements fit both, and that the cluster map covers the ranks.
// Errors say which figures contradict.
Status CheckCompatible(const PlanInputs& in);

// The layer's routing context; errors when the strategy needs a profile the
// inputs lack.
Result<dispatch::RouteContext> ContextFor(const PlanInputs& in, uint32_t layer);

Result<proto::Schedule> BuildSchedule(const PlanInputs& in);

// The token blocks a schedule's MoE blocks work on, in the order of their
// first DISPATCH phases: per decode step (one step in prefill and train),
// per traced layer with tokens in that step, per micro-batch (the first and
// second half of the rows under Overlap::kMicroBatches, the whole
// otherwise). What the plan's routes are made from.
struct BlockSlice {
  uint32_t step = 0, micro_batch = 0;
  trace::LayerRouting routing;
};
std::vector<BlockSlice> BlockSlices(const trace::Trace& trace, Pass pass, Overlap overlap);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_SCHEDULE_BUILDER_H_
