#include "sim/plan/layer_traffic.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "sim/base/check.h"
#include "sim/dispatch/strategies.h"
#include "sim/dispatch/token_split.h"

namespace epsim::plan {
namespace {

// A token at position p of its sequence attends to p + 1 tokens; positions
// are the order of the sequence's tokens within the layer.
std::vector<double> CausalContext(const trace::LayerRouting& layer) {
  // Tokens of a sequence mostly come in a run: the map is touched only
  // where the sequence changes.
  std::unordered_map<uint64_t, uint64_t> seen;
  std::vector<double> context(layer.num_tokens());
  uint64_t* count = nullptr;
  for (size_t t = 0; t < layer.num_tokens(); ++t) {
    if (t == 0 || layer.sequence_ids[t] != layer.sequence_ids[t - 1])
      count = &seen[layer.sequence_ids[t]];  // unordered_map keeps references valid
    context[t] = static_cast<double>(++*count);
  }
  return context;
}

// Counts one layer's routed tokens. Per token, what is distinct (ranks,
// hosts, relays) is found with stamps (a slot per rank or host holding the
// last token that marked it) and which top-k picks were kept with a mark
// per expert: linear in the token's rows, whatever k.
class Counter {
 public:
  Counter(const dispatch::RouteContext& ctx, bool hierarchical, LayerTraffic* out)
      : ctx_(ctx), hierarchical_(hierarchical), out_(out), d_(ctx.placement.num_ranks()),
        e_(ctx.placement.num_experts()), rank_stamp_(d_, 0), relay_stamp_(d_, 0), kept_(e_, 0) {
    uint32_t hosts = 0;
    for (uint32_t r = 0; r < d_; ++r) hosts = std::max(hosts, ctx.cluster.HostOf(r) + 1);
    host_stamp_.assign(hosts, 0);
  }

  void Add(const dispatch::TokenView& token, uint32_t src, const dispatch::RoutedToken& routed) {
    ++stamp_;
    AddRows(src, routed);
    uint32_t devices = 0, nodes = 0;
    for (const dispatch::DispatchRow& row : routed.rows) {
      for (uint32_t i = row.first; i < row.first + row.count; ++i) {
        ++out_->tokens_per_expert[routed.experts[i]];
        ++out_->tokens_per_rank_expert[size_t{row.rank} * e_ + routed.experts[i]];
      }
      if (row.count > 1) {
        out_->reduce_inputs_per_rank[row.rank] += row.count;
        ++out_->reduce_outputs_per_rank[row.rank];
      }
      devices += Mark(&rank_stamp_[row.rank]);
      nodes += Mark(&host_stamp_[ctx_.cluster.HostOf(row.rank)]);
    }
    out_->sum_devices += devices;
    out_->sum_nodes += nodes;
    AddRoutingChange(token, routed);
  }

 private:
  // True the first time this token marks `slot`.
  bool Mark(uint64_t* slot) {
    if (*slot == stamp_) return false;
    *slot = stamp_;
    return true;
  }

  // Single-stage: one first-stage row per routed row. Hierarchical: one
  // copy per distinct relay, then a forward for each row not at its relay.
  void AddRows(uint32_t src, const dispatch::RoutedToken& routed) {
    for (const dispatch::DispatchRow& row : routed.rows) {
      if (!hierarchical_ || Mark(&relay_stamp_[row.relay])) ++out_->rows[size_t{src} * d_ + row.relay];
      if (row.relay != row.rank) ++out_->forward_rows[size_t{row.relay} * d_ + row.rank];
    }
  }

  void AddRoutingChange(const dispatch::TokenView& token, const dispatch::RoutedToken& routed) {
    for (uint32_t e : routed.experts) kept_[e] = 1;
    for (uint32_t i = 0; i < token.num_topk; ++i) {
      out_->weight_total += token.scores[i];
      ++out_->topk_picks;
      if (kept_[token.candidates[i]])
        out_->weight_kept += token.scores[i];
      else
        ++out_->topk_changed;
    }
    for (uint32_t e : routed.experts) kept_[e] = 0;
  }

