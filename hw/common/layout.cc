#include "hw/common/layout.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "sim/dispatch/token_split.h"

namespace epsim::hw {
namespace {

// One first-stage copy: token `token` from `src` to `dst`, carrying rows
// [row_begin, row_end) of the layer's row arrays that share it (one row,
// or a relay's group in row order).
struct Copy {
  uint32_t token = 0;
  uint32_t src = 0;
  uint32_t dst = 0;
  std::vector<uint32_t> rows;  // indices into the layer's row arrays
  bool relayed = false;
};

// Every copy of the layer, bucketed by destination in receive order
// (source rank ascending, then token order, then copy order).
std::vector<std::vector<Copy>> CopiesByDestination(const proto::LayerRoutes& l,
                                                   uint32_t num_ranks, bool group_by_relay) {
  std::vector<std::vector<Copy>> to(num_ranks);
  const dispatch::TokenSplit split(l.num_tokens(), num_ranks);
  for (uint32_t t = 0; t < l.num_tokens(); ++t) {
    const uint32_t src = split.RankOf(t);
    std::vector<Copy> copies;
    for (uint32_t i = l.row_offsets(t); i < l.row_offsets(t + 1); ++i) {
      const uint32_t dst = group_by_relay ? l.row_relay(i) : l.row_rank(i);
      auto it = std::find_if(copies.begin(), copies.end(),
                             [&](const Copy& c) { return c.dst == dst; });
      if (!group_by_relay || it == copies.end()) {
        copies.push_back({t, src, dst, {}, false});
        it = copies.end() - 1;
      }
      it->rows.push_back(i);
      it->relayed |= l.row_rank(i) != dst;
    }
    for (Copy& c : copies) to[c.dst].push_back(std::move(c));
  }
  return to;
}

bool HasForwardPhase(const proto::Schedule& s, uint32_t layer) {
  for (const proto::Phase& p : s.phases())
    if (p.layer() == layer && p.kind() == proto::DISPATCH_FORWARD) return true;
  return false;
}

// A row instance on its expert rank and the Ycat entries of its experts.
struct Instance {
  uint32_t row = 0;      // index into the layer's row arrays
  uint32_t arrival = 0;  // arrival row holding its input
  std::vector<std::pair<uint32_t, float>> terms;  // (ycat row, coefficient)
};

class Builder {
 public:
  Builder(const proto::Plan& plan, const proto::LayerRoutes& l, uint32_t rank)
      : l_(l), d_(plan.schedule().num_ranks()), r_(rank) {
    out_.layer = l.layer();
    out_.hierarchical = HasForwardPhase(plan.schedule(), l.layer());
    const dispatch::TokenSplit split(l.num_tokens(), d_);
    out_.first_token = split.FirstToken(r_);
    out_.num_tokens = split.TokensOn(r_);
    to_ = CopiesByDestination(l, d_, out_.hierarchical);
  }

  LayerLayout Build() {
    BuildDispatch();
    BuildForward();
    BuildExperts();
    BuildReturns();
    BuildUnpermute();
    BuildBackward();
    return std::move(out_);
  }

 private:
  // c of a row: its expert's weight for one expert, 1 for a stage-1 sum.
  float RowCoef(uint32_t row) const {
    const uint32_t t_first = l_.expert_offsets(token_of_row_[row]);
    return l_.row_count(row) == 1 ? l_.weights(t_first + l_.row_first(row)) : 1.0f;
  }

  void BuildDispatch() {
    std::vector<uint64_t> send(d_, 0), recv(d_, 0);
    token_of_row_.assign(l_.row_rank_size(), 0);
    for (uint32_t t = 0; t < l_.num_tokens(); ++t)
      for (uint32_t i = l_.row_offsets(t); i < l_.row_offsets(t + 1); ++i) token_of_row_[i] = t;
    for (uint32_t dst = 0; dst < d_; ++dst) {
      for (const Copy& c : to_[dst]) {
        if (c.src == r_) {
          ++send[dst];
          out_.permute.push_back(c.token - static_cast<uint32_t>(out_.first_token));
          sent_.push_back(&c);
        }
      }
    }
    for (const Copy& c : to_[r_]) ++recv[c.src];
    out_.dispatch = AllToAllSpec::FromRows(std::move(send), std::move(recv));
    out_.combine = out_.dispatch.Reversed();
  }

