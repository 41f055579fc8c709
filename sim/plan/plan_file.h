// Plans: a Schedule together with the per-token routes it was counted from
// (sim/proto/plan.proto), the unit `epsim plan` writes and `epsim-hw run`
// executes. Routes come from the dispatch library's Strategy::Route, the
// same call the schedule's counts come from, so an executor moves exactly
// the rows the simulator replayed.
#ifndef EPSIM_SIM_PLAN_PLAN_FILE_H_
#define EPSIM_SIM_PLAN_PLAN_FILE_H_

#include <string>

#include "sim/base/status.h"
#include "sim/dispatch/strategy.h"
#include "sim/plan/schedule_builder.h"
#include "sim/proto/plan.pb.h"

namespace epsim::plan {

inline constexpr uint32_t kPlanVersion = 1;

// Routes every token of `layer` as `strategy` does (TokenSplit holds them).
proto::LayerRoutes RouteLayer(const trace::LayerRouting& layer, const dispatch::RouteContext& ctx,
                              const dispatch::Strategy& strategy);

// The schedule of `in` and the routes of every traced layer.
Result<proto::Plan> BuildPlan(const PlanInputs& in);

// The routed token t of a layer, back in the dispatch library's form.
dispatch::RoutedToken TokenOf(const proto::LayerRoutes& routes, uint32_t t);

// Checks everything an executor relies on: version, a valid schedule
// (exec::ValidateSchedule), one LayerRoutes per MoE layer of the schedule in
// order, offsets of num_tokens + 1 entries rising from 0 to the array sizes,
// expert ids < num_experts, ranks and relays < num_ranks, each row's experts
// inside its token's list, finite weights, host_of_rank of num_ranks
// entries. BadInput naming the layer, token and field.
Status ValidatePlan(const proto::Plan& plan);

// Binary protobuf, written atomically (no partial file on failure).
Status WritePlan(const std::string& path, const proto::Plan& plan);
// Reads and validates; errors start with the file name.
Result<proto::Plan> ReadPlan(const std::string& path);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_PLAN_FILE_H_
