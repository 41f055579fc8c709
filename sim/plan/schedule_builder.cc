#include "sim/plan/schedule_builder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "sim/base/parallel.h"
#include "sim/plan/compute_cost.h"
#include "sim/plan/layer_traffic.h"
#include "sim/topology/roofline.h"
#include "sim/topology/topology.h"
#include "sim/topology/topology_paths.h"

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

  // Appends a phase made elsewhere, depending on the tail, as the tail.
  uint32_t Append(proto::Phase phase) {
    phase.set_id(static_cast<uint32_t>(schedule_->phases_size()));
    phase.clear_depends_on();
    if (tail_ >= 0) phase.add_depends_on(static_cast<uint32_t>(tail_));
    *schedule_->add_phases() = std::move(phase);
    tail_ = schedule_->phases_size() - 1;
    return static_cast<uint32_t>(tail_);
  }
  proto::Phase* At(uint32_t id) { return schedule_->mutable_phases(static_cast<int>(id)); }

  size_t size() const { return static_cast<size_t>(schedule_->phases_size()); }
  int tail() const { return tail_; }
  void set_tail(int tail) { tail_ = tail; }
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

// Whether some row of the layer goes through a relay (the intra-node stages
// of hierarchical strategies exist only then; never on a single node).
bool RelaysRows(const LayerTraffic& t) {
  return std::any_of(t.forward_rows.begin(), t.forward_rows.end(),
                     [](uint64_t n) { return n > 0; });
}

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


// Rank r's attention of a forward block: prefill's over the tokens, or
// decode's over their KV caches.
proto::Kernel BlockAttentionKernel(const proto::Model& m, const LayerTraffic& t, uint32_t r,
                                   bool decode) {
  return decode ? DecodeAttentionKernel(m, t.tokens_per_rank[r], t.sum_context_per_rank[r])
                : AttentionKernel(m, t.tokens_per_rank[r], t.sum_context_per_rank[r]);
}

// A forward MoE block as the backward pass and the shortcut plan need it.
struct MoeBlock {
  uint32_t layer = 0;
  const placement::Placement* placement = nullptr;
  bool hierarchical = false;
  LayerTraffic traffic;
};

proto::Phase ComputePhase(uint32_t layer, proto::PhaseKind kind, uint32_t d) {
  proto::Phase p;
  p.set_layer(layer);
  p.set_kind(kind);
  p.set_phase_class(proto::COMPUTE);
  for (uint32_t r = 0; r < d; ++r) p.add_work();
  return p;
}

proto::Phase TransferPhase(uint32_t layer, proto::PhaseKind kind, const std::vector<uint64_t>& rows,
                           uint32_t d, bool transpose, uint64_t row_bytes) {
  proto::Phase p;
  p.set_layer(layer);
  p.set_kind(kind);
  p.set_phase_class(proto::ALL_TO_ALL);
  AddTransfer(rows, d, transpose, row_bytes, &p);
  return p;
}

// One MoE block's phases, made before they are placed in a plan (chained,
// or on explicit streams by the shortcut and micro-batch plans).
struct BlockPhases {
  uint32_t layer = 0;
  proto::Phase attention, gate, shared, expert, reduce;
  bool has_shared = false;
  std::vector<proto::Phase> dispatch, combine;  // dispatch [+ forward]; [gather +] combine
  double t_dispatch = 0, t_combine = 0;
};

BlockPhases MakeBlockPhases(const proto::Model& m, const MoeBlock& b, bool decode) {
  const LayerTraffic& t = b.traffic;
  const uint32_t d = t.num_ranks;
  const bool hierarchical = b.hierarchical && RelaysRows(t);
  const uint64_t dispatch_row = uint64_t{m.hidden()} * m.dispatch_bytes();
  const uint64_t combine_row = uint64_t{m.hidden()} * m.combine_bytes();
  BlockPhases s;
  s.layer = b.layer;
  s.attention = ComputePhase(b.layer, proto::ATTENTION, d);
  s.gate = ComputePhase(b.layer, proto::GATE_PERMUTE, d);
  s.shared = ComputePhase(b.layer, proto::SHARED_EXPERT, d);
  s.expert = ComputePhase(b.layer, proto::EXPERT, d);
  s.reduce = ComputePhase(b.layer, proto::UNPERMUTE_REDUCE, d);
  s.has_shared = m.num_shared_experts() > 0;
  for (uint32_t r = 0; r < d; ++r) {
    *s.attention.mutable_work(r)->add_kernels() = BlockAttentionKernel(m, t, r, decode);
    *s.gate.mutable_work(r)->add_kernels() = GateKernel(m, t.tokens_per_rank[r]);
    *s.gate.mutable_work(r)->add_kernels() = CopyRowsKernel(m, "permute", t.RowsFrom(r));
    if (s.has_shared)
      *s.shared.mutable_work(r)->add_kernels() =
          SwigluKernel(m, "shared_expert", t.tokens_per_rank[r],
                       uint64_t{m.shared_intermediate()} * m.num_shared_experts());
    AddExpertWork(m, *b.placement, t, r, s.expert.mutable_work(r));
    *s.reduce.mutable_work(r)->add_kernels() = ReduceKernel(
        m, "unpermute_reduce", t.combine_inputs_per_rank[r], t.tokens_after[r]);
  }
  s.dispatch.push_back(TransferPhase(b.layer, proto::DISPATCH, t.rows, d, false, dispatch_row));
  if (hierarchical) {
    s.dispatch.push_back(
        TransferPhase(b.layer, proto::DISPATCH_FORWARD, t.forward_rows, d, false, dispatch_row));
    s.combine.push_back(
        TransferPhase(b.layer, proto::COMBINE_GATHER, t.forward_rows, d, true, combine_row));
  }
  s.combine.push_back(
      TransferPhase(b.layer, proto::COMBINE, t.combine_rows, d, false, combine_row));
  return s;
}

