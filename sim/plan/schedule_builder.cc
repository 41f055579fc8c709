#include "sim/plan/schedule_builder.h"

#include <algorithm>
#include <numeric>

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

  // Depends on the chain's tail (the last phase added by Add), and becomes
  // the tail.
  proto::Phase* Add(uint32_t layer, proto::PhaseKind kind) {
    proto::Phase* p = AddSide(layer, kind);
    tail_ = static_cast<int>(p->id());
    return p;
  }
  // Depends on the tail but leaves it: the next phase does not wait for
  // this one (a gradient all-reduce under the backward pass).
  proto::Phase* AddSide(uint32_t layer, proto::PhaseKind kind) {
    proto::Phase* p = schedule_->add_phases();
    p->set_id(static_cast<uint32_t>(schedule_->phases_size() - 1));
    p->set_layer(layer);
    p->set_kind(kind);
    if (tail_ >= 0) p->add_depends_on(static_cast<uint32_t>(tail_));
    p->set_phase_class(proto::ALL_TO_ALL);
    return p;
  }

  size_t size() const { return static_cast<size_t>(schedule_->phases_size()); }
  proto::Phase* last() { return schedule_->mutable_phases(schedule_->phases_size() - 1); }

  // A compute phase with one (possibly empty) RankWork per rank.
  proto::Phase* AddCompute(uint32_t layer, proto::PhaseKind kind) {
    proto::Phase* p = Add(layer, kind);
    p->set_phase_class(proto::COMPUTE);
    for (uint32_t r = 0; r < num_ranks_; ++r) p->add_work();
    return p;
  }

 private:
  proto::Schedule* schedule_;
  uint32_t num_ranks_;
  int tail_ = -1;
};

// An all-to-all from a [src][dst] row matrix (transposed for combine).
void AddTransfer(const std::vector<uint64_t>& rows, uint32_t d, bool transpose,
                 uint64_t row_bytes, proto::Phase* phase) {
  for (uint32_t s = 0; s < d; ++s) {
    for (uint32_t t = 0; t < d; ++t) {
      const uint64_t n = s == t ? 0 : rows[transpose ? t * d + s : s * d + t];
      phase->add_send_rows(n);
      phase->add_send_bytes(n * row_bytes);
    }
  }
}

void AddExpertWork(const proto::Model& m, const placement::Placement& placement,
                   const LayerTraffic& traffic, uint32_t rank, proto::RankWork* work) {
  const uint32_t e_count = placement.num_experts();
  for (uint32_t e : placement.ExpertsOn(rank)) {
    const uint64_t tokens = traffic.tokens_per_rank_expert[size_t{rank} * e_count + e];
    work->add_expert_ids(e);
    work->add_tokens_per_expert(tokens);
    if (tokens == 0) continue;
    proto::Kernel* k = work->add_kernels();
    *k = SwigluKernel(m, "expert", tokens, m.moe_intermediate());
    k->set_expert(e);
  }
  // The outputs go back in the combine's send order: summed per token
  // first (two-stage reduce), else copied row by row into the send buffer
  // (what the harness's pack does on every backend).
  if (traffic.reduce_inputs_per_rank[rank] > 0) {
    *work->add_kernels() = ReduceKernel(m, "stage1_reduce", traffic.reduce_inputs_per_rank[rank],
                                        traffic.reduce_outputs_per_rank[rank]);
  } else {
    uint64_t rows = 0;
    for (uint32_t e : placement.ExpertsOn(rank))
      rows += traffic.tokens_per_rank_expert[size_t{rank} * e_count + e];
    if (rows > 0) *work->add_kernels() = CopyRowsKernel(m, "combine_pack", rows);
  }
}

void AddAttention(const proto::Model& m, uint32_t layer, const LayerTraffic& traffic,
                  bool decode, PhaseChain* chain) {
  proto::Phase* attention = chain->AddCompute(layer, proto::ATTENTION);
  for (uint32_t r = 0; r < traffic.num_ranks; ++r)
    *attention->mutable_work(r)->add_kernels() =
        decode ? DecodeAttentionKernel(m, traffic.tokens_per_rank[r],
                                       traffic.sum_context_per_rank[r])
               : AttentionKernel(m, traffic.tokens_per_rank[r], traffic.sum_context_per_rank[r]);
}