  void BuildForward() {
    std::vector<uint64_t> send(d_, 0), recv(d_, 0);
    // Sends: per destination q, our relayed copies' rows on q, in order.
    // The gather receive rows mirror them: remember which copy and row.
    std::vector<std::vector<std::pair<uint32_t, uint32_t>>> by_peer(d_);  // (copy, row)
    for (uint32_t j = 0; j < to_[r_].size(); ++j)
      for (uint32_t row : to_[r_][j].rows)
        if (to_[r_][j].relayed && l_.row_rank(row) != r_)
          by_peer[l_.row_rank(row)].push_back({j, row});
    for (uint32_t q = 0; q < d_; ++q) {
      send[q] = by_peer[q].size();
      for (const auto& copy_row : by_peer[q]) {
        out_.forward_src.push_back(copy_row.first);
        forwarded_.push_back(copy_row);
      }
    }
    // Receives: from each relay q, its relayed copies' rows on us.
    uint64_t arrival = to_[r_].size();  // after the dispatch receive rows
    for (uint32_t q = 0; q < d_; ++q) {
      if (q == r_) continue;
      for (const Copy& c : to_[q]) {
        if (!c.relayed) continue;
        for (uint32_t row : c.rows) {
          if (l_.row_rank(row) != r_) continue;
          ++recv[q];
          instances_.push_back({row, static_cast<uint32_t>(arrival++), {}});
          kind_.push_back(Kind::kForwarded);
        }
      }
    }
    out_.forward = AllToAllSpec::FromRows(std::move(send), std::move(recv));
    out_.gather = out_.forward.Reversed();
    out_.arrival_rows = arrival;
  }

  enum class Kind { kDirect, kRelayOwn, kForwarded };

  void BuildExperts() {
    // Instances from dispatch copies come first (arrival order).
    std::vector<Instance> direct;
    std::vector<Kind> direct_kind;
    for (uint32_t j = 0; j < to_[r_].size(); ++j) {
      for (uint32_t row : to_[r_][j].rows) {
        if (l_.row_rank(row) != r_) continue;
        direct.push_back({row, j, {}});
        direct_kind.push_back(to_[r_][j].relayed ? Kind::kRelayOwn : Kind::kDirect);
      }
    }
    instances_.insert(instances_.begin(), direct.begin(), direct.end());
    kind_.insert(kind_.begin(), direct_kind.begin(), direct_kind.end());
    std::map<uint32_t, std::vector<std::pair<size_t, float>>> by_expert;  // expert -> (inst, w)
    for (size_t i = 0; i < instances_.size(); ++i) {
      const uint32_t row = instances_[i].row;
      const uint32_t base = l_.expert_offsets(token_of_row_[row]) + l_.row_first(row);
      for (uint32_t k = 0; k < l_.row_count(row); ++k)
        by_expert[l_.experts(base + k)].push_back({i, l_.weights(base + k)});
    }
    uint32_t ycat = 0;
    for (const auto& [expert, uses] : by_expert) {
      LayerLayout::Expert e{expert, {}};
      for (const auto& [inst, w] : uses) {
        e.rows.push_back(instances_[inst].arrival);
        const bool single = l_.row_count(instances_[inst].row) == 1;
        instances_[inst].terms.push_back({ycat++, single ? 1.0f : w});
      }
      out_.max_expert_rows = std::max<uint64_t>(out_.max_expert_rows, e.rows.size());
      out_.experts.push_back(std::move(e));
    }
    out_.ycat_rows = ycat;
  }

  static void AddOut(ReduceSpec* spec, uint32_t out_row,
                     const std::vector<std::pair<uint32_t, float>>& terms) {
    if (spec->offsets.empty()) spec->offsets.push_back(0);
    for (const auto& [idx, coef] : terms) {
      spec->idx.push_back(idx);
      spec->coef.push_back(coef);
    }
    spec->offsets.push_back(static_cast<uint32_t>(spec->idx.size()));
    spec->out_rows.push_back(out_row);
  }

  void BuildReturns() {
    const uint32_t received = static_cast<uint32_t>(out_.gather.RecvTotal());
    // Own rows of relayed copies go after the gathered rows, by copy.
    std::map<uint32_t, uint32_t> own_slot;  // copy index -> gather pool row
    uint32_t pool = received;
    uint32_t forwarded_seen = 0;
    for (size_t i = 0; i < instances_.size(); ++i) {
      const Instance& in = instances_[i];
      switch (kind_[i]) {
        case Kind::kDirect: AddOut(&out_.combine_pack, in.arrival, in.terms); break;
        case Kind::kRelayOwn:
          own_slot[in.arrival] = pool;
          AddOut(&out_.relay_own, pool++, in.terms);
          break;
        case Kind::kForwarded: AddOut(&out_.gather_pack, forwarded_seen++, in.terms); break;
      }
    }
    out_.gather_pool_rows = pool;
    // Relay reduce: per relayed copy, its gathered rows and own row.
    std::vector<std::vector<std::pair<uint32_t, float>>> terms(to_[r_].size());
    for (size_t g = 0; g < forwarded_.size(); ++g)
      terms[forwarded_[g].first].push_back({static_cast<uint32_t>(g),
                                            RowCoef(forwarded_[g].second)});
    for (uint32_t j = 0; j < to_[r_].size(); ++j) {
      const Copy& c = to_[r_][j];
      if (!c.relayed) continue;
      auto own = own_slot.find(j);
      if (own != own_slot.end())
        for (uint32_t row : c.rows)
          if (l_.row_rank(row) == r_) terms[j].push_back({own->second, RowCoef(row)});
      AddOut(&out_.relay_reduce, j, terms[j]);
    }
  }