void AddMoeBlock(const proto::Model& m, const MoeBlock& block, Overlap overlap, bool decode,
                 PhaseChain* chain) {
  BlockPhases b = MakeBlockPhases(m, block, decode);
  const bool overlap_shared = overlap == Overlap::kSharedExpert && b.has_shared;
  chain->Append(std::move(b.attention));
  if (b.has_shared && !overlap_shared) chain->Append(std::move(b.shared));
  const uint32_t gate_id = chain->Append(std::move(b.gate));
  uint32_t dispatched_id = gate_id;
  for (proto::Phase& p : b.dispatch) dispatched_id = chain->Append(std::move(p));
  if (overlap_shared) {
    // Under the dispatch: depends on the gate's output, not on the dispatch.
    proto::Phase* shared = chain->At(chain->Append(std::move(b.shared)));
    shared->clear_depends_on();
    shared->add_depends_on(gate_id);
  }
  proto::Phase* expert = chain->At(chain->Append(std::move(b.expert)));
  if (overlap_shared) {
    expert->clear_depends_on();
    expert->add_depends_on(dispatched_id);
    expert->add_depends_on(expert->id() - 1);  // the shared expert, on the compute stream
  }
  for (proto::Phase& p : b.combine) chain->Append(std::move(p));
  chain->Append(std::move(b.reduce));
}

// A dense block's two compute phases (its tokens those of the first MoE
// block: every block of a pass sees the same tokens).
struct DensePhases {
  proto::Phase attention, ffn;
};

DensePhases MakeDensePhases(const proto::Model& m, uint32_t layer, const LayerTraffic& traffic,
                            bool decode) {
  const uint32_t d = traffic.num_ranks;
  DensePhases s{ComputePhase(layer, proto::ATTENTION, d), ComputePhase(layer, proto::DENSE_FFN, d)};
  for (uint32_t r = 0; r < d; ++r) {
    *s.attention.mutable_work(r)->add_kernels() = BlockAttentionKernel(m, traffic, r, decode);
    *s.ffn.mutable_work(r)->add_kernels() =
        SwigluKernel(m, "dense_ffn", traffic.tokens_per_rank[r], m.dense_intermediate());
  }
  return s;
}

void AddDenseBlock(const proto::Model& m, uint32_t layer, const LayerTraffic& traffic,
                   bool decode, PhaseChain* chain) {
  DensePhases s = MakeDensePhases(m, layer, traffic, decode);
  chain->Append(std::move(s.attention));
  chain->Append(std::move(s.ffn));
}

// ---- ScMoE's shortcut (Overlap::kShortcut) ----

// Plan-time time estimates for ScMoE's expert placement rule (see the
// header): compute phases by the roofline on their slowest rank, an
// all-to-all as the most any rank sends or receives, each pair's bytes over
// its route's slowest link one pair after another.
class ShortcutEstimates {
 public:
  static Result<ShortcutEstimates> Make(const proto::Topology& topo, uint32_t num_ranks) {
    EPSIM_RETURN_IF_ERROR(topology::ValidateTopology(topo));
    ShortcutEstimates e;
    e.gpu_ = topo.gpu();
    e.d_ = num_ranks;
    const std::vector<std::string> ranks = topology::RankNames(topo);
    if (ranks.size() < num_ranks)
      return Status::Internal("topology has fewer ranks than the plan");
    const topology::RouteTable routes(topo);
    e.bw_.assign(size_t{num_ranks} * num_ranks, 0);
    for (uint32_t a = 0; a < num_ranks; ++a)
      for (uint32_t b = 0; b < num_ranks; ++b) {
        if (a == b) continue;
        double slowest = 0;
        for (const proto::Link* link :
             routes.Route(routes.NodeIndex(ranks[a]), routes.NodeIndex(ranks[b])))
          slowest = slowest == 0 ? link->bw_gb_per_s() : std::min(slowest, link->bw_gb_per_s());
        e.bw_[size_t{a} * num_ranks + b] = slowest * 1e9;
      }
    return e;
  }
  double Compute(const proto::Phase& phase) const {
    double t = 0;
    for (const proto::RankWork& w : phase.work()) t = std::max(t, topology::WorkTimeS(gpu_, w));
    return t;
  }
  double AllToAll(const proto::Phase& phase) const {
    std::vector<double> send(d_, 0), recv(d_, 0);
    for (uint32_t a = 0; a < d_; ++a)
      for (uint32_t b = 0; b < d_; ++b) {
        const double bw = bw_[size_t{a} * d_ + b];
        const auto bytes = static_cast<double>(phase.send_bytes(static_cast<int>(a * d_ + b)));
        if (a == b || bytes == 0 || bw <= 0) continue;
        send[a] += bytes / bw;
        recv[b] += bytes / bw;
      }
    double t = 0;
    for (uint32_t r = 0; r < d_; ++r) t = std::max({t, send[r], recv[r]});
    return t;
  }