void AddSharedExperts(const proto::Model& m, uint32_t layer, const LayerTraffic& traffic,
                      PhaseChain* chain) {
  if (m.num_shared_experts() == 0) return;
  proto::Phase* shared = chain->AddCompute(layer, proto::SHARED_EXPERT);
  for (uint32_t r = 0; r < traffic.num_ranks; ++r)
    *shared->mutable_work(r)->add_kernels() =
        SwigluKernel(m, "shared_expert", traffic.tokens_per_rank[r],
                     uint64_t{m.shared_intermediate()} * m.num_shared_experts());
}

void AddMoeBlock(const proto::Model& m, const placement::Placement& placement, bool hierarchical,
                 Overlap overlap, bool decode, uint32_t layer, const LayerTraffic& traffic,
                 PhaseChain* chain) {
  const bool overlap_shared = overlap == Overlap::kSharedExpert && m.num_shared_experts() > 0;
  const uint32_t d = traffic.num_ranks;
  // The intra-node stages exist only when some row goes through a relay
  // (never on a single node).
  hierarchical &= std::any_of(traffic.forward_rows.begin(), traffic.forward_rows.end(),
                              [](uint64_t n) { return n > 0; });
  const uint64_t dispatch_row = uint64_t{m.hidden()} * m.dispatch_bytes();
  const uint64_t combine_row = uint64_t{m.hidden()} * m.combine_bytes();
  AddAttention(m, layer, traffic, decode, chain);
  if (!overlap_shared) AddSharedExperts(m, layer, traffic, chain);
  proto::Phase* gate = chain->AddCompute(layer, proto::GATE_PERMUTE);
  const uint32_t gate_id = gate->id();
  for (uint32_t r = 0; r < d; ++r) {
    *gate->mutable_work(r)->add_kernels() = GateKernel(m, traffic.tokens_per_rank[r]);
    *gate->mutable_work(r)->add_kernels() = CopyRowsKernel(m, "permute", traffic.RowsFrom(r));
  }
  AddTransfer(traffic.rows, d, false, dispatch_row, chain->Add(layer, proto::DISPATCH));
  if (hierarchical)
    AddTransfer(traffic.forward_rows, d, false, dispatch_row,
                chain->Add(layer, proto::DISPATCH_FORWARD));
  const uint32_t dispatched_id = static_cast<uint32_t>(chain->size() - 1);
  if (overlap_shared) {
    // Under the dispatch: depends on the gate's output, not on the dispatch.
    AddSharedExperts(m, layer, traffic, chain);
    proto::Phase* shared = chain->last();
    shared->clear_depends_on();
    shared->add_depends_on(gate_id);
  }
  proto::Phase* expert = chain->AddCompute(layer, proto::EXPERT);
  if (overlap_shared) {
    expert->clear_depends_on();
    expert->add_depends_on(dispatched_id);
    expert->add_depends_on(expert->id() - 1);  // the shared expert, on the compute stream
  }
  for (uint32_t r = 0; r < d; ++r) AddExpertWork(m, placement, traffic, r, expert->mutable_work(r));
  if (hierarchical)
    AddTransfer(traffic.forward_rows, d, true, combine_row,
                chain->Add(layer, proto::COMBINE_GATHER));
  AddTransfer(traffic.rows, d, true, combine_row, chain->Add(layer, proto::COMBINE));
  proto::Phase* reduce = chain->AddCompute(layer, proto::UNPERMUTE_REDUCE);
  for (uint32_t r = 0; r < d; ++r)
    *reduce->mutable_work(r)->add_kernels() =
        ReduceKernel(m, "unpermute_reduce", traffic.RowsFrom(r), traffic.tokens_per_rank[r]);
}

void AddDenseBlock(const proto::Model& m, uint32_t layer, const LayerTraffic& traffic,
                   bool decode, PhaseChain* chain) {
  AddAttention(m, layer, traffic, decode, chain);
  proto::Phase* ffn = chain->AddCompute(layer, proto::DENSE_FFN);
  for (uint32_t r = 0; r < traffic.num_ranks; ++r)
    *ffn->mutable_work(r)->add_kernels() =
        SwigluKernel(m, "dense_ffn", traffic.tokens_per_rank[r], m.dense_intermediate());
}

// ---- training's backward pass ----

