#include "sim/plan/plan_file.h"

#include <array>
#include <cmath>

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "sim/base/file_util.h"
#include "sim/dispatch/token_split.h"
#include "sim/exec/schedule_check.h"
#include "sim/plan/layer_traffic.h"

namespace epsim::plan {
namespace {

void AppendToken(const dispatch::RoutedToken& routed, proto::LayerRoutes* out) {
  for (size_t i = 0; i < routed.experts.size(); ++i) {
    out->add_experts(routed.experts[i]);
    out->add_weights(routed.weights[i]);
  }
  for (const dispatch::DispatchRow& row : routed.rows) {
    out->add_row_rank(row.rank);
    out->add_row_first(row.first);
    out->add_row_count(row.count);
    out->add_row_relay(row.relay);
  }
  out->add_expert_offsets(static_cast<uint32_t>(out->experts_size()));
  out->add_row_offsets(static_cast<uint32_t>(out->row_rank_size()));
}

Status CheckOffsets(const google::protobuf::RepeatedField<uint32_t>& offsets, uint32_t n,
                    int size, const char* what) {
  if (offsets.size() != static_cast<int>(n) + 1 || offsets[0] != 0 ||
      offsets[n] != static_cast<uint32_t>(size))
    return Status::BadInput(fmt::format("{}_offsets: want {} entries from 0 to {}", what, n + 1,
                                        size));
  for (uint32_t t = 0; t < n; ++t)
    if (offsets[t + 1] < offsets[t])
      return Status::BadInput(fmt::format("{}_offsets fall at token {}", what, t));
  return Status::Ok();
}

Status CheckToken(const proto::LayerRoutes& l, uint32_t t, uint32_t num_experts,
                  uint32_t num_ranks) {
  const uint32_t e0 = l.expert_offsets(t), e1 = l.expert_offsets(t + 1);
  for (uint32_t i = e0; i < e1; ++i) {
    if (l.experts(i) >= num_experts)
      return Status::BadInput(
          fmt::format("expert {} >= num_experts {}", l.experts(i), num_experts));
    if (!std::isfinite(l.weights(i)))
      return Status::BadInput(fmt::format("weight of expert {} is not finite", l.experts(i)));
  }
  for (uint32_t i = l.row_offsets(t); i < l.row_offsets(t + 1); ++i) {
    if (l.row_rank(i) >= num_ranks || l.row_relay(i) >= num_ranks)
      return Status::BadInput(fmt::format("row to rank {} via {} with num_ranks {}",
                                          l.row_rank(i), l.row_relay(i), num_ranks));
    if (l.row_count(i) == 0 || l.row_first(i) + l.row_count(i) > e1 - e0)
      return Status::BadInput(fmt::format("row experts [{}, +{}) outside the token's {}",
                                          l.row_first(i), l.row_count(i), e1 - e0));
  }
  return Status::Ok();
}

Status CheckLayer(const proto::LayerRoutes& l, uint32_t num_experts, uint32_t num_ranks) {
  const int n_rows = l.row_rank_size();
  if (l.weights_size() != l.experts_size() || l.row_first_size() != n_rows ||
      l.row_count_size() != n_rows || l.row_relay_size() != n_rows)
    return Status::BadInput("routes arrays differ in length");
  EPSIM_RETURN_IF_ERROR(CheckOffsets(l.expert_offsets(), l.num_tokens(), l.experts_size(),
                                     "expert"));
  EPSIM_RETURN_IF_ERROR(CheckOffsets(l.row_offsets(), l.num_tokens(), n_rows, "row"));
  for (uint32_t t = 0; t < l.num_tokens(); ++t)
    EPSIM_RETURN_IF_ERROR(
        CheckToken(l, t, num_experts, num_ranks).WithContext(fmt::format("token {}", t)));
  return Status::Ok();
}

}  // namespace

proto::LayerRoutes RouteLayer(const trace::LayerRouting& layer, const dispatch::RouteContext& ctx,
                              const dispatch::Strategy& strategy) {
  const dispatch::TokenSplit split(layer.num_tokens(), ctx.placement.num_ranks());
  proto::LayerRoutes out;
  out.set_layer(layer.layer);
  out.set_num_tokens(static_cast<uint32_t>(layer.num_tokens()));
  out.add_expert_offsets(0);
  out.add_row_offsets(0);
  dispatch::RoutedToken routed;
  for (size_t t = 0; t < layer.num_tokens(); ++t) {
    strategy.Route(ViewOf(layer, t), split.RankOf(t), ctx, &routed);
    AppendToken(routed, &out);
  }
  return out;
}

Result<proto::Plan> BuildPlan(const PlanInputs& in) {
  // The harness sends every token back to its source; Luffy's combine
  // returns to another device, and its condensed rows are not sent at all.
  if (in.strategy.luffy() != nullptr)
    return Status::Usage(fmt::format(
        "{}: the hardware harness does not execute Luffy (its combine returns tokens to other "
        "devices than their sources and drops condensed rows, which the harness's verification "
        "does not model); simulate it with `epsim simulate` or `epsim compare`",
        in.strategy.name()));
  proto::Plan plan;
  plan.set_version(kPlanVersion);
  EPSIM_ASSIGN_OR_RETURN(*plan.mutable_schedule(), BuildSchedule(in));
  *plan.mutable_model() = in.model;
  for (const BlockSlice& block : BlockSlices(in.trace, in.pass, in.overlap)) {
    EPSIM_ASSIGN_OR_RETURN(dispatch::RouteContext ctx, ContextFor(in, block.routing.layer));
    proto::LayerRoutes* routes = plan.add_layers();
    *routes = RouteLayer(block.routing, ctx, in.strategy);
    routes->set_step(block.step);
    routes->set_micro_batch(block.micro_batch);
  }
  for (uint32_t r = 0; r < in.placements.num_ranks(); ++r)
    plan.add_host_of_rank(in.cluster.HostOf(r));
  return plan;
}

dispatch::RoutedToken TokenOf(const proto::LayerRoutes& l, uint32_t t) {
  dispatch::RoutedToken out;
  for (uint32_t i = l.expert_offsets(t); i < l.expert_offsets(t + 1); ++i) {
    out.experts.push_back(l.experts(i));
    out.weights.push_back(l.weights(i));
  }
  for (uint32_t i = l.row_offsets(t); i < l.row_offsets(t + 1); ++i)
    out.rows.push_back({l.row_rank(i), l.row_first(i), l.row_count(i), l.row_relay(i)});
  return out;
}

Status ValidatePlan(const proto::Plan& plan) {
  if (plan.version() != kPlanVersion)
    return Status::BadInput(fmt::format("plan version {} (this epsim reads {})", plan.version(),
                                        kPlanVersion));
  const proto::Schedule& s = plan.schedule();
  EPSIM_RETURN_IF_ERROR(
      exec::ValidateSchedule(s, s.num_ranks()).WithContext("schedule"));
  if (plan.host_of_rank_size() != static_cast<int>(s.num_ranks()))
    return Status::BadInput(fmt::format("host_of_rank has {} entries, want num_ranks {}",
                                        plan.host_of_rank_size(), s.num_ranks()));
  // One DISPATCH per MoE block (step, layer, micro-batch), in order.
  std::vector<std::array<uint32_t, 3>> blocks;
  for (const proto::Phase& p : s.phases())
    if (p.kind() == proto::DISPATCH) blocks.push_back({p.step(), p.layer(), p.micro_batch()});
  if (blocks.size() != static_cast<size_t>(plan.layers_size()))
    return Status::BadInput(fmt::format("{} routed blocks for {} MoE blocks in the schedule",
                                        plan.layers_size(), blocks.size()));
  for (int i = 0; i < plan.layers_size(); ++i) {
    const proto::LayerRoutes& l = plan.layers(i);
    const std::array<uint32_t, 3> have = {l.step(), l.layer(), l.micro_batch()};
    if (have != blocks[i])
      return Status::BadInput(fmt::format(
          "routes {} are of step {} layer {} micro-batch {} where the schedule's block {} is "
          "of step {} layer {} micro-batch {}",
          i, have[0], have[1], have[2], i, blocks[i][0], blocks[i][1], blocks[i][2]));
    EPSIM_RETURN_IF_ERROR(CheckLayer(l, plan.model().num_experts(), s.num_ranks())
                              .WithContext(fmt::format("layer {}", l.layer())));
  }
  return Status::Ok();
}

Status WritePlan(const std::string& path, const proto::Plan& plan) {
  // Deterministic: the inputs map in key order, so the same plan gives the same bytes.
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!plan.SerializeToCodedStream(&coded)) return Status::Internal(path + ": cannot serialise plan");
  }
  return WriteFileAtomically(path, bytes);
}

Result<proto::Plan> ReadPlan(const std::string& path) {
  EPSIM_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  proto::Plan plan;
  if (!plan.ParseFromString(bytes))
    return Status::BadInput(path + ": not a plan file (protobuf parse failed; truncated?)");
  EPSIM_RETURN_IF_ERROR(ValidatePlan(plan).WithContext(path));
  return plan;
}

}  // namespace epsim::plan