 private:
  proto::GpuSpec gpu_;
  uint32_t d_ = 0;
  std::vector<double> bw_;  // bytes/s of the slowest link on each pair's route
};

// Emits phases with explicit streams: a compute phase depends on the
// previous compute phase, an all-to-all on the previous all-to-all and on
// the compute phase that feeds it.
class StreamEmitter {
 public:
  StreamEmitter(proto::Schedule* schedule, int tail) : schedule_(schedule), compute_(tail) {}

  uint32_t Compute(proto::Phase phase, std::initializer_list<int> inputs = {}) {
    return Emit(std::move(phase), compute_, inputs, &compute_);
  }
  uint32_t Comm(proto::Phase phase, int input) {
    // The first all-to-all also waits for the compute before it, as a
    // chained plan would.
    return Emit(std::move(phase), comm_ >= 0 ? comm_ : -1, {input}, &comm_);
  }
  int last_compute() const { return compute_; }

 private:
  uint32_t Emit(proto::Phase phase, int stream_prev, std::initializer_list<int> inputs,
                int* stream_last) {
    const auto id = static_cast<uint32_t>(schedule_->phases_size());
    phase.set_id(id);
    phase.clear_depends_on();
    std::vector<uint32_t> deps;
    if (stream_prev >= 0) deps.push_back(static_cast<uint32_t>(stream_prev));
    for (int i : inputs)
      if (i >= 0) deps.push_back(static_cast<uint32_t>(i));
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    for (uint32_t dep : deps) phase.add_depends_on(dep);
    *schedule_->add_phases() = std::move(phase);
    *stream_last = static_cast<int>(id);
    return id;
  }

  proto::Schedule* schedule_;
  int compute_ = -1, comm_ = -1;
};

// Issues block `b`'s gate and dispatch (after the compute emitted so far);
// returns the last dispatch phase's id.
int IssueDispatch(BlockPhases& b, StreamEmitter* out) {
  int last = static_cast<int>(out->Compute(b.gate));
  for (proto::Phase& p : b.dispatch) last = static_cast<int>(out->Comm(p, last));
  return last;
}

// The MoE blocks of one pass (or decode step) under ScMoE's shortcut, after
// the chain's tail; the chain's tail becomes the last block's reduce. With
// `dense` (the dense block just before the first MoE block, not yet in the
// chain) the first block has a shortcut too: it reads the dense block's
// post-attention representation, so its gate and dispatch follow the dense
// attention and overlap the dense MLP and its own attention.
void AddShortcutBlocks(const proto::Model& m, const std::vector<MoeBlock>& blocks, bool decode,
                       const ShortcutEstimates& est, DensePhases* dense, PhaseChain* chain,
                       proto::Schedule* schedule) {
  if (blocks.empty()) return;
  std::vector<BlockPhases> sb;
  for (const MoeBlock& b : blocks) sb.push_back(MakeBlockPhases(m, b, decode));
  for (BlockPhases& b : sb) {
    for (const proto::Phase& p : b.dispatch) b.t_dispatch += est.AllToAll(p);
    for (const proto::Phase& p : b.combine) b.t_combine += est.AllToAll(p);
  }
  StreamEmitter out(schedule, chain->tail());
  std::vector<int> dispatched(sb.size(), -1);
  double clock = 0;  // estimated compute time emitted so far
  std::vector<double> issued_at(sb.size(), 0);
  for (size_t j = 0; j < sb.size(); ++j) {
    BlockPhases& b = sb[j];
    // Block j's own compute in plan order. The next block's gate and
    // dispatch go right after this block's attention (the shortcut reads its
    // output), so the attention and that gate are one place in the order.
    const bool has_next = j + 1 < sb.size();
    const auto issue_next = [&]() {
      if (!has_next) return;
      dispatched[j + 1] = IssueDispatch(sb[j + 1], &out);
      clock += est.Compute(sb[j + 1].gate);
      issued_at[j + 1] = clock;
    };
    struct Op {
      proto::Phase* phase;
      bool then_next_gate;
    };
    std::vector<Op> ops;
    if (j == 0 && dense != nullptr) {
      // The dense block's attention, then this block's gate and dispatch;
      // the dense MLP and this block's attention go under it.
      out.Compute(dense->attention);
      clock += est.Compute(dense->attention);
      dispatched[0] = IssueDispatch(b, &out);
      clock += est.Compute(b.gate);
      issued_at[0] = clock;
      ops.push_back({&dense->ffn, false});
      ops.push_back({&b.attention, true});
    } else if (j == 0) {
      // The first block has no shortcut: its attention, then its gate.
      out.Compute(b.attention);
      clock += est.Compute(b.attention);
      dispatched[0] = IssueDispatch(b, &out);
      clock += est.Compute(b.gate);
      issued_at[0] = clock;
      issue_next();
    } else {
      ops.push_back({&b.attention, true});
    }
    if (b.has_shared) ops.push_back({&b.shared, false});
    // ScMoE's rule: the place K (before ops[K]) that best balances the
    // compute under the dispatch and under the combine.
    std::vector<double> t(ops.size());
    for (size_t i = 0; i < ops.size(); ++i)
      t[i] = est.Compute(*ops[i].phase) +
             (ops[i].then_next_gate && has_next ? est.Compute(sb[j + 1].gate) : 0);
    const size_t best_k = ShortcutExpertPlace(clock - issued_at[j], t, b.t_dispatch, b.t_combine);
    int combined = -1;
    for (size_t k = 0; k <= ops.size(); ++k) {
      if (k == best_k) {
        const int expert = static_cast<int>(out.Compute(b.expert, {dispatched[j]}));
        clock += est.Compute(b.expert);
        combined = expert;
        for (proto::Phase& p : b.combine) combined = static_cast<int>(out.Comm(p, combined));
      }
      if (k == ops.size()) break;
      out.Compute(*ops[k].phase);
      clock += est.Compute(*ops[k].phase);
      if (ops[k].then_next_gate) issue_next();
    }
    out.Compute(b.reduce, {combined});
    clock += est.Compute(b.reduce);
  }
  chain->set_tail(out.last_compute());
}

