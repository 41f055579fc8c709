#include "hw/common/runner.h"

#include <csignal>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "hw/common/data.h"
#include "hw/common/verify.h"
#include "sim/exec/schedule_check.h"

namespace epsim::hw {
namespace {

enum ReduceWhich {
  kCombinePack, kGatherPack, kRelayOwn, kRelayReduce, kUnpermute,
  // Training's backward (layout.h).
  kUnpermuteT, kRelayT, kReturnsT, kArrivalsForwardedT, kArrivalsT, kPermuteT, kNumReduces
};

const ReduceSpec& SpecOf(const LayerLayout& l, int which) {
  switch (which) {
    case kCombinePack: return l.combine_pack;
    case kGatherPack: return l.gather_pack;
    case kRelayOwn: return l.relay_own;
    case kRelayReduce: return l.relay_reduce;
    case kUnpermuteT: return l.unpermute_t;
    case kRelayT: return l.relay_t;
    case kReturnsT: return l.returns_t;
    case kArrivalsForwardedT: return l.arrivals_forwarded_t;
    case kArrivalsT: return l.arrivals_t;
    case kPermuteT: return l.permute_t;
    default: return l.unpermute;
  }
}

Result<DType> WireType(uint32_t bytes, const char* what) {
  if (bytes == 2) return DType::kBF16;
  if (bytes == 4) return DType::kF32;
  return Status::BadInput(fmt::format("model's {} is {} bytes per element; epsim-hw moves BF16 "
                                      "(2) or FP32 (4) rows (FP8 is not supported yet)",
                                      what, bytes));
}

// Stand-in GEMM shape [m x k] x [k x n] of a compute kernel the harness
// does not model; n = 0 for kernels run for real.
struct GemmShape {
  size_t m = 0, n = 0, k = 0;
};

GemmShape StandInShape(const proto::Kernel& k) {
  if (k.rows() == 0 || k.hidden() == 0) return {};
  if (k.op() == proto::ROUTER) {
    // The router GEMM's inner dimension scaled by the kernel's FLOPs over
    // the forward's (2 rows hidden experts): 2x in the backward.
    const double times = std::round(k.flops() / (2.0 * k.rows() * k.hidden() * k.width()));
    return {k.rows(), k.width(), k.hidden() * static_cast<size_t>(std::max(1.0, times))};
  }
  if (k.op() == proto::ATTENTION_BLOCK) {
    const double n = std::ceil(k.flops() / (2.0 * k.rows() * k.hidden()));
    return {k.rows(), static_cast<size_t>(std::max(1.0, n)), k.hidden()};
  }
  return {};
}

}  // namespace

struct Runner::Buffers {
  Buffer out, dispatch_send, arrivals, forward_send, expert_in, ycat, scratch;
  Buffer standin_x;            // input of stand-in FFNs (values unused)
  std::vector<Buffer> x;       // [layout] hidden states of this rank's tokens
  Buffer combine_send, gather_send, gather_pool, combine_recv;
  // The buffers one layer's all-to-alls and reduce use while in flight.
  // Plans whose layers interleave (ScMoE's shortcut issues block j+1's
  // dispatch before block j's combine) have two sets, layer by layer in
  // turn, so that the next layer's all-to-all never writes what this layer
  // still reads; `Use` points the named buffers above at one set.
  struct CommSet {
    Buffer out, dispatch_send, arrivals, forward_send, combine_send, gather_send, gather_pool,
        combine_recv;
  };
  std::vector<CommSet> sets;
  void Use(size_t layer) {
    if (sets.size() < 2) return;
    const CommSet& c = sets[layer % sets.size()];
    out = c.out;
    dispatch_send = c.dispatch_send;
    arrivals = c.arrivals;
    forward_send = c.forward_send;
    combine_send = c.combine_send;
    gather_send = c.gather_send;
    gather_pool = c.gather_pool;
    combine_recv = c.combine_recv;
  }
  Buffer gemm_a, gemm_b, gemm_c, standin_y;
  // Train passes: what the backward reads of each layer's forward (its
  // arrival rows and its experts' SwiGLU activations, kept as frameworks
  // keep activations), the seeded output gradients, and the backward's
  // own buffers (layout.h names them), sized for the largest layer.
  std::vector<Buffer> saved_arrivals, saved_act, dout;  // [layout]
  Buffer grad, identity, standin_saved, allreduce;
  // The gradient buffers one layer's backward uses while its exchanges are
  // in flight (`g`, the set in use); two sets, layer by layer in turn, when
  // layers interleave (the backward of ScMoE's shortcut mirrors the
  // forward's interleaving).
  struct GradSet {
    Buffer dcombine_recv, dcat, dycat, dxext, darrivals, dforward, dsend, dx;
  };
  std::vector<GradSet> grad_sets;
  GradSet g;
  void UseGrad(size_t layer) {
    if (!grad_sets.empty()) g = grad_sets[layer % grad_sets.size()];
  }
  std::map<uint32_t, Buffer> ffn;  // expert id or kSharedFfnId/kDenseFfnId -> weights
  struct Layer {
    Buffer permute, forward_src;
    std::vector<Buffer> expert_rows;
    Buffer reduce[kNumReduces];
  };
  std::vector<Layer> layers;
  std::vector<Marks> timed_marks;  // per timed pass
};

Runner::Runner(const proto::Plan& plan, Backend* backend, RunOptions options)
    : plan_(plan), backend_(backend), options_(options) {}

Runner::~Runner() = default;

double Runner::Deadline() const { return Backend::NowS() + options_.timeout_s; }

std::string Runner::PhaseLabel(const proto::Phase& phase, uint32_t index) const {
  return fmt::format("phase {} ({} layer {})", index, proto::PhaseKind_Name(phase.kind()),
                     phase.layer());
}

int Runner::LayoutOf(const proto::Phase& phase) const {
  const auto it = layout_of_.find({phase.step(), phase.layer(), phase.micro_batch()});
  return it == layout_of_.end() ? -1 : it->second;
}

Status Runner::Setup() {
  const proto::Schedule& s = plan_.schedule();
  rank_ = backend_->rank();
  d_ = s.num_ranks();
  hidden_ = s.hidden();
  if (d_ != backend_->num_ranks())
    return Status::BadInput(fmt::format("the plan is for {} ranks but {} were launched (mpirun "
                                        "-np {} for this plan)",
                                        d_, backend_->num_ranks(), d_));
  train_ = s.pass() == "train";
  EPSIM_ASSIGN_OR_RETURN(wire_dispatch_, WireType(plan_.model().dispatch_bytes(), "dispatch_bytes"));
  EPSIM_ASSIGN_OR_RETURN(wire_combine_, WireType(plan_.model().combine_bytes(), "combine_bytes"));
  EPSIM_ASSIGN_OR_RETURN(layouts_, BuildLayouts(plan_, rank_));
  for (int i = 0; i < plan_.layers_size(); ++i) {
    const proto::LayerRoutes& l = plan_.layers(i);
    layout_of_[{l.step(), l.layer(), l.micro_batch()}] = i;
  }
  two_streams_ = exec::HasOverlap(s);
  pending_.assign(s.phases_size(), -1);
  EPSIM_RETURN_IF_ERROR(AssignRoles());
  buf_ = std::make_unique<Buffers>();
  EPSIM_RETURN_IF_ERROR(AllocateBuffers());
  EPSIM_RETURN_IF_ERROR(UploadInputsAndWeights());
  return UploadLayouts();
}

// Which step of its layer's backward each backward all-to-all is: the
// plan emits a hierarchical layer's two combine-shaped gradient exchanges
// as combine then gather mirror, and its two dispatch-shaped ones as
// forward then dispatch mirror (schedule_builder.cc); other layers have one
// of each. Backward phases outside a train pass are refused.
Status Runner::AssignRoles() {
  const proto::Schedule& s = plan_.schedule();
  role_.assign(s.phases_size(), Role::kNone);
  std::map<std::pair<int, int>, int> seen;  // (layout, kind) -> count so far
  for (int p = 0; p < s.phases_size(); ++p) {
    const proto::Phase& phase = s.phases(p);
    const proto::PhaseKind kind = phase.kind();
    const bool backward = kind >= proto::ATTENTION_BACKWARD && kind <= proto::GRADIENT_ALLREDUCE;
    if (backward && !train_)
      return Status::BadInput(fmt::format("{}: a backward phase in a {} pass; the plan is "
                                          "inconsistent", PhaseLabel(phase, p), s.pass()));
    if (kind != proto::COMBINE_BACKWARD && kind != proto::DISPATCH_BACKWARD) continue;
    const int li = LayoutOf(phase);
    if (li < 0)
      return Status::BadInput(fmt::format("{}: no routes for this layer", PhaseLabel(phase, p)));
    const int n = seen[{li, kind}]++;
    const bool hier = layouts_[li].hierarchical;
    if (n > (hier ? 1 : 0))
      return Status::BadInput(fmt::format("{}: more gradient exchanges of this kind than the "
                                          "layer's forward has; the plan is inconsistent",
                                          PhaseLabel(phase, p)));
    if (kind == proto::COMBINE_BACKWARD)
      role_[p] = n == 0 ? Role::kCombineMirror : Role::kGatherMirror;
    else
      role_[p] = hier && n == 0 ? Role::kForwardMirror : Role::kDispatchMirror;
  }
  return Status::Ok();
}

Status Runner::Alloc(Buffer* out, size_t bytes) {
  EPSIM_ASSIGN_OR_RETURN(*out, backend_->Alloc(std::max<size_t>(bytes, 64)));
  return Status::Ok();
}

// Row buffers sized for the largest layer; stand-in operands for the
// largest compute kernel of this rank.
Status Runner::AllocateBuffers() {
  Buffers& b = *buf_;
  const size_t h = hidden_, f32 = 4;
  const size_t wd = DTypeBytes(wire_dispatch_), wc = DTypeBytes(wire_combine_);
  uint64_t tokens = 0, disp_send = 0, arrivals = 0, fwd_send = 0, expert_rows = 0, ycat = 0;
  uint64_t comb_send = 0, gather_send = 0, pool = 0;
  for (const LayerLayout& l : layouts_) {
    tokens = std::max(tokens, l.num_tokens);
    disp_send = std::max(disp_send, l.dispatch.SendTotal());
    arrivals = std::max(arrivals, l.arrival_rows);
    fwd_send = std::max(fwd_send, l.forward.SendTotal());
    expert_rows = std::max(expert_rows, l.max_expert_rows);
    ycat = std::max(ycat, l.ycat_rows);
    comb_send = std::max(comb_send, l.combine.SendTotal());
    gather_send = std::max(gather_send, l.gather.SendTotal());
    pool = std::max(pool, l.gather_pool_rows);
  }
  const size_t moe_width = plan_.model().moe_intermediate();
  size_t ga = 1, gb = 1, gc = 1, ffn_scratch = 3 * expert_rows * moe_width;
  size_t grad = train_ ? 3 * size_t{hidden_} * moe_width : 0, standin_saved = 0;
  for (const proto::Phase& p : plan_.schedule().phases()) {
    if (exec::IsAllToAll(p) || p.work_size() <= static_cast<int>(rank_)) continue;
    for (const proto::Kernel& k : p.work(rank_).kernels()) {
      const GemmShape g = StandInShape(k);
      ga = std::max(ga, g.m * g.k);
      gb = std::max(gb, g.k * g.n);
      gc = std::max(gc, g.m * g.n);
      if (k.op() == proto::SWIGLU_FFN && !k.has_expert()) {
        ffn_scratch = std::max<size_t>(ffn_scratch, 3 * k.rows() * k.width());
        if (train_) {
          standin_saved = std::max<size_t>(standin_saved, 2 * k.rows() * k.width());
          grad = std::max<size_t>(grad, 3 * size_t{hidden_} * k.width());
        }
      }
    }
  }
  const size_t cd = DTypeBytes(backend_->compute_dtype());
  const std::pair<Buffer*, size_t> sizes[] = {
      {&b.standin_x, tokens * h * f32}, {&b.out, tokens * h * f32},
      {&b.standin_y, tokens * h * f32}, {&b.dispatch_send, disp_send * h * wd},
      {&b.arrivals, arrivals * h * wd}, {&b.forward_send, fwd_send * h * wd},
      {&b.expert_in, expert_rows * h * f32}, {&b.ycat, ycat * h * f32},
      {&b.scratch, ffn_scratch * f32},  {&b.combine_send, comb_send * h * wc},
      {&b.gather_send, gather_send * h * wc}, {&b.gather_pool, pool * h * wc},
      {&b.combine_recv, disp_send * h * wc},  {&b.gemm_a, ga * cd},
      {&b.gemm_b, gb * cd},             {&b.gemm_c, gc * cd}};
  for (const auto& [buffer, bytes] : sizes) EPSIM_RETURN_IF_ERROR(Alloc(buffer, bytes));
  if (train_) EPSIM_RETURN_IF_ERROR(AllocateTrainBuffers(grad, standin_saved));
  if (exec::LayersInterleave(plan_.schedule())) {
    const auto set_of = [&]() {
      return Buffers::CommSet{b.out, b.dispatch_send, b.arrivals, b.forward_send,
                              b.combine_send, b.gather_send, b.gather_pool, b.combine_recv};
    };
    b.sets.push_back(set_of());
    const std::pair<Buffer*, size_t> second[] = {
        {&b.out, tokens * h * f32},           {&b.dispatch_send, disp_send * h * wd},
        {&b.arrivals, arrivals * h * wd},     {&b.forward_send, fwd_send * h * wd},
        {&b.combine_send, comb_send * h * wc}, {&b.gather_send, gather_send * h * wc},
        {&b.gather_pool, pool * h * wc},      {&b.combine_recv, disp_send * h * wc}};
    for (const auto& [buffer, bytes] : second) EPSIM_RETURN_IF_ERROR(Alloc(buffer, bytes));
    b.sets.push_back(set_of());
    b.Use(0);
  }
  return Status::Ok();
}

// The backward's buffers (train passes): per layer what it keeps of the
// forward, then one set of gradient buffers for the largest layer.
Status Runner::AllocateTrainBuffers(size_t grad_values, size_t standin_saved) {
  Buffers& b = *buf_;
  const size_t h = hidden_, f32 = 4, w = plan_.model().moe_intermediate();
  const size_t wd = DTypeBytes(wire_dispatch_), wc = DTypeBytes(wire_combine_);
  uint64_t tokens = 0, comb_recv = 0, dcat = 0, ycat = 0, fwd_send = 0, arrivals = 0, send = 0;
  for (const LayerLayout& l : layouts_) {
    b.saved_arrivals.emplace_back();
    EPSIM_RETURN_IF_ERROR(Alloc(&b.saved_arrivals.back(), l.arrival_rows * h * wd));
    // SwigluFfn's scratch of expert e starts at 2 w (its first ycat row) and
    // takes 3 w per row: the last one reaches w max_expert_rows past 2 w ycat.
    b.saved_act.emplace_back();
    EPSIM_RETURN_IF_ERROR(
        Alloc(&b.saved_act.back(), (2 * l.ycat_rows + l.max_expert_rows) * w * f32));
    tokens = std::max(tokens, l.num_tokens);
    comb_recv = std::max(comb_recv, l.combine.RecvTotal());
    dcat = std::max(dcat, l.dcat_rows);
    ycat = std::max(ycat, l.ycat_rows);
    fwd_send = std::max(fwd_send, l.forward.SendTotal());
    arrivals = std::max(arrivals, l.arrival_rows);
    send = std::max(send, l.dispatch.SendTotal());
  }
  uint64_t allreduce = 0;
  for (const proto::Phase& p : plan_.schedule().phases())
    if (p.kind() == proto::GRADIENT_ALLREDUCE) allreduce = std::max(allreduce, p.allreduce_bytes());
  const std::pair<Buffer*, size_t> shared[] = {{&b.grad, grad_values * f32},
                                               {&b.standin_saved, standin_saved * f32},
                                               {&b.allreduce, allreduce}};
  for (const auto& [buffer, bytes] : shared) EPSIM_RETURN_IF_ERROR(Alloc(buffer, bytes));
  const int sets = exec::LayersInterleave(plan_.schedule()) ? 2 : 1;
  for (int set = 0; set < sets; ++set) {
    Buffers::GradSet g;
    const std::pair<Buffer*, size_t> sizes[] = {
        {&g.dcombine_recv, comb_recv * h * wc}, {&g.dcat, dcat * h * wc},
        {&g.dycat, ycat * h * f32},             {&g.dxext, (ycat + fwd_send) * h * f32},
        {&g.darrivals, arrivals * h * wd},      {&g.dforward, fwd_send * h * wd},
        {&g.dsend, send * h * wd},              {&g.dx, tokens * h * f32}};
    for (const auto& [buffer, bytes] : sizes) EPSIM_RETURN_IF_ERROR(Alloc(buffer, bytes));
    b.grad_sets.push_back(g);
  }
  b.UseGrad(0);
  std::vector<uint32_t> identity(fwd_send);
  std::iota(identity.begin(), identity.end(), 0u);
  EPSIM_ASSIGN_OR_RETURN(b.identity, backend_->UploadIndex(identity));
  return Status::Ok();
}

// This rank's tokens of each layer (one buffer per distinct block: layers
// of equal token counts share it), the weights of every expert it computes
// and of the stand-in FFNs.
Status Runner::UploadInputsAndWeights() {
  Buffers& b = *buf_;
  const SeededData data(options_.seed);
  // One buffer per distinct block of tokens (layouts of equal blocks
  // share it), each token's row made by `row`.
  const auto upload_rows = [&](void (SeededData::*row)(uint64_t, uint32_t, float*) const,
                               std::vector<Buffer>* out) -> Status {
    std::map<std::pair<uint64_t, uint64_t>, Buffer> blocks;  // (first, count) -> rows
    for (const LayerLayout& l : layouts_) {
      auto [it, fresh] = blocks.try_emplace({l.first_token, l.num_tokens});
      if (fresh) {
        std::vector<float> x(l.num_tokens * hidden_);
        for (uint64_t t = 0; t < l.num_tokens; ++t)
          (data.*row)(l.first_token + t, hidden_, &x[t * hidden_]);
        EPSIM_RETURN_IF_ERROR(Alloc(&it->second, x.size() * 4));
        EPSIM_RETURN_IF_ERROR(backend_->Upload(it->second, x.data(), x.size() * 4));
      }
      out->push_back(it->second);
    }
    return Status::Ok();
  };
  EPSIM_RETURN_IF_ERROR(upload_rows(&SeededData::TokenRow, &b.x));
  // Train passes: the seeded output gradients the backward starts from.
  if (train_) EPSIM_RETURN_IF_ERROR(upload_rows(&SeededData::GradRow, &b.dout));
  auto upload_ffn = [&](uint32_t id, uint32_t width) -> Status {
    if (b.ffn.count(id)) return Status::Ok();
    const FfnWeights w = data.Ffn(id, hidden_, width);
    EPSIM_ASSIGN_OR_RETURN(b.ffn[id], backend_->UploadFfn(w.gate, w.up, w.down, hidden_, width));
    return Status::Ok();
  };
  for (const LayerLayout& l : layouts_)
    for (const LayerLayout::Expert& e : l.experts)
      EPSIM_RETURN_IF_ERROR(upload_ffn(e.expert, plan_.model().moe_intermediate()));
  for (const proto::Phase& p : plan_.schedule().phases()) {
    if (p.kind() != proto::SHARED_EXPERT && p.kind() != proto::DENSE_FFN) continue;
    const uint32_t id = p.kind() == proto::SHARED_EXPERT ? kSharedFfnId : kDenseFfnId;
    for (const proto::Kernel& k : p.work(rank_).kernels())
      EPSIM_RETURN_IF_ERROR(upload_ffn(id, static_cast<uint32_t>(k.width())));
  }
  return Status::Ok();
}

// Index lists and reduce specs of every layer, once.
Status Runner::UploadLayouts() {
  for (const LayerLayout& l : layouts_) {
    Buffers::Layer lb;
    EPSIM_ASSIGN_OR_RETURN(lb.permute, backend_->UploadIndex(l.permute));
    EPSIM_ASSIGN_OR_RETURN(lb.forward_src, backend_->UploadIndex(l.forward_src));
    for (const LayerLayout::Expert& e : l.experts) {
      EPSIM_ASSIGN_OR_RETURN(Buffer rows, backend_->UploadIndex(e.rows));
      lb.expert_rows.push_back(rows);
    }
    for (int w = 0; w < kNumReduces; ++w) {
      EPSIM_ASSIGN_OR_RETURN(lb.reduce[w], backend_->UploadReduce(SpecOf(l, w)));
    }
    buf_->layers.push_back(std::move(lb));
  }
  return Status::Ok();
}

Status Runner::CheckWireBytes(const proto::Phase& phase, uint32_t index, const AllToAllSpec& spec,
                              size_t row_bytes) const {
  for (uint32_t q = 0; q < d_; ++q) {
    if (q == rank_) continue;
    const uint64_t sent = spec.send_rows[q] * row_bytes, want = phase.send_bytes(rank_ * d_ + q);
    const uint64_t got = spec.recv_rows[q] * row_bytes, expect = phase.send_bytes(q * d_ + rank_);
    if (sent != want || got != expect)
      return Status::BadInput(fmt::format(
          "{}: wire bytes differ from the schedule: rank {} -> {} sends {} B (schedule {} B), "
          "rank {} -> {} receives {} B (schedule {} B); the plan is inconsistent",
          PhaseLabel(phase, index), rank_, q, sent, want, q, rank_, got, expect));
  }
  return Status::Ok();
}

Status Runner::Exchange(const proto::Phase& phase, uint32_t index, const AllToAllSpec& spec,
                        const Buffer& send, const Buffer& recv, size_t recv_offset_rows,
                        DType wire) {
  const size_t row_bytes = hidden_ * DTypeBytes(wire);
  EPSIM_RETURN_IF_ERROR(CheckWireBytes(phase, index, spec, row_bytes));
  const Buffer dst = RowsFrom(recv, recv_offset_rows, row_bytes);
  if (two_streams_) {
    Result<int> handle = backend_->AllToAllVAsync(send, dst, spec, row_bytes, Deadline(),
                                                  2 * index, 2 * index + 1);
    if (!handle.ok()) return handle.status().WithContext(PhaseLabel(phase, index));
    pending_[index] = *handle;
    return Status::Ok();
  }
  return backend_->AllToAllV(send, dst, spec, row_bytes, Deadline())
      .WithContext(PhaseLabel(phase, index));
}

Status Runner::Reduce(size_t li, int which, const Buffer& in, DType in_t, const Buffer& out,
                      DType out_t) {
  const size_t n = SpecOf(layouts_[li], which).num_out();
  if (n == 0) return Status::Ok();
  return backend_->WeightedReduce(in, in_t, buf_->layers[li].reduce[which], n, hidden_, out,
                                  out_t);
}

Status Runner::RunCompute(const proto::Phase& phase) {
  Buffers& b = *buf_;
  const bool shared =
      phase.kind() == proto::SHARED_EXPERT || phase.kind() == proto::SHARED_EXPERT_BACKWARD;
  for (const proto::Kernel& k : phase.work(rank_).kernels()) {
    if (k.op() == proto::SWIGLU_FFN && !k.has_expert() && k.rows() > 0) {
      const Buffer& ffn = b.ffn.at(shared ? kSharedFfnId : kDenseFfnId);
      // A backward kernel costs twice the forward (schedule_builder.cc):
      // the real SwiGLU backward on stand-in values; a recomputed forward
      // is the forward.
      const double forward_flops = 6.0 * k.rows() * k.hidden() * k.width();
      if (train_ && k.flops() > 1.5 * forward_flops) {
        EPSIM_RETURN_IF_ERROR(backend_->SwigluFfnBackward(ffn, b.standin_x, b.standin_x,
                                                          b.standin_saved, k.rows(), b.scratch,
                                                          b.standin_y, b.grad));
        continue;
      }
      EPSIM_RETURN_IF_ERROR(backend_->SwigluFfn(ffn, b.standin_x, k.rows(), b.scratch,
                                                b.standin_y));
      continue;
    }
    const GemmShape g = StandInShape(k);
    if (g.n > 0) EPSIM_RETURN_IF_ERROR(backend_->Gemm(g.m, g.n, g.k, b.gemm_a, b.gemm_b, b.gemm_c));
  }
  return Status::Ok();
}

Status Runner::RunMoeCompute(const proto::Phase& phase, const LayerLayout& l, size_t li) {
  Buffers& b = *buf_;
  Buffers::Layer& lb = b.layers[li];
  switch (phase.kind()) {
    case proto::GATE_PERMUTE:
      EPSIM_RETURN_IF_ERROR(RunCompute(phase));  // the router GEMM stand-in
      if (l.permute.empty()) return Status::Ok();
      return backend_->GatherRows(b.x[li], DType::kF32, lb.permute, l.permute.size(), hidden_,
                                  b.dispatch_send, wire_dispatch_);
    case proto::EXPERT:
      EPSIM_RETURN_IF_ERROR(CheckExperts(phase, l));
      return RunExperts(l, li);
    case proto::UNPERMUTE_REDUCE:
      return Reduce(li, kUnpermute, b.combine_recv, wire_combine_, b.out, DType::kF32);
    // Training's backward, the forward's steps transposed (layout.h).
    case proto::UNPERMUTE_REDUCE_BACKWARD:
      return Reduce(li, kUnpermuteT, b.dout[li], DType::kF32, b.g.dcombine_recv, wire_combine_);
    case proto::EXPERT_BACKWARD:
      EPSIM_RETURN_IF_ERROR(CheckExperts(phase, l));
      return RunExpertsBackward(l, li);
    case proto::GATE_PERMUTE_BACKWARD:
      EPSIM_RETURN_IF_ERROR(RunCompute(phase));  // the router's backward GEMM stand-in
      return Reduce(li, kPermuteT, b.g.dsend, wire_dispatch_, b.g.dx, DType::kF32);
    default:
      return RunCompute(phase);
  }
}

// Rows [row, ...) of `buffer`, rows of `row_bytes`.
Buffer Runner::RowsFrom(const Buffer& buffer, size_t row, size_t row_bytes) {
  Buffer out = buffer;
  const size_t skip = std::min(buffer.bytes, row * row_bytes);
  out.ptr = static_cast<uint8_t*>(buffer.ptr) + skip;
  out.bytes = buffer.bytes - skip;
  return out;
}

// The experts' backward: output gradients of their rows from dcat, then
// per expert the SwiGLU backward on its saved inputs and activations
// (weight gradients into one buffer, overwritten expert by expert), then the
// input gradients of the rows that came by the forward step, which go back
// to their relays first.
Status Runner::RunExpertsBackward(const LayerLayout& l, size_t li) {
  Buffers& b = *buf_;
  const size_t row_f32 = size_t{hidden_} * 4, w = plan_.model().moe_intermediate();
  EPSIM_RETURN_IF_ERROR(Reduce(li, kReturnsT, b.g.dcat, wire_combine_, b.g.dycat, DType::kF32));
  size_t ycat_row = 0;
  for (size_t e = 0; e < l.experts.size(); ++e) {
    const size_t n = l.experts[e].rows.size();
    EPSIM_RETURN_IF_ERROR(backend_->GatherRows(b.saved_arrivals[li], wire_dispatch_,
                                               b.layers[li].expert_rows[e], n, hidden_,
                                               b.expert_in, DType::kF32));
    EPSIM_RETURN_IF_ERROR(backend_->SwigluFfnBackward(
        b.ffn.at(l.experts[e].expert), b.expert_in, RowsFrom(b.g.dycat, ycat_row, row_f32),
        RowsFrom(b.saved_act[li], ycat_row, 2 * w * 4), n, b.scratch,
        RowsFrom(b.g.dxext, ycat_row, row_f32), b.grad));
    ycat_row += n;
  }
  return Reduce(li, kArrivalsForwardedT, b.g.dxext, DType::kF32, b.g.darrivals, wire_dispatch_);
}

// The schedule's expert kernels on this rank must be the layout's experts
// with the same token counts: the routes and the schedule are one plan.
Status Runner::CheckExperts(const proto::Phase& phase, const LayerLayout& l) const {
  const proto::RankWork& work = phase.work(rank_);
  size_t next = 0;
  for (int i = 0; i < work.expert_ids_size(); ++i) {
    if (work.tokens_per_expert(i) == 0) continue;
    const bool same = next < l.experts.size() && l.experts[next].expert == work.expert_ids(i);
    if (!same || l.experts[next].rows.size() != work.tokens_per_expert(i))
      return Status::BadInput(fmt::format(
          "layer {} rank {}: the schedule's expert {} has {} tokens but the routes give this "
          "rank {}; the plan is inconsistent",
          l.layer, rank_, work.expert_ids(i), work.tokens_per_expert(i),
          same ? l.experts[next].rows.size() : 0));
    ++next;
  }
  if (next != l.experts.size())
    return Status::BadInput(fmt::format("layer {} rank {}: routes send rows to {} experts, the "
                                        "schedule lists {}; the plan is inconsistent",
                                        l.layer, rank_, l.experts.size(), next));
  return Status::Ok();
}

// Each local expert's FFN on its gathered rows, outputs back to back in
// ycat; then the packs of the rows going back (stage-1 reduce included).
Status Runner::RunExperts(const LayerLayout& l, size_t li) {
  Buffers& b = *buf_;
  size_t ycat_row = 0;
  const size_t row_f32 = size_t{hidden_} * 4;
  for (size_t e = 0; e < l.experts.size(); ++e) {
    const size_t n = l.experts[e].rows.size();
    EPSIM_RETURN_IF_ERROR(backend_->GatherRows(b.arrivals, wire_dispatch_,
                                               b.layers[li].expert_rows[e], n, hidden_,
                                               b.expert_in, DType::kF32));
    const Buffer y = RowsFrom(b.ycat, ycat_row, row_f32);
    // Train passes keep each expert's activations for the backward.
    const Buffer scratch =
        train_ ? RowsFrom(b.saved_act[li], ycat_row, 2 * plan_.model().moe_intermediate() * 4)
               : b.scratch;
    EPSIM_RETURN_IF_ERROR(
        backend_->SwigluFfn(b.ffn.at(l.experts[e].expert), b.expert_in, n, scratch, y));
    ycat_row += n;
  }
  EPSIM_RETURN_IF_ERROR(Reduce(li, kCombinePack, b.ycat, DType::kF32, b.combine_send,
                               wire_combine_));
  EPSIM_RETURN_IF_ERROR(Reduce(li, kGatherPack, b.ycat, DType::kF32, b.gather_send,
                               wire_combine_));
  return Reduce(li, kRelayOwn, b.ycat, DType::kF32, b.gather_pool, wire_combine_);
}

Status Runner::RunAllToAll(const proto::Phase& phase, uint32_t index, const LayerLayout& l,
                           size_t li) {
  Buffers& b = *buf_;
  switch (phase.kind()) {
    case proto::DISPATCH:
      if (options_.inject_hang_rank == static_cast<int>(rank_) && hang_armed_) {
        hang_armed_ = false;
        std::raise(SIGSTOP);
      }
      return Exchange(phase, index, l.dispatch, b.dispatch_send, b.arrivals, 0, wire_dispatch_);
    case proto::DISPATCH_FORWARD:
      if (!l.forward_src.empty())
        EPSIM_RETURN_IF_ERROR(backend_->GatherRows(b.arrivals, wire_dispatch_,
                                                   b.layers[li].forward_src, l.forward_src.size(),
                                                   hidden_, b.forward_send, wire_dispatch_));
      return Exchange(phase, index, l.forward, b.forward_send, b.arrivals,
                      l.dispatch.RecvTotal(), wire_dispatch_);
    case proto::COMBINE_GATHER:
      return Exchange(phase, index, l.gather, b.gather_send, b.gather_pool, 0, wire_combine_);
    case proto::COMBINE:
      // The relay reduce of hierarchical combine runs inside the combine op.
      EPSIM_RETURN_IF_ERROR(Reduce(li, kRelayReduce, b.gather_pool, wire_combine_, b.combine_send,
                                   wire_combine_));
      return Exchange(phase, index, l.combine, b.combine_send, b.combine_recv, 0, wire_combine_);
    case proto::COMBINE_BACKWARD:
    case proto::DISPATCH_BACKWARD:
      return RunGradientExchange(phase, index, l, li);
    default:
      return Status::BadInput(fmt::format("{}: an all-to-all of a kind epsim-hw cannot execute",
                                          PhaseLabel(phase, index)));
  }
}

// The backward's all-to-alls: each a forward exchange reversed, with the
// transposed reduce that feeds it (layout.h).
Status Runner::RunGradientExchange(const proto::Phase& phase, uint32_t index,
                                   const LayerLayout& l, size_t li) {
  Buffers& b = *buf_;
  const size_t row_c = size_t{hidden_} * DTypeBytes(wire_combine_);
  const size_t row_d = size_t{hidden_} * DTypeBytes(wire_dispatch_);
  switch (role_[index]) {
    case Role::kCombineMirror:
      return Exchange(phase, index, l.combine.Reversed(), b.g.dcombine_recv, b.g.dcat, 0,
                      wire_combine_);
    case Role::kGatherMirror:
      EPSIM_RETURN_IF_ERROR(Reduce(li, kRelayT, b.g.dcat, wire_combine_, b.g.dcat, wire_combine_));
      return Exchange(phase, index, l.gather.Reversed(), RowsFrom(b.g.dcat, l.dcat_pool, row_c),
                      b.g.dcat, l.dcat_gather, wire_combine_);
    case Role::kForwardMirror:
      return Exchange(phase, index, l.forward.Reversed(),
                      RowsFrom(b.g.darrivals, l.dispatch.RecvTotal(), row_d), b.g.dforward, 0,
                      wire_dispatch_);
    case Role::kDispatchMirror: {
      const size_t forwarded = l.forward.SendTotal();
      if (forwarded > 0)
        EPSIM_RETURN_IF_ERROR(backend_->GatherRows(
            b.g.dforward, wire_dispatch_, b.identity, forwarded, hidden_,
            RowsFrom(b.g.dxext, l.ycat_rows, size_t{hidden_} * 4), DType::kF32));
      EPSIM_RETURN_IF_ERROR(
          Reduce(li, kArrivalsT, b.g.dxext, DType::kF32, b.g.darrivals, wire_dispatch_));
      return Exchange(phase, index, l.dispatch.Reversed(), b.g.darrivals, b.g.dsend, 0,
                      wire_dispatch_);
    }
    case Role::kNone: break;
  }
  return Status::Internal(fmt::format("{}: no backward role", PhaseLabel(phase, index)));
}

// The data-parallel all-reduce of a block's replicated weights' gradients
// (values not verified: the harness's attention and router gradients are
// stand-ins). Its ring send in the plan must be 2 (n - 1) / n of the bytes.
Status Runner::RunGradientAllReduce(const proto::Phase& phase, uint32_t index) {
  const uint64_t bytes = phase.allreduce_bytes();
  const auto ring = static_cast<uint64_t>(std::llround(2.0 * (d_ - 1) / d_ * bytes));
  const uint64_t planned = phase.send_bytes(rank_ * d_ + (rank_ + 1) % d_);
  if (bytes % 2 != 0 || ring != planned)
    return Status::BadInput(fmt::format(
        "{}: all-reduce of {} B, whose ring sends {} B to the next rank, but the schedule sends "
        "{} B; the plan is inconsistent (or its gradients are not BF16)",
        PhaseLabel(phase, index), bytes, ring, planned));
  if (two_streams_) {
    Result<int> handle = backend_->AllReduceBf16Async(buf_->allreduce, bytes / 2, Deadline(),
                                                      2 * index, 2 * index + 1);
    if (!handle.ok()) return handle.status().WithContext(PhaseLabel(phase, index));
    pending_[index] = *handle;
    return Status::Ok();
  }
  return backend_->AllReduceBf16(buf_->allreduce, bytes / 2, Deadline())
      .WithContext(PhaseLabel(phase, index));
}

Status Runner::RunPhase(const proto::Phase& phase, uint32_t index, bool check, RunResult* result) {
  const int li = LayoutOf(phase);
  if (li >= 0) buf_->Use(static_cast<size_t>(li));
  if (li >= 0 && train_) {
    buf_->arrivals = buf_->saved_arrivals[li];
    buf_->UseGrad(static_cast<size_t>(li));
  }
  if (phase.kind() == proto::GRADIENT_ALLREDUCE) return RunGradientAllReduce(phase, index);
  if (exec::IsAllToAll(phase)) {
    if (li < 0)
      return Status::BadInput(fmt::format("{}: no routes for this layer", PhaseLabel(phase, index)));
    return RunAllToAll(phase, index, layouts_[li], li);
  }
  if (li < 0) return RunCompute(phase);  // dense blocks
  EPSIM_RETURN_IF_ERROR(RunMoeCompute(phase, layouts_[li], li));
  if (check && phase.kind() == proto::UNPERMUTE_REDUCE)
    return VerifyLayer(static_cast<size_t>(li), false, result);
  if (check && phase.kind() == proto::GATE_PERMUTE_BACKWARD)
    return VerifyLayer(static_cast<size_t>(li), true, result);
  return Status::Ok();
}

// The layer's outputs, or with `backward` its input gradients, against
// the reference (verify.h).
Status Runner::VerifyLayer(size_t li, bool backward, RunResult* result) {
  const LayerLayout& l = layouts_[li];
  std::vector<float> out(l.num_tokens * hidden_);
  EPSIM_RETURN_IF_ERROR(
      backend_->Download(out.data(), backward ? buf_->g.dx : buf_->out, out.size() * 4));
  if (options_.inject_wrong_rank == static_cast<int>(rank_) && !out.empty()) out[0] += 1.0f;
  const proto::LayerRoutes& routes = plan_.layers(static_cast<int>(li));
  const SeededData data(options_.seed);
  const LayerCheck c =
      backward ? CheckLayerInputGradients(plan_.model(), routes, data, l.first_token,
                                          l.num_tokens, out.data(), backend_->compute_rounding())
               : CheckLayerOutputs(plan_.model(), routes, data, l.first_token, l.num_tokens,
                                   out.data(), backend_->compute_rounding());
  if (c.wrong > 0 && result->wrong == 0) result->first_wrong = c.first_wrong;
  result->wrong += c.wrong;
  result->checked += c.checked;
  result->max_error = std::max(result->max_error, c.max_ratio);
  return Status::Ok();
}

Status Runner::RunPass(bool timed, bool check, RunResult* result) {
  const proto::Schedule& s = plan_.schedule();
  EPSIM_RETURN_IF_ERROR(backend_->Barrier(Deadline()));
  EPSIM_RETURN_IF_ERROR(backend_->MarkPassStart(2 * s.phases_size()));
  for (int p = 0; p < s.phases_size(); ++p) {
    const proto::Phase& phase = s.phases(p);
    if (two_streams_) {
      // What this phase needs from the communication stream first.
      for (uint32_t dep : phase.depends_on()) EPSIM_RETURN_IF_ERROR(WaitComm(dep));
      // An all-to-all's marks are recorded on the communication stream.
      if (exec::IsAllToAll(phase)) {
        EPSIM_RETURN_IF_ERROR(RunPhase(phase, p, check, result));
        continue;
      }
    }
    EPSIM_RETURN_IF_ERROR(backend_->Mark(2 * p));
    EPSIM_RETURN_IF_ERROR(RunPhase(phase, p, check, result));
    EPSIM_RETURN_IF_ERROR(backend_->Mark(2 * p + 1));
  }
  for (int p = 0; p < s.phases_size(); ++p) EPSIM_RETURN_IF_ERROR(WaitComm(p));
  EPSIM_ASSIGN_OR_RETURN(Marks marks, backend_->ReadMarks());
  if (timed) buf_->timed_marks.push_back(std::move(marks));
  return Status::Ok();
}

Status Runner::WaitComm(uint32_t phase) {
  if (phase >= pending_.size() || pending_[phase] < 0) return Status::Ok();
  const int handle = pending_[phase];
  pending_[phase] = -1;
  return backend_->WaitComm(handle).WithContext(PhaseLabel(plan_.schedule().phases(phase), phase));
}

Result<RunResult> Runner::Run() {
  RunResult result;
  const uint32_t passes = options_.warmup + options_.iterations;
  for (uint32_t i = 0; i < passes; ++i) {
    hang_armed_ = i == options_.warmup;
    EPSIM_RETURN_IF_ERROR(RunPass(i >= options_.warmup, false, &result));
  }
  EPSIM_RETURN_IF_ERROR(GatherTimes(&result));
  if (options_.check) EPSIM_RETURN_IF_ERROR(CheckPass(&result));
  return result;
}

// This rank's timings, per op the median start and busy time and the busy
// range, then each pass's end: [phase][start, end, busy_min, busy_max], ends.
std::vector<double> Runner::Summary() const {
  const uint32_t num_phases = plan_.schedule().phases_size();
  std::vector<double> mine;
  for (uint32_t p = 0; p < num_phases; ++p) {
    std::vector<double> starts, busy;
    for (const Marks& m : buf_->timed_marks) {
      starts.push_back(m[2 * p]);
      busy.push_back(m[2 * p + 1] - m[2 * p]);
    }
    const double start = Median(starts), b = Median(busy);
    const bool any = !busy.empty();
    mine.insert(mine.end(), {start, start + b,
                             any ? *std::min_element(busy.begin(), busy.end()) : 0.0,
                             any ? *std::max_element(busy.begin(), busy.end()) : 0.0});
  }
  for (const Marks& m : buf_->timed_marks) mine.push_back(num_phases ? m[2 * num_phases - 1] : 0);
  return mine;
}

// Rank 0 gets every rank's summary: op times, bytes from the schedule, and
// each pass's time (latest end over ranks).
Status Runner::GatherTimes(RunResult* result) {
  EPSIM_ASSIGN_OR_RETURN(auto all, backend_->GatherToRoot(Summary(), Deadline()));
  if (rank_ != 0) return Status::Ok();
  const uint32_t num_phases = plan_.schedule().phases_size();
  const size_t n_it = buf_->timed_marks.size();
  exec::OpTimes& t = result->times = exec::OpTimes(num_phases, d_);
  t.busy_min_s.assign(t.start_s.size(), 0);
  t.busy_max_s.assign(t.start_s.size(), 0);
  for (uint32_t r = 0; r < d_; ++r) {
    for (uint32_t p = 0; p < num_phases; ++p) {
      const size_t i = t.Index(p, r);
      t.start_s[i] = all[r][4 * p];
      t.end_s[i] = all[r][4 * p + 1];
      t.busy_min_s[i] = all[r][4 * p + 2];
      t.busy_max_s[i] = all[r][4 * p + 3];
      const proto::Phase& phase = plan_.schedule().phases(p);
      if (exec::IsAllToAll(phase))
        for (uint32_t q = 0; q < d_; ++q) t.bytes[i] += phase.send_bytes(r * d_ + q);
    }
  }
  result->pass_s.assign(n_it, 0);
  for (size_t it = 0; it < n_it; ++it)
    for (uint32_t r = 0; r < d_; ++r)
      result->pass_s[it] = std::max(result->pass_s[it], all[r][4 * num_phases + it]);
  return Status::Ok();
}

// One untimed pass verifying every layer; counts summed over ranks.
Status Runner::CheckPass(RunResult* result) {
  RunResult local;
  EPSIM_RETURN_IF_ERROR(RunPass(false, true, &local));
  EPSIM_ASSIGN_OR_RETURN(std::vector<double> sums,
                         backend_->AllReduceSum({static_cast<double>(local.wrong),
                                                 static_cast<double>(local.checked)},
                                                Deadline()));
  EPSIM_ASSIGN_OR_RETURN(auto ratios, backend_->GatherToRoot({local.max_error}, Deadline()));
  result->wrong = static_cast<uint64_t>(sums[0]);
  result->checked = static_cast<uint64_t>(sums[1]);
  for (const auto& r : ratios) result->max_error = std::max(result->max_error, r[0]);
  result->first_wrong = local.first_wrong;
  return Status::Ok();
}

}  // namespace epsim::hw