  const dispatch::RouteContext& ctx_;
  const bool hierarchical_;
  LayerTraffic* out_;
  const uint32_t d_, e_;
  uint64_t stamp_ = 0;
  std::vector<uint64_t> rank_stamp_, relay_stamp_, host_stamp_;
  std::vector<uint8_t> kept_;
};

uint64_t SumRow(const std::vector<uint64_t>& m, uint32_t n, uint32_t r) {
  uint64_t sum = 0;
  for (uint32_t j = 0; j < n; ++j) sum += m[size_t{r} * n + j];
  return sum;
}

uint64_t SumColumn(const std::vector<uint64_t>& m, uint32_t n, uint32_t c) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < n; ++i) sum += m[size_t{i} * n + c];
  return sum;
}

}  // namespace

uint64_t LayerTraffic::RemoteRows() const {
  uint64_t sum = 0;
  for (uint32_t s = 0; s < num_ranks; ++s)
    for (uint32_t d = 0; d < num_ranks; ++d)
      if (s != d) sum += rows[s * num_ranks + d] + forward_rows[s * num_ranks + d];
  return sum;
}

uint64_t LayerTraffic::RowsInto(uint32_t rank) const { return SumColumn(rows, num_ranks, rank); }
uint64_t LayerTraffic::RowsFrom(uint32_t rank) const { return SumRow(rows, num_ranks, rank); }
uint64_t LayerTraffic::ForwardFrom(uint32_t rank) const {
  return SumRow(forward_rows, num_ranks, rank);
}
uint64_t LayerTraffic::ForwardInto(uint32_t rank) const {
  return SumColumn(forward_rows, num_ranks, rank);
}

dispatch::TokenView ViewOf(const trace::LayerRouting& layer, size_t t) {
  return {{layer.topk(t), layer.num_candidates}, {layer.weights(t), layer.num_candidates},
          layer.num_topk};
}