// ---- two micro-batches (Overlap::kMicroBatches) ----

// The MoE blocks of one pass (or decode step) as two software-pipelined
// micro-batches (see the header); `halves[j]` are block j's two.
void AddMicroBatchBlocks(const proto::Model& m,
                         const std::vector<std::array<MoeBlock, 2>>& halves, bool decode,
                         PhaseChain* chain, proto::Schedule* schedule) {
  if (halves.empty()) return;
  std::vector<std::array<BlockPhases, 2>> blocks;
  for (const auto& pair : halves) {
    blocks.push_back({MakeBlockPhases(m, pair[0], decode), MakeBlockPhases(m, pair[1], decode)});
    for (uint32_t mb = 0; mb < 2; ++mb) {
      BlockPhases& b = blocks.back()[mb];
      for (proto::Phase* p : {&b.attention, &b.gate, &b.shared, &b.expert, &b.reduce})
        p->set_micro_batch(mb);
      for (auto* list : {&b.dispatch, &b.combine})
        for (proto::Phase& p : *list) p.set_micro_batch(mb);
    }
  }
  StreamEmitter out(schedule, chain->tail());
  std::array<int, 2> combined = {-1, -1};
  for (size_t j = 0; j < blocks.size(); ++j) {
    std::array<int, 2> dispatched = {-1, -1};
    for (uint32_t mb = 0; mb < 2; ++mb) {
      BlockPhases& b = blocks[j][mb];
      if (j > 0) out.Compute(blocks[j - 1][mb].reduce, {combined[mb]});
      out.Compute(b.attention);
      dispatched[mb] = IssueDispatch(b, &out);
    }
    for (uint32_t mb = 0; mb < 2; ++mb) {
      BlockPhases& b = blocks[j][mb];
      if (b.has_shared) out.Compute(b.shared);
      combined[mb] = static_cast<int>(out.Compute(b.expert, {dispatched[mb]}));
      for (proto::Phase& p : b.combine) combined[mb] = static_cast<int>(out.Comm(p, combined[mb]));
    }
  }
  for (uint32_t mb = 0; mb < 2; ++mb) out.Compute(blocks.back()[mb].reduce, {combined[mb]});
  chain->set_tail(out.last_compute());
}

// ---- training's backward pass ----

// `forward`'s kernels as a backward phase's: input and weight gradients at
// twice the cost, after the forward kernels again when recomputing.
void AddBackwardKernels(const proto::RankWork& forward, const char* suffix, bool recompute,
                        proto::RankWork* out) {
  if (recompute)
    for (const proto::Kernel& k : forward.kernels()) *out->add_kernels() = k;
  for (const proto::Kernel& k : forward.kernels())
    *out->add_kernels() = ScaledKernel(k, (k.name() + suffix).c_str(), 2.0);
}

// An all-to-all's [src][dst] matrices transposed: its gradients go the
// other way, the same rows and bytes.
void TransposeTransfers(const proto::Phase& f, uint32_t d, proto::Phase* b) {
  for (uint32_t s = 0; s < d; ++s)
    for (uint32_t t = 0; t < d; ++t) {
      const int i = static_cast<int>(t * d + s);
      b->add_send_bytes(f.send_bytes_size() > i ? f.send_bytes(i) : 0);
      if (f.send_rows_size() > 0) b->add_send_rows(f.send_rows_size() > i ? f.send_rows(i) : 0);
    }
}