// Gradient all-reduce of a block's weights replicated on every rank
// (`weights` elements, gradients of activation_bytes each), as one ring:
// each rank sends 2 (n - 1) / n of the gradient bytes to the next rank.
// One phase, so it pays one message latency, not one per ring step. It
// hangs off the chain: the backward pass goes on under it.
void AddGradientAllReduce(const proto::Model& m, uint32_t layer, double weights, uint32_t d,
                          PhaseChain* chain) {
  if (d < 2 || weights <= 0) return;
  proto::Phase* p = chain->AddSide(layer, proto::GRADIENT_ALLREDUCE);
  const auto bytes = static_cast<uint64_t>(
      std::llround(2.0 * (d - 1) / d * weights * m.activation_bytes()));
  for (uint32_t s = 0; s < d; ++s)
    for (uint32_t t = 0; t < d; ++t) p->add_send_bytes(t == (s + 1) % d ? bytes : 0);
}

// `forward`'s kernels as a backward phase's: input and weight gradients at
// twice the cost, after the forward kernels again when recomputing.
void AddBackwardKernels(const proto::RankWork& forward, const char* suffix, bool recompute,
                        proto::RankWork* out) {
  if (recompute)
    for (const proto::Kernel& k : forward.kernels()) *out->add_kernels() = k;
  for (const proto::Kernel& k : forward.kernels())
    *out->add_kernels() = ScaledKernel(k, (k.name() + suffix).c_str(), 2.0);
}

void AddAttentionBackward(const proto::Model& m, uint32_t layer, const LayerTraffic& traffic,
                          bool recompute, PhaseChain* chain) {
  proto::Phase* p = chain->AddCompute(layer, proto::ATTENTION_BACKWARD);
  for (uint32_t r = 0; r < traffic.num_ranks; ++r) {
    proto::RankWork forward;
    *forward.add_kernels() =
        AttentionKernel(m, traffic.tokens_per_rank[r], traffic.sum_context_per_rank[r]);
    AddBackwardKernels(forward, "_bwd", recompute, p->mutable_work(r));
  }
}

// A forward MoE block as the backward pass needs it.
struct MoeBlock {
  uint32_t layer = 0;
  const placement::Placement* placement = nullptr;
  bool hierarchical = false;
  LayerTraffic traffic;
};

// The backward of one MoE block, in the reverse order of its forward
// phases; every all-to-all moves its forward mirror's rows the other way.
void AddMoeBackward(const proto::Model& m, const MoeBlock& b, bool recompute, PhaseChain* chain) {
  const LayerTraffic& t = b.traffic;
  const uint32_t d = t.num_ranks;
  const bool hierarchical = b.hierarchical && std::any_of(t.forward_rows.begin(),
                                                          t.forward_rows.end(),
                                                          [](uint64_t n) { return n > 0; });
  const uint64_t dispatch_row = uint64_t{m.hidden()} * m.dispatch_bytes();
  const uint64_t combine_row = uint64_t{m.hidden()} * m.combine_bytes();
  proto::Phase* reduce = chain->AddCompute(b.layer, proto::UNPERMUTE_REDUCE_BACKWARD);
  for (uint32_t r = 0; r < d; ++r)
    *reduce->mutable_work(r)->add_kernels() =
        ReduceKernel(m, "unpermute_reduce_bwd", t.RowsFrom(r), t.tokens_per_rank[r]);
  AddTransfer(t.rows, d, false, combine_row, chain->Add(b.layer, proto::COMBINE_BACKWARD));
  if (hierarchical)
    AddTransfer(t.forward_rows, d, false, combine_row,
                chain->Add(b.layer, proto::COMBINE_BACKWARD));
  proto::Phase* expert = chain->AddCompute(b.layer, proto::EXPERT_BACKWARD);
  for (uint32_t r = 0; r < d; ++r) {
    proto::RankWork forward;
    AddExpertWork(m, *b.placement, t, r, &forward);
    proto::RankWork* work = expert->mutable_work(r);
    *work->mutable_expert_ids() = forward.expert_ids();
    *work->mutable_tokens_per_expert() = forward.tokens_per_expert();
    AddBackwardKernels(forward, "_bwd", recompute, work);
  }
  if (hierarchical)
    AddTransfer(t.forward_rows, d, true, dispatch_row,
                chain->Add(b.layer, proto::DISPATCH_BACKWARD));
  AddTransfer(t.rows, d, true, dispatch_row, chain->Add(b.layer, proto::DISPATCH_BACKWARD));
  proto::Phase* gate = chain->AddCompute(b.layer, proto::GATE_PERMUTE_BACKWARD);
  for (uint32_t r = 0; r < d; ++r) {
    *gate->mutable_work(r)->add_kernels() =
        ScaledKernel(GateKernel(m, t.tokens_per_rank[r]), "gate_bwd", 2.0);
    *gate->mutable_work(r)->add_kernels() = CopyRowsKernel(m, "unpermute_grad", t.RowsFrom(r));
  }
  if (m.num_shared_experts() > 0) {
    proto::Phase* shared = chain->AddCompute(b.layer, proto::SHARED_EXPERT_BACKWARD);
    for (uint32_t r = 0; r < d; ++r) {
      proto::RankWork forward;
      *forward.add_kernels() =
          SwigluKernel(m, "shared_expert", t.tokens_per_rank[r],
                       uint64_t{m.shared_intermediate()} * m.num_shared_experts());
      AddBackwardKernels(forward, "_bwd", recompute, shared->mutable_work(r));
    }
  }
  AddAttentionBackward(m, b.layer, t, recompute, chain);
  // Replicated on every rank: attention, router, shared experts.
  const double h = m.hidden();
  AddGradientAllReduce(m, b.layer,
                       AttentionWeights(m) + h * m.num_experts() +
                           3.0 * h * m.shared_intermediate() * m.num_shared_experts(),
                       d, chain);
}