namespace {

void InitTraffic(uint32_t d, uint32_t e, uint64_t num_tokens, LayerTraffic* out) {
  out->num_ranks = d;
  out->num_tokens = num_tokens;
  out->tokens_per_rank.assign(d, 0);
  out->tokens_after.assign(d, 0);
  out->rows.assign(size_t{d} * d, 0);
  out->forward_rows.assign(size_t{d} * d, 0);
  out->combine_rows.assign(size_t{d} * d, 0);
  out->combine_inputs_per_rank.assign(d, 0);
  out->tokens_per_expert.assign(e, 0);
  out->tokens_per_rank_expert.assign(size_t{d} * e, 0);
  out->reduce_inputs_per_rank.assign(d, 0);
  out->reduce_outputs_per_rank.assign(d, 0);
  out->sum_context_per_rank.assign(d, 0.0);
}

// ---- Luffy (reference/dispatch.md; the choices are documented here) ----

// A sequence of L tokens costs Luffy's attention model 3 L h^2 + 2 L^2 h
// (its 1/P, the device's profiled throughput, is the same on every device
// of a homogeneous group and dropped).
double AttentionCost(double tokens, double hidden) {
  return 3 * tokens * hidden * hidden + 2 * tokens * tokens * hidden;
}

struct ClusterKey {
  uint64_t sequence, cluster;
  uint32_t src, expert;
  bool operator==(const ClusterKey&) const = default;
};
struct ClusterKeyHash {
  size_t operator()(const ClusterKey& k) const {
    uint64_t h = k.sequence * 0x9e3779b97f4a7c15ULL;
    h ^= (k.cluster + 0x632be59bd9b4e019ULL) * 0xbf58476d1ce4e5b9ULL;
    h ^= (uint64_t{k.src} << 32 | k.expert) * 0x94d049bb133111ebULL;
    return static_cast<size_t>(h ^ (h >> 31));
  }
};

// One sequence of the layer, in order of first appearance.
struct LayerSequence {
  uint64_t id = 0;
  uint64_t tokens = 0;
  uint32_t first_src = 0;  // where its first token is
  uint32_t dst = 0;        // where the combine leaves it, unless it stays
  bool stays = false;      // its tokens combine on their sources
};

// Condensation: tokens of one sequence on one device, in clusters of C
// consecutive positions, are similar; of a cluster's tokens routed to an
// expert, the first is sent and its output reused for the others (with
// their own gate weights) on the sequence's destination, which is theirs
// too as whole sequences move. Luffy sends the cluster's highest-degree
// token; in a clique every token has the same degree, and the first is
// taken.
//
// Migration: for every sequence and device j, f_j = the combine rows the
// sequence's tokens would send if rebuilt on j (expert outputs not on j,
// plus a residual row from a source other than j when the token's hidden
// state does not reach j in the dispatch, or always with shared experts,
// whose output joins the residual). Sequences, longest first (ties: first
// appearance), take the device of least attention load among their q
// devices of least f (ties: the device the sequence is on, then the lower
// rank) that still has capacity; when none has, the device of least f
// with capacity. A sequence that fits on no device stays where its tokens
// are (a sequence longer than the capacity, split across devices by the
// initial TokenSplit, stays split); those are placed first, so the loads
// the others see include them.
void CountLuffy(const trace::LayerRouting& layer, const dispatch::RouteContext& ctx,
                const dispatch::Strategy& strategy, const dispatch::LuffyParams& p,
                SequenceHomes* homes, LayerTraffic* out) {
  const uint32_t d = ctx.placement.num_ranks();
  const size_t n = layer.num_tokens();
  const dispatch::TokenSplit split(n, d);
  const std::vector<double> context = CausalContext(layer);
  std::vector<uint32_t> src(n);
  std::vector<LayerSequence> sequences;
  std::vector<uint32_t> seq_of(n);
  std::unordered_map<uint64_t, uint32_t> index;
  for (size_t t = 0; t < n; ++t) {
    const uint64_t id = layer.sequence_ids[t];
    const auto home = homes->rank.find(id);
    src[t] = home != homes->rank.end() ? home->second : split.RankOf(t);
    const auto [it, added] = index.try_emplace(id, static_cast<uint32_t>(sequences.size()));
    if (added) sequences.push_back({id, 0, src[t], 0});
    seq_of[t] = it->second;
    ++sequences[it->second].tokens;
    ++out->tokens_per_rank[src[t]];
    out->sum_context_per_rank[src[t]] += context[t];
  }

  // Route, condense, count the dispatch; keep each token's sent rows.
  std::unordered_set<ClusterKey, ClusterKeyHash> heads;
  std::vector<uint32_t> sent_ranks;     // the ranks of every token's sent rows, flattened
  std::vector<size_t> sent_begin(n + 1, 0);
  std::vector<uint64_t> f(sequences.size() * d, 0);
  std::vector<uint32_t> at(d, 0);
  Counter counter(ctx, /*hierarchical=*/false, out);
  dispatch::RoutedToken routed;
  for (size_t t = 0; t < n; ++t) {
    const dispatch::TokenView token = ViewOf(layer, t);
    strategy.Route(token, src[t], ctx, &routed);
    const uint64_t cluster = static_cast<uint64_t>(context[t] - 1) / p.cluster_tokens;
    size_t kept = 0;
    for (const dispatch::DispatchRow& row : routed.rows) {
      const bool head = p.cluster_tokens == 1 ||
                        heads.insert({sequences[seq_of[t]].id, cluster, src[t],
                                      routed.experts[row.first]})
                            .second;
      if (head)
        routed.rows[kept++] = row;
      else
        ++out->condensed_pairs;
    }
    routed.rows.resize(kept);
    counter.Add(token, src[t], routed);
    sent_begin[t] = sent_ranks.size();
    std::fill(at.begin(), at.end(), 0);
    for (const dispatch::DispatchRow& row : routed.rows) {
      sent_ranks.push_back(row.rank);
      ++at[row.rank];
    }
    uint64_t* fs = &f[size_t{seq_of[t]} * d];
    for (uint32_t j = 0; j < d; ++j)
      fs[j] += kept - at[j] + (src[t] != j && (homes->shared_experts || at[j] == 0));
  }
  sent_begin[n] = sent_ranks.size();

  // Migrate.
  std::vector<uint32_t> order(sequences.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return sequences[a].tokens > sequences[b].tokens;
  });
  const auto capacity = static_cast<uint64_t>(
      std::ceil(static_cast<double>(n) / d * (100.0 + p.slack_percent) / 100.0));
  std::vector<uint64_t> load(d, 0);
  std::vector<double> attention(d, 0.0);
  const auto stay = [&](LayerSequence& seq) {
    seq.stays = true;
    std::vector<uint64_t> on(d, 0);
    for (size_t t = 0; t < n; ++t)
      if (layer.sequence_ids[t] == seq.id) ++on[src[t]];
    for (uint32_t j = 0; j < d; ++j) {
      load[j] += on[j];
      if (on[j] > 0) attention[j] += AttentionCost(static_cast<double>(on[j]), homes->hidden);
    }
  };
  for (LayerSequence& seq : sequences)
    if (seq.tokens > capacity) stay(seq);
  std::vector<uint32_t> ranks(d);
  for (uint32_t s : order) {
    LayerSequence& seq = sequences[s];
    if (seq.stays) continue;
    const uint64_t* fs = &f[size_t{s} * d];
    std::iota(ranks.begin(), ranks.end(), 0);
    std::stable_sort(ranks.begin(), ranks.end(), [&](uint32_t a, uint32_t b) {
      if (fs[a] != fs[b]) return fs[a] < fs[b];
      return (a == seq.first_src) > (b == seq.first_src);
    });
    const auto fits = [&](uint32_t j) { return load[j] + seq.tokens <= capacity; };
    int best = -1;
    for (uint32_t c = 0; c < std::min(p.candidates, d); ++c)
      if (fits(ranks[c]) && (best < 0 || attention[ranks[c]] < attention[best]))
        best = static_cast<int>(ranks[c]);
    for (uint32_t c = 0; best < 0 && c < d; ++c)
      if (fits(ranks[c])) best = static_cast<int>(ranks[c]);
    if (best < 0) {
      stay(seq);
      continue;
    }
    seq.dst = static_cast<uint32_t>(best);
    load[seq.dst] += seq.tokens;
    attention[seq.dst] += AttentionCost(static_cast<double>(seq.tokens), homes->hidden);
  }