// The backward phase of forward phase `f` (no id or dependencies yet):
// compute phases twice their forward's cost (the gate's router GEMM twice,
// its permute and the un-permute reduce once: their transposes move the
// same rows), all-to-alls transposed (combine-shaped ones carry the
// gradients to the experts, dispatch-shaped ones back to the tokens).
proto::Phase BackwardOf(const proto::Phase& f, uint32_t d, bool recompute) {
  proto::Phase b;
  b.set_layer(f.layer());
  b.set_micro_batch(f.micro_batch());
  b.set_phase_class(f.phase_class());
  const auto each_rank = [&](const std::function<void(const proto::RankWork&, proto::RankWork*)>&
                                 make) {
    for (const proto::RankWork& w : f.work()) make(w, b.add_work());
  };
  const auto scaled = [&](const proto::RankWork& w, proto::RankWork* out) {
    AddBackwardKernels(w, "_bwd", recompute, out);
  };
  switch (f.kind()) {
    case proto::ATTENTION: b.set_kind(proto::ATTENTION_BACKWARD); each_rank(scaled); break;
    case proto::SHARED_EXPERT: b.set_kind(proto::SHARED_EXPERT_BACKWARD); each_rank(scaled); break;
    case proto::DENSE_FFN: b.set_kind(proto::DENSE_FFN_BACKWARD); each_rank(scaled); break;
    case proto::EXPERT:
      b.set_kind(proto::EXPERT_BACKWARD);
      each_rank([&](const proto::RankWork& w, proto::RankWork* out) {
        *out->mutable_expert_ids() = w.expert_ids();
        *out->mutable_tokens_per_expert() = w.tokens_per_expert();
        AddBackwardKernels(w, "_bwd", recompute, out);
      });
      break;
    case proto::GATE_PERMUTE:
      b.set_kind(proto::GATE_PERMUTE_BACKWARD);
      each_rank([&](const proto::RankWork& w, proto::RankWork* out) {
        for (const proto::Kernel& k : w.kernels()) {
          if (k.op() == proto::ROUTER) *out->add_kernels() = ScaledKernel(k, "gate_bwd", 2.0);
          if (k.op() == proto::COPY_ROWS) *out->add_kernels() = ScaledKernel(k, "unpermute_grad", 1.0);
        }
      });
      break;
    case proto::UNPERMUTE_REDUCE:
      b.set_kind(proto::UNPERMUTE_REDUCE_BACKWARD);
      each_rank([&](const proto::RankWork& w, proto::RankWork* out) {
        for (const proto::Kernel& k : w.kernels())
          *out->add_kernels() = ScaledKernel(k, "unpermute_reduce_bwd", 1.0);
      });
      break;
    case proto::DISPATCH:
    case proto::DISPATCH_FORWARD:
      b.set_kind(proto::DISPATCH_BACKWARD);
      TransposeTransfers(f, d, &b);
      break;
    case proto::COMBINE:
    case proto::COMBINE_GATHER:
      b.set_kind(proto::COMBINE_BACKWARD);
      TransposeTransfers(f, d, &b);
      break;
    default: b.set_kind(proto::PHASE_UNSPECIFIED); break;
  }
  return b;
}

// Gradient all-reduce of a block's weights replicated on every rank
// (`weights` elements, gradients of activation_bytes each), as one ring:
// each rank sends 2 (n - 1) / n of the gradient bytes to the next rank.
// One phase, so it pays one message latency, not one per ring step.
proto::Phase GradientAllReduce(const proto::Model& m, uint32_t layer, double weights, uint32_t d) {
  proto::Phase p;
  p.set_layer(layer);
  p.set_kind(proto::GRADIENT_ALLREDUCE);
  p.set_phase_class(proto::ALL_TO_ALL);
  p.set_allreduce_bytes(static_cast<uint64_t>(std::llround(weights)) * m.activation_bytes());
  const auto bytes = static_cast<uint64_t>(
      std::llround(2.0 * (d - 1) / d * weights * m.activation_bytes()));
  for (uint32_t s = 0; s < d; ++s)
    for (uint32_t t = 0; t < d; ++t) p.add_send_bytes(t == (s + 1) % d ? bytes : 0);
  return p;
}