void AddDenseBackward(const proto::Model& m, uint32_t layer, const LayerTraffic& t,
                      bool recompute, PhaseChain* chain) {
  proto::Phase* ffn = chain->AddCompute(layer, proto::DENSE_FFN_BACKWARD);
  for (uint32_t r = 0; r < t.num_ranks; ++r) {
    proto::RankWork forward;
    *forward.add_kernels() =
        SwigluKernel(m, "dense_ffn", t.tokens_per_rank[r], m.dense_intermediate());
    AddBackwardKernels(forward, "_bwd", recompute, ffn->mutable_work(r));
  }
  AddAttentionBackward(m, layer, t, recompute, chain);
  AddGradientAllReduce(m, layer, AttentionWeights(m) + 3.0 * m.hidden() * m.dense_intermediate(),
                       t.num_ranks, chain);
}

// Sums LayerTraffic over layers into the schedule's RoutingSummary.
class RoutingTotals {
 public:
  void Add(const LayerTraffic& t, const placement::Placement& p, uint64_t row_bytes) {
    tokens_ += t.num_tokens;
    devices_ += t.sum_devices;
    nodes_ += t.sum_nodes;
    rows_ += t.RemoteRows();
    bytes_ += static_cast<double>(t.RemoteRows()) * row_bytes;
    picks_ += t.topk_picks;
    changed_ += t.topk_changed;
    weight_total_ += t.weight_total;
    weight_kept_ += t.weight_kept;
    std::vector<uint64_t> load(t.num_ranks, 0);
    for (uint32_t r = 0; r < t.num_ranks; ++r)
      for (uint32_t e = 0; e < p.num_experts(); ++e)
        load[r] += t.tokens_per_rank_expert[size_t{r} * p.num_experts() + e];
    const uint64_t total = std::accumulate(load.begin(), load.end(), uint64_t{0});
    if (total > 0)
      imbalance_sum_ += static_cast<double>(*std::max_element(load.begin(), load.end())) *
                        t.num_ranks / static_cast<double>(total);
    ++layers_;
  }

  proto::RoutingSummary Summary() const {
    proto::RoutingSummary s;
    const double n = std::max<double>(static_cast<double>(tokens_), 1);
    s.set_num_tokens(tokens_);
    s.set_devices_per_token(devices_ / n);
    s.set_nodes_per_token(nodes_ / n);
    s.set_rows_per_token(rows_ / n);
    s.set_bytes_per_token(bytes_ / n);
    s.set_topk_changed(picks_ > 0 ? static_cast<double>(changed_) / picks_ : 0);
    s.set_weight_kept(weight_total_ > 0 ? weight_kept_ / weight_total_ : 1);
    s.set_device_imbalance(layers_ > 0 ? imbalance_sum_ / layers_ : 0);
    return s;
  }

