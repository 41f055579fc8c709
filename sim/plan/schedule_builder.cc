#include "sim/plan/schedule_builder.h"

#include <fmt/format.h>

#include "sim/plan/compute_cost.h"
#include "sim/plan/layer_traffic.h"

namespace epsim::plan {
namespace {

// Appends phases to a schedule, chaining each to the previous one.
class PhaseChain {
 public:
  PhaseChain(proto::Schedule* schedule, uint32_t num_ranks)
      : schedule_(schedule), num_ranks_(num_ranks) {}

  proto::Phase* Add(uint32_t layer, proto::PhaseKind kind) {
    proto::Phase* p = schedule_->add_phases();
    p->set_id(static_cast<uint32_t>(schedule_->phases_size() - 1));
    p->set_layer(layer);
    p->set_kind(kind);
    if (p->id() > 0) p->add_depends_on(p->id() - 1);
    return p;
  }

  // A compute phase with one (possibly empty) RankWork per rank.
  proto::Phase* AddCompute(uint32_t layer, proto::PhaseKind kind) {
    proto::Phase* p = Add(layer, kind);
    for (uint32_t r = 0; r < num_ranks_; ++r) p->add_work();
    return p;
  }

 private:
  proto::Schedule* schedule_;
  uint32_t num_ranks_;
};

void AddTransfer(const LayerTraffic& traffic, bool transpose, uint64_t row_bytes,
                 proto::Phase* phase) {
  const uint32_t d = traffic.num_ranks;
  for (uint32_t s = 0; s < d; ++s) {
    for (uint32_t t = 0; t < d; ++t) {
      const uint64_t rows = s == t ? 0 : traffic.rows[transpose ? t * d + s : s * d + t];
      phase->add_send_rows(rows);
      phase->add_send_bytes(rows * row_bytes);
    }
  }
}

void AddExpertWork(const proto::Model& m, const placement::Placement& placement,
                   const LayerTraffic& traffic, uint32_t rank, proto::RankWork* work) {
  for (uint32_t e : placement.ExpertsOn(rank)) {
    work->add_expert_ids(e);
    work->add_tokens_per_expert(traffic.tokens_per_expert[e]);
    if (traffic.tokens_per_expert[e] > 0)
      *work->add_kernels() =
          SwigluKernel(m, "expert", traffic.tokens_per_expert[e], m.moe_intermediate());
  }
  if (traffic.reduce_inputs_per_rank[rank] > 0)
    *work->add_kernels() = ReduceKernel(m, "stage1_reduce", traffic.reduce_inputs_per_rank[rank],
                                        traffic.reduce_outputs_per_rank[rank]);
}

void AddAttention(const proto::Model& m, uint32_t layer, const LayerTraffic& traffic,
                  PhaseChain* chain) {
  proto::Phase* attention = chain->AddCompute(layer, proto::ATTENTION);
  for (uint32_t r = 0; r < traffic.num_ranks; ++r)
    *attention->mutable_work(r)->add_kernels() =
        AttentionKernel(m, traffic.tokens_per_rank[r], traffic.sum_context_per_rank[r]);
}

void AddMoeBlock(const proto::Model& m, const placement::Placement& placement, uint32_t layer,
                 const LayerTraffic& traffic, PhaseChain* chain) {
  const uint32_t d = traffic.num_ranks;
  AddAttention(m, layer, traffic, chain);
  if (m.num_shared_experts() > 0) {
    proto::Phase* shared = chain->AddCompute(layer, proto::SHARED_EXPERT);
    for (uint32_t r = 0; r < d; ++r)
      *shared->mutable_work(r)->add_kernels() =
          SwigluKernel(m, "shared_expert", traffic.tokens_per_rank[r],
                       uint64_t{m.shared_intermediate()} * m.num_shared_experts());
  }
  proto::Phase* gate = chain->AddCompute(layer, proto::GATE_PERMUTE);
  for (uint32_t r = 0; r < d; ++r) {
    *gate->mutable_work(r)->add_kernels() = GateKernel(m, traffic.tokens_per_rank[r]);
    *gate->mutable_work(r)->add_kernels() = CopyRowsKernel(m, "permute", traffic.RowsFrom(r));
  }
  AddTransfer(traffic, false, uint64_t{m.hidden()} * m.dispatch_bytes(),
              chain->Add(layer, proto::DISPATCH));
  proto::Phase* expert = chain->AddCompute(layer, proto::EXPERT);
  for (uint32_t r = 0; r < d; ++r) AddExpertWork(m, placement, traffic, r, expert->mutable_work(r));
  AddTransfer(traffic, true, uint64_t{m.hidden()} * m.combine_bytes(),
              chain->Add(layer, proto::COMBINE));
  proto::Phase* reduce = chain->AddCompute(layer, proto::UNPERMUTE_REDUCE);
  for (uint32_t r = 0; r < d; ++r)
    *reduce->mutable_work(r)->add_kernels() =
        ReduceKernel(m, "unpermute_reduce", traffic.RowsFrom(r), traffic.tokens_per_rank[r]);
}

void AddDenseBlock(const proto::Model& m, uint32_t layer, const LayerTraffic& traffic,
                   PhaseChain* chain) {
  AddAttention(m, layer, traffic, chain);
  proto::Phase* ffn = chain->AddCompute(layer, proto::DENSE_FFN);
  for (uint32_t r = 0; r < traffic.num_ranks; ++r)
    *ffn->mutable_work(r)->add_kernels() =
        SwigluKernel(m, "dense_ffn", traffic.tokens_per_rank[r], m.dense_intermediate());
}

}  // namespace

Status CheckCompatible(const trace::Trace& trace, const proto::Model& model,
                       const placement::Placement& placement) {
  const proto::TraceHeader& h = trace.header;
  if (h.num_experts() != model.num_experts())
    return Status::BadInput(fmt::format("trace has {} experts per layer but model {} has {}",
                                        h.num_experts(), model.name(), model.num_experts()));
  if (h.num_topk() != model.num_topk())
    return Status::BadInput(fmt::format("trace has top-{} routing but model {} uses top-{}",
                                        h.num_topk(), model.name(), model.num_topk()));
  if (placement.num_experts() != model.num_experts())
    return Status::Internal("placement built for a different number of experts");
  if (trace.layers.empty()) return Status::BadInput("trace has no layers");
  for (const trace::LayerRouting& layer : trace.layers) {
    if (layer.layer >= model.num_layers() || layer.layer < model.num_dense_layers())
      return Status::BadInput(fmt::format(
          "trace layer {} is not an MoE layer of model {} (MoE blocks are {}..{})", layer.layer,
          model.name(), model.num_dense_layers(), model.num_layers() - 1));
    if (layer.num_tokens() == 0)
      return Status::BadInput(fmt::format("trace layer {} has no tokens", layer.layer));
  }
  return Status::Ok();
}

Result<proto::Schedule> BuildSchedule(const trace::Trace& trace, const proto::Model& model,
                                      const placement::Placement& placement,
                                      const dispatch::Strategy& strategy) {
  EPSIM_RETURN_IF_ERROR(CheckCompatible(trace, model, placement));
  const uint32_t d = placement.num_ranks();
  proto::Schedule schedule;
  schedule.set_model(model.name());
  schedule.set_strategy(strategy.name());
  schedule.set_placement(placement.name());
  schedule.set_pass("prefill");
  schedule.set_num_ranks(d);
  schedule.set_hidden(model.hidden());
  PhaseChain chain(&schedule, d);
  const LayerTraffic first = CountLayer(trace.layers.front(), placement, strategy);
  for (uint64_t n : first.tokens_per_rank) schedule.add_tokens_per_rank(n);
  for (uint32_t b = 0; b < model.num_dense_layers(); ++b) AddDenseBlock(model, b, first, &chain);
  for (const trace::LayerRouting& layer : trace.layers)
    AddMoeBlock(model, placement, layer.layer, CountLayer(layer, placement, strategy), &chain);
  return schedule;
}

}  // namespace epsim::plan