// Training's backward: the forward phases [0, forward_end) mirrored, the
// last first. Each forward dependency reverses (a phase's gradient waits
// for the gradients of every phase that read its output, and each stream's
// order reverses with it), so whatever the forward overlapped (the shared
// expert under the dispatch, ScMoE's shortcut, two micro-batches) the
// backward overlaps the same way; a chained forward gives a chained
// backward. Phases nothing read (the pass's end) wait for the forward's
// last phase. After the last attention backward of a block (of both
// micro-batches), the block's gradient all-reduce (attention, router,
// shared experts; attention and FFN in dense blocks), which nothing waits
// for: it runs under the next block's backward.
//
// List order (what an executor issues in turn, schedule.proto): the
// reversed forward order, except that an all-to-all goes as early as its
// dependencies allow, so that an executor walking the list starts it
// before the compute it overlaps.
void AddBackwardPass(const proto::Model& m, uint32_t d, bool recompute, proto::Schedule* schedule) {
  const int forward_end = schedule->phases_size();
  if (forward_end == 0 || d == 0) return;
  std::vector<std::vector<uint32_t>> readers(forward_end);  // forward phase -> who read it
  std::map<uint32_t, int> attentions_left;                  // layer -> forward attentions
  for (int p = 0; p < forward_end; ++p) {
    const proto::Phase& f = schedule->phases(p);
    for (uint32_t dep : f.depends_on()) readers[dep].push_back(static_cast<uint32_t>(p));
    if (f.kind() == proto::ATTENTION) ++attentions_left[f.layer()];
  }
  // The backward phases in reversed forward order; their dependencies
  // index this list (forward phases are not needed: only the last one).
  std::vector<proto::Phase> bw;
  std::vector<std::vector<size_t>> deps;
  std::vector<bool> after_forward;  // depends on the forward's last phase
  std::vector<size_t> backward_of(forward_end, 0);
  std::map<uint32_t, std::vector<size_t>> attention_bwd;  // layer -> its attention backwards
  const double h = m.hidden();
  for (int p = forward_end - 1; p >= 0; --p) {
    bw.push_back(BackwardOf(schedule->phases(p), d, recompute));
    deps.emplace_back();
    for (uint32_t r : readers[p]) deps.back().push_back(backward_of[r]);
    after_forward.push_back(readers[p].empty());
    backward_of[p] = bw.size() - 1;
    if (bw.back().kind() != proto::ATTENTION_BACKWARD) continue;
    const uint32_t layer = bw.back().layer();
    attention_bwd[layer].push_back(bw.size() - 1);
    if (--attentions_left[layer] > 0 || d < 2) continue;
    const double weights =
        layer < m.num_dense_layers()
            ? AttentionWeights(m) + 3.0 * h * m.dense_intermediate()
            : AttentionWeights(m) + h * m.num_experts() +
                  3.0 * h * m.shared_intermediate() * m.num_shared_experts();
    if (weights <= 0) continue;
    bw.push_back(GradientAllReduce(m, layer, weights, d));
    deps.push_back(attention_bwd[layer]);
    after_forward.push_back(false);
  }
  // Kahn's order: among the phases whose dependencies are placed, an
  // all-to-all first, else the earliest in reversed forward order.
  const size_t n = bw.size();
  std::vector<size_t> waiting(n, 0);
  std::vector<std::vector<size_t>> users(n);
  for (size_t i = 0; i < n; ++i) {
    waiting[i] = deps[i].size();
    for (size_t dep : deps[i]) users[dep].push_back(i);
  }
  std::set<size_t> ready_comm, ready_compute;
  const auto make_ready = [&](size_t i) {
    (bw[i].phase_class() == proto::ALL_TO_ALL ? ready_comm : ready_compute).insert(i);
  };
  for (size_t i = 0; i < n; ++i)
    if (waiting[i] == 0) make_ready(i);
  std::vector<uint32_t> final_id(n, 0);
  std::vector<size_t> order;
  while (!ready_comm.empty() || !ready_compute.empty()) {
    std::set<size_t>& from = ready_comm.empty() ? ready_compute : ready_comm;
    const size_t i = *from.begin();
    from.erase(from.begin());
    final_id[i] = static_cast<uint32_t>(forward_end + order.size());
    order.push_back(i);
    for (size_t u : users[i])
      if (--waiting[u] == 0) make_ready(u);
  }
  for (size_t i : order) {
    proto::Phase& p = bw[i];
    p.set_id(final_id[i]);
    std::vector<uint32_t> ids;
    for (size_t dep : deps[i]) ids.push_back(final_id[dep]);
    if (after_forward[i]) ids.push_back(static_cast<uint32_t>(forward_end - 1));
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (uint32_t dep : ids) p.add_depends_on(dep);
    *schedule->add_phases() = std::move(p);
  }
}

// Sums LayerTraffic over layers into the schedule's RoutingSummary.
class RoutingTotals {
 public:
  void Add(const LayerTraffic& t, const placement::Placement& p, uint64_t row_bytes) {
    tokens_ += t.num_tokens;
    devices_ += t.sum_devices;
    nodes_ += t.sum_nodes;
    rows_ += t.RemoteRows();
    for (uint32_t i = 0; i < t.num_ranks; ++i)
      for (uint32_t j = 0; j < t.num_ranks; ++j)
        if (i != j)
          combine_rows_ += t.combine_rows[size_t{i} * t.num_ranks + j] +
                           t.forward_rows[size_t{i} * t.num_ranks + j];
    condensed_ += t.condensed_pairs;
    migrated_ += t.migrated_tokens;
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
    s.set_combine_rows_per_token(combine_rows_ / n);
    s.set_condensed_pairs(picks_ > 0 ? static_cast<double>(condensed_) / picks_ : 0);
    s.set_migrated_tokens(static_cast<double>(migrated_) / n);
    return s;
  }

 private:
  uint64_t tokens_ = 0, devices_ = 0, nodes_ = 0, rows_ = 0, picks_ = 0, changed_ = 0;
  uint64_t condensed_ = 0, migrated_ = 0;
  double combine_rows_ = 0;
  uint32_t layers_ = 0;
  double bytes_ = 0, weight_total_ = 0, weight_kept_ = 0, imbalance_sum_ = 0;
};

}  // namespace

size_t ShortcutExpertPlace(double window_before, const std::vector<double>& compute,
                           double t_dispatch, double t_combine) {
  size_t best_k = 0;
  double best = 0;
  for (size_t k = 0; k <= compute.size(); ++k) {
    double before = window_before, after = 0;
    for (size_t i = 0; i < compute.size(); ++i) (i < k ? before : after) += compute[i];
    const double cost = std::abs(before - t_dispatch) + std::abs(after - t_combine);
    if (k == 0 || cost < best) {
      best = cost;
      best_k = k;
    }
  }
  return best_k;
}