 private:
  uint64_t tokens_ = 0, devices_ = 0, nodes_ = 0, rows_ = 0, picks_ = 0, changed_ = 0;
  uint32_t layers_ = 0;
  double bytes_ = 0, weight_total_ = 0, weight_kept_ = 0, imbalance_sum_ = 0;
};

}  // namespace

Result<Overlap> OverlapFromName(const std::string& name) {
  if (name == "none") return Overlap::kNone;
  if (name == "shared-expert") return Overlap::kSharedExpert;
  return Status::Usage(fmt::format("overlap '{}': expected none or shared-expert", name));
}

const char* OverlapName(Overlap overlap) {
  return overlap == Overlap::kSharedExpert ? "shared-expert" : "none";
}

Status CheckCompatible(const PlanInputs& in) {
  const proto::TraceHeader& h = in.trace.header;
  const proto::Model& model = in.model;
  if (h.num_experts() != model.num_experts())
    return Status::BadInput(fmt::format("trace has {} experts per layer but model {} has {}",
                                        h.num_experts(), model.name(), model.num_experts()));
  if (h.num_topk() != model.num_topk())
    return Status::BadInput(fmt::format("trace has top-{} routing but model {} uses top-{}",
                                        h.num_topk(), model.name(), model.num_topk()));
  if (in.placements.num_experts() != model.num_experts())
    return Status::BadInput(fmt::format("placement {} has {} experts but model {} has {}",
                                        in.placements.name(), in.placements.num_experts(),
                                        model.name(), model.num_experts()));
  if (in.cluster.host_of_rank.size() < in.placements.num_ranks())
    return Status::Internal("cluster map covers fewer ranks than the placement");
  if (in.trace.layers.empty()) return Status::BadInput("trace has no layers");
  if (h.scores_absent() && in.strategy.needs_scores())
    return Status::BadInput(fmt::format(
        "strategy {} ranks experts by their router scores, but the trace has expert ids only "
        "(its log had no scores): use a strategy that does not (classical, dedup, hierarchical, "
        "pruned:N:similarity) or import a log with scores",
        in.strategy.name()));
  for (const trace::LayerRouting& layer : in.trace.layers) {
    if (layer.layer >= model.num_layers() || layer.layer < model.num_dense_layers())
      return Status::BadInput(fmt::format(
          "trace layer {} is not an MoE layer of model {} (MoE blocks are {}..{})", layer.layer,
          model.name(), model.num_dense_layers(), model.num_layers() - 1));
    if (layer.num_tokens() == 0)
      return Status::BadInput(fmt::format("trace layer {} has no tokens", layer.layer));
  }
  return Status::Ok();
}

Result<dispatch::RouteContext> ContextFor(const PlanInputs& in, uint32_t layer) {
  const dispatch::LayerProfile* profile = nullptr;
  if (in.strategy.needs_profile()) {
    if (in.profiles != nullptr) {
      auto it = in.profiles->find(layer);
      if (it != in.profiles->end()) profile = &it->second;
    }
    if (profile == nullptr)
      return Status::BadInput(fmt::format("strategy {} needs a profile of layer {}",
                                          in.strategy.name(), layer));
  }
  return dispatch::RouteContext{in.placements.ForLayer(layer), in.cluster, profile};
}

namespace {

// Forward steps a decode pass replays: the most any layer has (1 for a
// trace without steps).
size_t NumSteps(const trace::Trace& trace) {
  size_t steps = 1;
  for (const trace::LayerRouting& layer : trace.layers) steps = std::max(steps, layer.steps.size());
  return steps;
}

// Layer `layer`'s rows of its `step`-th forward step (all of them for a
// layer without steps, as step 0; none past its last step).
trace::LayerRouting StepOf(const trace::LayerRouting& layer, size_t step) {
  trace::LayerRouting out;
  out.layer = layer.layer;
  out.num_topk = layer.num_topk;
  out.num_candidates = layer.num_candidates;
  size_t first = 0, count = layer.num_tokens();
  if (!layer.steps.empty()) {
    if (step >= layer.steps.size()) return out;
    first = layer.steps[step].first;
    count = layer.steps[step].count;
  } else if (step > 0) {
    return out;
  }
  const size_t c = layer.num_candidates;
  out.token_ids.assign(layer.token_ids.begin() + first, layer.token_ids.begin() + first + count);
  out.sequence_ids.assign(layer.sequence_ids.begin() + first,
                          layer.sequence_ids.begin() + first + count);
  out.topk_idx.assign(layer.topk_idx.begin() + first * c,
                      layer.topk_idx.begin() + (first + count) * c);
  if (!layer.topk_weights.empty())
    out.topk_weights.assign(layer.topk_weights.begin() + first * c,
                            layer.topk_weights.begin() + (first + count) * c);
  return out;
}

}  // namespace