  // Combine to the destinations.
  for (size_t t = 0; t < n; ++t) {
    const LayerSequence& seq = sequences[seq_of[t]];
    const uint32_t dst = seq.stays ? src[t] : seq.dst;
    bool reaches = false;
    for (size_t i = sent_begin[t]; i < sent_begin[t + 1]; ++i) {
      ++out->combine_rows[size_t{sent_ranks[i]} * d + dst];
      reaches |= sent_ranks[i] == dst;
    }
    if (src[t] != dst) {
      ++out->migrated_tokens;
      if (homes->shared_experts || !reaches) {
        ++out->combine_rows[size_t{src[t]} * d + dst];
        ++out->residual_rows;
      }
    }
    out->combine_inputs_per_rank[dst] += layer.num_topk;
    ++out->tokens_after[dst];
  }
  for (const LayerSequence& seq : sequences)
    if (!seq.stays) homes->rank[seq.id] = seq.dst;
}

}  // namespace

LayerTraffic CountLayer(const trace::LayerRouting& layer, const dispatch::RouteContext& ctx,
                        const dispatch::Strategy& strategy, SequenceHomes* homes) {
  const uint32_t d = ctx.placement.num_ranks(), e = ctx.placement.num_experts();
  LayerTraffic out;
  InitTraffic(d, e, layer.num_tokens(), &out);
  if (const dispatch::LuffyParams* luffy = strategy.luffy()) {
    EPSIM_CHECK(homes != nullptr);
    CountLuffy(layer, ctx, strategy, *luffy, homes, &out);
    return out;
  }
  const dispatch::TokenSplit split(layer.num_tokens(), d);
  out.tokens_per_rank = split.TokensPerRank();
  out.tokens_after = out.tokens_per_rank;
  const std::vector<double> context = CausalContext(layer);
  Counter counter(ctx, strategy.hierarchical(), &out);
  dispatch::RoutedToken routed;
  for (uint32_t src = 0; src < d; ++src) {  // rank by rank: tokens in trace order
    const uint64_t first = split.FirstToken(src);
    for (uint64_t t = first; t < first + split.TokensOn(src); ++t) {
      const dispatch::TokenView token = ViewOf(layer, t);
      strategy.Route(token, src, ctx, &routed);
      counter.Add(token, src, routed);
      out.sum_context_per_rank[src] += context[t];
    }
  }
  // Combine mirrors the dispatch.
  for (uint32_t s = 0; s < d; ++s) {
    for (uint32_t t = 0; t < d; ++t) out.combine_rows[size_t{t} * d + s] = out.rows[size_t{s} * d + t];
    out.combine_inputs_per_rank[s] = out.RowsFrom(s);
  }
  return out;
}

}  // namespace epsim::plan