Result<Overlap> OverlapFromName(const std::string& name) {
  if (name == "none") return Overlap::kNone;
  if (name == "shared-expert") return Overlap::kSharedExpert;
  if (name == "scmoe") return Overlap::kShortcut;
  if (name == "micro-batches") return Overlap::kMicroBatches;
  return Status::Usage(fmt::format(
      "overlap '{}': expected none, shared-expert, scmoe or micro-batches", name));
}

const char* OverlapName(Overlap overlap) {
  switch (overlap) {
    case Overlap::kSharedExpert: return "shared-expert";
    case Overlap::kShortcut: return "scmoe";
    case Overlap::kMicroBatches: return "micro-batches";
    case Overlap::kNone: break;
  }
  return "none";
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
  if (in.counted != nullptr && in.counted->size() != in.trace.layers.size())
    return Status::Internal("counted layers do not match the trace's layers");
  for (size_t i = 0; i < in.trace.layers.size(); ++i) {
    const trace::LayerRouting& layer = in.trace.layers[i];
    if (layer.layer >= model.num_layers() || layer.layer < model.num_dense_layers())
      return Status::BadInput(fmt::format(
          "trace layer {} is not an MoE layer of model {} (MoE blocks are {}..{})", layer.layer,
          model.name(), model.num_dense_layers(), model.num_layers() - 1));
    if ((in.counted != nullptr ? (*in.counted)[i].num_tokens : layer.num_tokens()) == 0)
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

// Rows [first, first + count) of `layer`.
trace::LayerRouting SliceOf(const trace::LayerRouting& layer, size_t first, size_t count) {
  trace::LayerRouting out;
  out.layer = layer.layer;
  out.num_topk = layer.num_topk;
  out.num_candidates = layer.num_candidates;
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

// Micro-batch `mb` (0 or 1) of a block: the first or second half of its
// rows in trace order.
trace::LayerRouting HalfOf(const trace::LayerRouting& layer, uint32_t mb) {
  const size_t half = layer.num_tokens() / 2;
  return SliceOf(layer, mb == 0 ? 0 : half, mb == 0 ? half : layer.num_tokens() - half);
}

// Layer `layer`'s rows of its `step`-th forward step (all of them for a
// layer without steps, as step 0; none past its last step).
trace::LayerRouting StepOf(const trace::LayerRouting& layer, size_t step) {
  if (!layer.steps.empty()) {
    if (step >= layer.steps.size()) return SliceOf(layer, 0, 0);
    return SliceOf(layer, layer.steps[step].first, layer.steps[step].count);
  }
  return SliceOf(layer, 0, step > 0 ? 0 : layer.num_tokens());
}

}  // namespace

std::vector<BlockSlice> BlockSlices(const trace::Trace& trace, Pass pass, Overlap overlap) {
  std::vector<BlockSlice> out;
  const bool decode = pass == Pass::kDecode;
  const size_t steps = decode ? NumSteps(trace) : 1;
  for (size_t step = 0; step < steps; ++step)
    for (const trace::LayerRouting& whole : trace.layers) {
      trace::LayerRouting layer = decode ? StepOf(whole, step) : whole;
      if (layer.num_tokens() == 0) continue;
      if (overlap != Overlap::kMicroBatches) {
        out.push_back({static_cast<uint32_t>(step), 0, std::move(layer)});
        continue;
      }
      for (uint32_t mb = 0; mb < 2; ++mb)
        out.push_back({static_cast<uint32_t>(step), mb, HalfOf(layer, mb)});
    }
  return out;
}

Result<CountedLayer> CountForPlan(const trace::LayerRouting& layer, const PlanInputs& in) {
  EPSIM_ASSIGN_OR_RETURN(dispatch::RouteContext ctx, ContextFor(in, layer.layer));
  CountedLayer out;
  out.layer = layer.layer;
  out.num_tokens = layer.num_tokens();
  out.whole = CountLayer(layer, ctx, in.strategy);
  if (in.overlap == Overlap::kMicroBatches && layer.num_tokens() >= 2)
    for (uint32_t mb = 0; mb < 2; ++mb)
      out.halves.push_back(CountLayer(HalfOf(layer, mb), ctx, in.strategy));
  return out;
}

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
  const bool shortcut = in.overlap == Overlap::kShortcut;
  const bool micro = in.overlap == Overlap::kMicroBatches;
  if (in.strategy.luffy() != nullptr) {
    // Migration moves a sequence's hidden states, not its KV cache, and a
    // micro-batch or a shortcut block would split what it moves.
    if (decode)
      return Status::Usage(fmt::format(
          "{}: Luffy migrates sequences between prefill or training layers; a decode step would "
          "move their KV caches, which it does not model (use --pass prefill or train)",
          in.strategy.name()));
    if (in.overlap == Overlap::kShortcut || micro)
      return Status::Usage(fmt::format("{} with --overlap {} is not built (Luffy's migration "
                                       "decides each combine's destination layer by layer)",
                                       in.strategy.name(), OverlapName(in.overlap)));
  }
  SequenceHomes homes{{}, in.model.hidden(), in.model.num_shared_experts() > 0};
  std::optional<ShortcutEstimates> estimates;
  if (shortcut) {
    if (in.topology == nullptr)
      return Status::Internal("--overlap scmoe needs the topology for its time estimates");
    EPSIM_ASSIGN_OR_RETURN(ShortcutEstimates e, ShortcutEstimates::Make(*in.topology, d));
    estimates = std::move(e);
  }
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
  // Layers route independently unless sequences migrate (Luffy carries
  // where they live from one layer to the next): count them on the cores,
  // then build the chain in layer order as before.
  // Streamed counts (PlanInputs::counted) are the same counts, made while
  // the trace was read.
  std::vector<std::optional<Result<CountedLayer>>> counted;
  if (in.counted != nullptr) {
    if (decode || in.strategy.luffy() != nullptr)
      return Status::Internal("counted layers are for prefill or train passes without Luffy");
    counted.resize(in.counted->size());
    for (size_t i = 0; i < counted.size(); ++i) counted[i].emplace(std::move((*in.counted)[i]));
  } else if (!decode && in.strategy.luffy() == nullptr) {
    counted.resize(in.trace.layers.size());
    ParallelFor(in.trace.layers.size(), [&](size_t i) {
      const trace::LayerRouting& layer = in.trace.layers[i];
      if (layer.num_tokens() == 0) return;
      counted[i].emplace(CountForPlan(layer, in));
    });
  }
  for (size_t step = 0; step < steps; ++step) {
    const int step_start = schedule.phases_size();
    bool first_block = true;
    std::vector<MoeBlock> shortcut_blocks;  // this step's, under ScMoE's shortcut
    std::optional<DensePhases> shortcut_dense;  // and the dense block before them
    std::vector<std::array<MoeBlock, 2>> micro_blocks;  // this step's, two micro-batches each
    for (size_t li = 0; li < in.trace.layers.size(); ++li) {
      const trace::LayerRouting& whole = in.trace.layers[li];
      const trace::LayerRouting sliced = decode ? StepOf(whole, step) : trace::LayerRouting();
      const trace::LayerRouting& layer = decode ? sliced : whole;
      const uint64_t num_tokens =
          in.counted != nullptr ? (*counted[li])->num_tokens : layer.num_tokens();
      if (num_tokens == 0) continue;
      EPSIM_ASSIGN_OR_RETURN(dispatch::RouteContext ctx, ContextFor(in, layer.layer));
      LayerTraffic traffic;
      std::vector<LayerTraffic> halves;
      if (!counted.empty()) {
        EPSIM_ASSIGN_OR_RETURN(CountedLayer c, std::move(*counted[li]));
        counted[li].reset();  // free it once the block holds its own copy
        traffic = std::move(c.whole);
        halves = std::move(c.halves);
      } else {
        traffic = CountLayer(layer, ctx, in.strategy, &homes);
      }
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
        // Under the shortcut the last dense block feeds the first MoE
        // block's dispatch: AddShortcutBlocks places it.
        const uint32_t dense = in.model.num_dense_layers();
        const uint32_t chained = shortcut && dense > 0 ? dense - 1 : dense;
        for (uint32_t b = 0; b < chained; ++b) AddDenseBlock(in.model, b, traffic, decode, &chain);
        if (chained < dense) shortcut_dense = MakeDensePhases(in.model, dense - 1, traffic, decode);
        first_block = false;
      }
      if (shortcut) {
        shortcut_blocks.push_back({layer.layer, &ctx.placement, in.strategy.hierarchical(), traffic});
        continue;
      }
      if (micro) {
        if (num_tokens < 2)
          return Status::BadInput(fmt::format(
              "--overlap micro-batches: layer {}{} has {} token, too few for two micro-batches",
              layer.layer, decode ? fmt::format(" step {}", step) : "", num_tokens));
        std::array<MoeBlock, 2> pair;
        for (uint32_t mb = 0; mb < 2; ++mb) {
          LayerTraffic t = halves.size() == 2 ? std::move(halves[mb])
                                              : CountLayer(HalfOf(layer, mb), ctx, in.strategy);
          if (decode)
            for (uint32_t r = 0; r < d; ++r)
              t.sum_context_per_rank[r] = static_cast<double>(t.tokens_per_rank[r]) *
                                          static_cast<double>(in.context + step + 1);
          pair[mb] = {layer.layer, &ctx.placement, in.strategy.hierarchical(), std::move(t)};
        }
        micro_blocks.push_back(std::move(pair));
        continue;
      }
      MoeBlock block{layer.layer, &ctx.placement, in.strategy.hierarchical(), std::move(traffic)};
      AddMoeBlock(in.model, block, in.overlap, decode, &chain);
    }
    if (shortcut)
      AddShortcutBlocks(in.model, shortcut_blocks, decode, *estimates,
                        shortcut_dense ? &*shortcut_dense : nullptr, &chain, &schedule);
    if (micro) AddMicroBatchBlocks(in.model, micro_blocks, decode, &chain, &schedule);
    for (int p = step_start; p < schedule.phases_size(); ++p)
      schedule.mutable_phases(p)->set_step(static_cast<uint32_t>(step));
  }
  // Training: the backward pass, the forward mirrored.
  if (in.pass == Pass::kTrain) AddBackwardPass(in.model, d, in.recompute, &schedule);
  *schedule.mutable_routing() = totals.Summary();
  return schedule;
}

}  // namespace epsim::plan