Result<Pass> PassFromName(const std::string& name) {
  if (name == "prefill") return Pass::kPrefill;
  if (name == "decode") return Pass::kDecode;
  if (name == "train") return Pass::kTrain;
  return Status::Usage(fmt::format("pass '{}': expected prefill, decode or train", name));
}

Result<proto::Schedule> BuildSchedule(const PlanInputs& in) {
  EPSIM_RETURN_IF_ERROR(CheckCompatible(in));
  if (in.pass != Pass::kDecode && in.context > 0)
    return Status::Usage(fmt::format(
        "--context {} is the KV-cache length of a decode pass; a {} pass has none "
        "(add --pass decode)", in.context, in.pass == Pass::kTrain ? "train" : "prefill"));
  if (in.pass != Pass::kTrain && in.recompute)
    return Status::Usage("--recompute recomputes activations in a train pass's backward "
                         "(add --pass train)");
  const bool decode = in.pass == Pass::kDecode;
  const uint32_t d = in.placements.num_ranks();
  proto::Schedule schedule;
  schedule.set_model(in.model.name());
  schedule.set_strategy(in.strategy.name());
  schedule.set_placement(in.placements.name());
  schedule.set_pass(decode ? "decode" : in.pass == Pass::kTrain ? "train" : "prefill");
  schedule.set_num_ranks(d);
  schedule.set_hidden(in.model.hidden());
  PhaseChain chain(&schedule, d);
  RoutingTotals totals;
  const size_t steps = decode ? NumSteps(in.trace) : 1;
  std::vector<MoeBlock> forward_blocks;  // train: what the backward mirrors
  LayerTraffic dense_traffic;
  for (size_t step = 0; step < steps; ++step) {
    bool first_block = true;
    for (const trace::LayerRouting& whole : in.trace.layers) {
      const trace::LayerRouting sliced = decode ? StepOf(whole, step) : trace::LayerRouting();
      const trace::LayerRouting& layer = decode ? sliced : whole;
      if (layer.num_tokens() == 0) continue;
      EPSIM_ASSIGN_OR_RETURN(dispatch::RouteContext ctx, ContextFor(in, layer.layer));
      LayerTraffic traffic = CountLayer(layer, ctx, in.strategy);
      // Decode: each row is a sequence's new token, its KV cache the
      // context, the steps already replayed and itself.
      if (decode)
        for (uint32_t r = 0; r < d; ++r)
          traffic.sum_context_per_rank[r] =
              static_cast<double>(traffic.tokens_per_rank[r]) *
              static_cast<double>(in.context + step + 1);
      totals.Add(traffic, ctx.placement, uint64_t{in.model.hidden()} * in.model.dispatch_bytes());
      if (first_block) {
        if (step == 0)
          for (uint64_t n : traffic.tokens_per_rank) schedule.add_tokens_per_rank(n);
        for (uint32_t b = 0; b < in.model.num_dense_layers(); ++b)
          AddDenseBlock(in.model, b, traffic, decode, &chain);
        dense_traffic = traffic;
        first_block = false;
      }
      AddMoeBlock(in.model, ctx.placement, in.strategy.hierarchical(), in.overlap, decode,
                  layer.layer, traffic, &chain);
      if (in.pass == Pass::kTrain)
        forward_blocks.push_back({layer.layer, &ctx.placement, in.strategy.hierarchical(), traffic});
    }
  }
  // Training: the backward pass, blocks in reverse, each block's gradient
  // all-reduce under the next one's backward.
  for (auto b = forward_blocks.rbegin(); b != forward_blocks.rend(); ++b)
    AddMoeBackward(in.model, *b, in.recompute, &chain);
  if (in.pass == Pass::kTrain)
    for (uint32_t b = in.model.num_dense_layers(); b-- > 0;)
      AddDenseBackward(in.model, b, dense_traffic, in.recompute, &chain);
  *schedule.mutable_routing() = totals.Summary();
  return schedule;
}

}  // namespace epsim::plan
