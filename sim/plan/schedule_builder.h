// BuildSchedule: trace + model + placement + dispatch strategy -> Schedule,
// the contract the simulator replays and the hardware harness executes.
//
// One forward pass (prefill). Blocks simulated: the model's dense blocks
// (attention + dense FFN, with as many tokens as the first traced layer) and
// every MoE block the trace records. Per MoE block, in order:
//   attention [+ shared experts] -> gate_permute -> dispatch -> expert ->
//   combine -> unpermute_reduce
// Each phase depends on the one before it; a block's attention depends on
// the previous block's last phase. Traffic is aggregated per (phase, src,
// dst): send_bytes = rows x hidden x dispatch_bytes (combine_bytes back).
#ifndef EPSIM_SIM_PLAN_SCHEDULE_BUILDER_H_
#define EPSIM_SIM_PLAN_SCHEDULE_BUILDER_H_

#include "sim/base/status.h"
#include "sim/dispatch/strategy.h"
#include "sim/placement/placement.h"
#include "sim/proto/model.pb.h"
#include "sim/proto/schedule.pb.h"
#include "sim/trace/trace.h"

namespace epsim::plan {

// Checks that trace and model agree (experts, top-k, MoE layer indices) and
// that the placement fits both. Errors say which figures contradict.
Status CheckCompatible(const trace::Trace& trace, const proto::Model& model,
                       const placement::Placement& placement);

Result<proto::Schedule> BuildSchedule(const trace::Trace& trace, const proto::Model& model,
                                      const placement::Placement& placement,
                                      const dispatch::Strategy& strategy);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_SCHEDULE_BUILDER_H_