  void BuildUnpermute() {
    std::vector<std::vector<std::pair<uint32_t, float>>> terms(out_.num_tokens);
    for (uint32_t s = 0; s < sent_.size(); ++s) {
      const Copy& c = *sent_[s];
      const float coef = c.relayed ? 1.0f : RowCoef(c.rows.front());
      terms[c.token - out_.first_token].push_back({s, coef});
    }
    for (uint32_t t = 0; t < out_.num_tokens; ++t) AddOut(&out_.unpermute, t, terms[t]);
  }

  // The transposes of a forward step, term by term: a forward term
  // out[o] += c * in[i] becomes in_grad[i] += c * out_grad[o].
  class Transpose {
   public:
    explicit Transpose(size_t num_out) : terms_(num_out) {}
    // Adds `spec`'s terms, its outputs read at rows + `out_offset` of the
    // transposed input, its inputs written at rows + `in_offset`.
    void Add(const ReduceSpec& spec, uint64_t out_offset, uint64_t in_offset) {
      for (size_t o = 0; o < spec.num_out(); ++o)
        for (uint32_t j = spec.offsets[o]; j < spec.offsets[o + 1]; ++j)
          Term(spec.idx[j] + in_offset, spec.out_rows[o] + out_offset, spec.coef[j]);
    }
    void Term(uint64_t out_row, uint64_t in_row, float coef) {
      terms_.at(out_row).push_back({static_cast<uint32_t>(in_row), coef});
    }
    // Output rows [first, last), each written (no terms: zero), shifted by
    // `out_offset`.
    ReduceSpec Spec(uint64_t first, uint64_t last, uint64_t out_offset = 0) const {
      ReduceSpec spec;
      spec.offsets.push_back(0);
      for (uint64_t o = first; o < last; ++o) AddOut(&spec, static_cast<uint32_t>(o + out_offset),
                                                     terms_[o]);
      return spec;
    }

   private:
    std::vector<std::vector<std::pair<uint32_t, float>>> terms_;
  };

  void BuildBackward() {
    const uint64_t c_rows = out_.combine.SendTotal(), g_rows = out_.gather.SendTotal();
    out_.dcat_gather = c_rows;
    out_.dcat_pool = c_rows + g_rows;
    out_.dcat_rows = out_.dcat_pool + out_.gather_pool_rows;
    Transpose unpermute(out_.combine.RecvTotal());
    unpermute.Add(out_.unpermute, 0, 0);
    out_.unpermute_t = unpermute.Spec(0, out_.combine.RecvTotal());
    Transpose relay(out_.gather_pool_rows);
    relay.Add(out_.relay_reduce, 0, 0);
    out_.relay_t = relay.Spec(0, out_.gather_pool_rows, out_.dcat_pool);
    Transpose returns(out_.ycat_rows);
    returns.Add(out_.combine_pack, 0, 0);
    returns.Add(out_.gather_pack, out_.dcat_gather, 0);
    returns.Add(out_.relay_own, out_.dcat_pool, 0);
    out_.returns_t = returns.Spec(0, out_.ycat_rows);
    Transpose arrivals(out_.arrival_rows);
    uint64_t y = 0;
    for (const LayerLayout::Expert& e : out_.experts)
      for (uint32_t a : e.rows) arrivals.Term(a, y++, 1.0f);
    for (size_t i = 0; i < out_.forward_src.size(); ++i)
      arrivals.Term(out_.forward_src[i], out_.ycat_rows + i, 1.0f);
    const uint64_t d_rows = out_.dispatch.RecvTotal();
    out_.arrivals_t = arrivals.Spec(0, d_rows);
    out_.arrivals_forwarded_t = arrivals.Spec(d_rows, out_.arrival_rows);
    Transpose permute(out_.num_tokens);
    for (size_t i = 0; i < out_.permute.size(); ++i) permute.Term(out_.permute[i], i, 1.0f);
    out_.permute_t = permute.Spec(0, out_.num_tokens);
  }

  const proto::LayerRoutes& l_;
  const uint32_t d_, r_;
  LayerLayout out_;
  std::vector<std::vector<Copy>> to_;
  std::vector<uint32_t> token_of_row_;
  std::vector<const Copy*> sent_;                          // dispatch send rows
  std::vector<std::pair<uint32_t, uint32_t>> forwarded_;   // gather recv row -> (copy, row)
  std::vector<Instance> instances_;
  std::vector<Kind> kind_;
};

}  // namespace

Result<std::vector<LayerLayout>> BuildLayouts(const proto::Plan& plan, uint32_t rank) {
  if (rank >= plan.schedule().num_ranks())
    return Status::Internal(fmt::format("rank {} >= plan's num_ranks {}", rank,
                                        plan.schedule().num_ranks()));
  std::vector<LayerLayout> out;
  for (const proto::LayerRoutes& l : plan.layers()) out.push_back(Builder(plan, l, rank).Build());
  return out;
}

}  // namespace epsim::hw
