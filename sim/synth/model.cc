#include "sim/synth/model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "sim/base/parallel.h"
#include "sim/synth/random.h"

namespace epsim::synth {
namespace {

Status CheckLayer(const LayerRoutingModel& l, uint32_t num_experts, bool first) {
  auto bad = [&](const std::string& what) {
    return Status::BadInput(fmt::format("routing model layer {}: {}", l.layer, what));
  };
  const size_t e = num_experts, m = l.topic_weight.size();
  if (l.popularity.size() != e) return bad(fmt::format("popularity has {} entries, not {}", l.popularity.size(), e));
  for (double p : l.popularity)
    if (!(p > 0) || !std::isfinite(p)) return bad("popularity must be positive and finite");
  if (m == 0) return bad("needs at least one topic");
  if (l.topic_anchor.size() != m || l.topic_boost.size() != m * e)
    return bad(fmt::format("{} topics need {} anchors and {} boosts", m, m, m * e));
  for (size_t z = 0; z < m; ++z) {
    if (!(l.topic_weight[z] >= 0) || !std::isfinite(l.topic_weight[z])) return bad("topic weight < 0");
    if (l.topic_anchor[z] < -1 || l.topic_anchor[z] >= static_cast<int32_t>(e))
      return bad(fmt::format("topic {} anchor {} is not an expert", z, l.topic_anchor[z]));
  }
  if (std::accumulate(l.topic_weight.begin(), l.topic_weight.end(), 0.0) <= 0) return bad("all topic weights are 0");
  for (double b : l.topic_boost)
    if (!(b >= 0) || !std::isfinite(b)) return bad("topic boost must be >= 0 and finite");
  if (!first && l.successor.size() != e) return bad(fmt::format("successor has {} entries, not {}", l.successor.size(), e));
  for (uint32_t s : l.successor)
    if (s >= e) return bad(fmt::format("successor {} >= num_experts {}", s, e));
  if (!std::isfinite(l.carry_strength) || std::abs(l.carry_strength) > 20) return bad("carry_strength out of [-20, 20]");
  if (!(l.sequence_strength >= 0) || l.sequence_strength > 10) return bad("sequence_strength out of [0, 10]");
  return Status::Ok();
}

// Per-layer tables in the form the inner loop wants (floats, premultiplied).
struct LayerTables {
  uint32_t num_topics = 0;
  std::vector<float> weight;        // [M * E] popularity * boost
  std::vector<double> topic_base;   // [M] topic weight * popularity[anchor]
  std::vector<double> topic_cdf;    // [M] when no topic has an anchor
  bool anchored = false;
  float carry = 1;
};

LayerTables MakeTables(const LayerRoutingModel& l, uint32_t e) {
  LayerTables t;
  t.num_topics = l.num_topics();
  t.weight.resize(size_t{t.num_topics} * e);
  // Scale so the largest weight is 1: floats keep their range whatever the input scale.
  double max_w = 0;
  for (uint32_t z = 0; z < t.num_topics; ++z)
    for (uint32_t x = 0; x < e; ++x) max_w = std::max(max_w, l.popularity[x] * l.topic_boost[z * e + x]);
  for (uint32_t z = 0; z < t.num_topics; ++z)
    for (uint32_t x = 0; x < e; ++x)
      t.weight[z * e + x] = std::max(1e-30f, static_cast<float>(l.popularity[x] * l.topic_boost[z * e + x] / max_w));
  double sum = 0;
  for (uint32_t z = 0; z < t.num_topics; ++z) {
    const int32_t a = l.topic_anchor[z];
    t.anchored |= a >= 0;
    t.topic_base.push_back(l.topic_weight[z] * (a >= 0 ? l.popularity[a] : 1.0));
    t.topic_cdf.push_back(sum += t.topic_base.back());
  }
  t.carry = static_cast<float>(std::exp(l.carry_strength));
  return t;
}

// Draws one layer; `prev` is the previous layer's routing (nullptr for none).
class LayerDrawer {
 public:
  LayerDrawer(const RoutingModel& m, const LayerRoutingModel& l, const GenerateOptions& o,
              uint32_t num_candidates, UniformSource* rng)
      : m_(m), l_(l), o_(o), e_(m.num_experts), c_(num_candidates), rng_(rng),
        t_(MakeTables(l, e_)), seq_(e_, 1.f), carry_(e_, 1.f), u_(e_ + 1), r_(e_),
        idx_(c_), keep_(e_), val_(c_), w_(c_), topic_w_(t_.num_topics) {
    std::iota(keep_.begin(), keep_.end(), 0);
  }

  // Draws tokens [begin, end) into `out`'s rows, which are already sized;
  // `begin` starts a sequence. `rng` must be where the stream is at `begin`.
  void Draw(trace::LayerRouting* out, const trace::LayerRouting* prev, uint64_t begin,
            uint64_t end) {
    for (uint64_t t = begin; t < end; ++t) {
      const uint64_t s = t / o_.tokens_per_sequence;
      if (t % o_.tokens_per_sequence == 0) NewSequence();
      if (prev != nullptr && !l_.successor.empty())
        for (uint32_t i = 0; i < m_.num_topk; ++i) carry_[l_.successor[prev->topk(t)[i]]] *= t_.carry;
      DrawToken(PickTopic());
      out->token_ids[t] = t;
      out->sequence_ids[t] = s;
      std::copy(idx_.begin(), idx_.end(), out->topk_idx.begin() + t * c_);
      std::copy(w_.begin(), w_.end(), out->topk_weights.begin() + t * c_);
      if (prev != nullptr && !l_.successor.empty())
        for (uint32_t i = 0; i < m_.num_topk; ++i) carry_[l_.successor[prev->topk(t)[i]]] = 1.f;
    }
  }

  // Uniform draws that tokens [begin, end) take from the stream.
  uint64_t DrawsOf(uint64_t begin, uint64_t end) const {
    const uint64_t per_token = (e_ + 1) / 2 + (t_.num_topics == 1 ? 0 : 1);
    uint64_t sequences = 0;
    if (l_.sequence_strength > 0)
      sequences = (end - 1) / o_.tokens_per_sequence - (begin + o_.tokens_per_sequence - 1) / o_.tokens_per_sequence + 1;
    return (end - begin) * per_token + sequences * e_;
  }

 private:
  void NewSequence() {
    if (l_.sequence_strength <= 0) return;
    for (uint32_t x = 0; x < e_; ++x)
      seq_[x] = static_cast<float>(std::exp(l_.sequence_strength * NextNormal(rng_)));
  }

  uint32_t PickTopic() {
    if (t_.num_topics == 1) return 0;
    const std::vector<double>* cdf = &t_.topic_cdf;
    if (t_.anchored) {
      double sum = 0;
      for (uint32_t z = 0; z < t_.num_topics; ++z) {
        const int32_t a = l_.topic_anchor[z];
        topic_w_[z] = sum += t_.topic_base[z] * (a >= 0 ? double{seq_[a]} * carry_[a] : 1.0);
      }
      cdf = &topic_w_;
    }
    const double u = rng_->Next() * cdf->back();
    const auto it = std::upper_bound(cdf->begin(), cdf->end(), u);
    return static_cast<uint32_t>(std::min<size_t>(it - cdf->begin(), t_.num_topics - 1));
  }

  // Exponential race: r_e = w_e / X_e with X_e ~ Exp(1) is exp(log w_e + Gumbel).
  void DrawToken(uint32_t z) {
    for (uint32_t x = 0; x < e_; x += 2) rng_->NextPair(&u_[x], &u_[x + 1]);
    const float* w = t_.weight.data() + size_t{z} * e_;
    // Separate simple loops, so that the compiler vectorises them.
    float* __restrict r = r_.data();
    const float* __restrict u = u_.data();
    const float* __restrict seq = seq_.data();
    const float* __restrict carry = carry_.data();
    for (uint32_t x = 0; x < e_; ++x) r[x] = -FastLog(u[x]);
    for (uint32_t x = 0; x < e_; ++x) r[x] = w[x] * seq[x] * carry[x] / r[x];
    // The c largest, largest first, ties to the lower index. Cut first: the
    // maxima of c disjoint blocks are c distinct entries, so the c-th
    // largest is at least the least of them, and entries below that bound
    // cannot be chosen. The survivors (about half at E = 4c) keep their
    // index order, so the insertion below sees the ties as before.
    uint32_t m = e_;
    const uint32_t block = e_ / c_;
    if (block >= 2) {
      float bound = std::numeric_limits<float>::max();
      for (uint32_t b = 0; b < c_; ++b) {
        float top = r[b * block];
        for (uint32_t j = 1; j < block; ++j) top = std::max(top, r[b * block + j]);
        bound = std::min(bound, top);
      }
      m = 0;
      for (uint32_t x = 0; x < e_; ++x) {  // branch-free compaction
        keep_[m] = x;
        m += r[x] >= bound;
      }
    }  // else keep_ is 0..E-1 (the constructor's)
    uint32_t n = 0;
    for (uint32_t j = 0; j < m; ++j) {
      const uint32_t x = keep_[j];
      if (n == c_ && r_[x] <= val_[c_ - 1]) continue;
      uint32_t i = n < c_ ? n++ : c_ - 1;
      for (; i > 0 && val_[i - 1] < r_[x]; --i) val_[i] = val_[i - 1], idx_[i] = idx_[i - 1];
      val_[i] = r_[x], idx_[i] = x;
    }
    Scores();
  }

  // Sum of E floats in four independent chains (no add-latency stall).
  double SumOf(const float* v) const {
    double part[4] = {0, 0, 0, 0};
    uint32_t x = 0;
    for (; x + 4 <= e_; x += 4)
      for (uint32_t j = 0; j < 4; ++j) part[j] += v[x + j];
    for (; x < e_; ++x) part[0] += v[x];
    return (part[0] + part[1]) + (part[2] + part[3]);
  }

  void Scores() {
    const float tau = static_cast<float>(m_.score_sharpness);
    double sum = 0;
    if (tau == 1.f) {
      sum = SumOf(r_.data());
      for (uint32_t i = 0; i < c_; ++i) w_[i] = static_cast<float>(val_[i] / sum);
    } else {
      // r^tau relative to the top score, in loops the compiler vectorises
      // (u_ is free scratch by now).
      const float top = FastLog(val_[0]);
      float* __restrict p = u_.data();
      const float* __restrict r = r_.data();
      for (uint32_t x = 0; x < e_; ++x) p[x] = FastLog(r[x]);
      for (uint32_t x = 0; x < e_; ++x) p[x] = FastExp(std::max(-80.f, tau * (p[x] - top)));
      sum = SumOf(p);
      for (uint32_t i = 0; i < c_; ++i)
        w_[i] = static_cast<float>(FastExp(std::max(-80.f, tau * (FastLog(val_[i]) - top))) / sum);
    }
    if (!m_.normalize_topk) return;
    float topk = 0;
    for (uint32_t i = 0; i < m_.num_topk; ++i) topk += w_[i];
    for (uint32_t i = 0; i < c_; ++i) w_[i] /= topk;
  }

  const RoutingModel& m_;
  const LayerRoutingModel& l_;
  const GenerateOptions& o_;
  const uint32_t e_, c_;
  UniformSource* rng_;
  LayerTables t_;
  std::vector<float> seq_, carry_, u_, r_;
  std::vector<uint32_t> idx_, keep_;
  std::vector<float> val_, w_;
  std::vector<double> topic_w_;
};

}  // namespace

Status ValidateRoutingModel(const RoutingModel& m) {
  if (m.num_experts == 0 || m.num_topk == 0 || m.num_topk > m.num_experts)
    return Status::BadInput(fmt::format("routing model: top-{} of {} experts is impossible",
                                        m.num_topk, m.num_experts));
  if (m.layers.empty()) return Status::BadInput("routing model: no layers");
  if (!(m.score_sharpness > 0) || m.score_sharpness > 10)
    return Status::BadInput("routing model: score_sharpness out of (0, 10]");
  for (size_t i = 0; i < m.layers.size(); ++i) {
    if (i > 0 && m.layers[i].layer <= m.layers[i - 1].layer)
      return Status::BadInput("routing model: layers not ascending");
    EPSIM_RETURN_IF_ERROR(CheckLayer(m.layers[i], m.num_experts, i == 0));
  }
  return Status::Ok();
}

void SetGroupTopics(LayerRoutingModel* l, uint32_t e, uint32_t num_groups, double strength,
                    uint64_t seed) {
  num_groups = std::clamp<uint32_t>(num_groups, 1, e);
  UniformSource rng(seed);
  std::vector<uint32_t> perm(e);
  std::iota(perm.begin(), perm.end(), 0);
  for (uint32_t i = e - 1; i > 0; --i) std::swap(perm[i], perm[rng.Below(i + 1)]);
  l->topic_weight.assign(num_groups, 1.0);
  l->topic_anchor.assign(num_groups, -1);
  l->topic_boost.assign(size_t{num_groups} * e, 1.0);
  const double boost = std::exp(strength);
  for (uint32_t i = 0; i < e; ++i) l->topic_boost[size_t{i % num_groups} * e + perm[i]] = boost;
}

Result<RoutingModel> BuildStructuredModel(const StructuredModelOptions& o) {
  RoutingModel m;
  m.model = o.model;
  m.description = fmt::format(
      "structured: skew {} groups {} group_strength {} sequence_strength {} carry_strength {} seed {}",
      o.popularity_skew, o.num_groups, o.group_strength, o.sequence_strength, o.carry_strength, o.seed);
  m.num_experts = o.num_experts;
  m.num_topk = o.num_topk;
  m.score_sharpness = o.score_sharpness;
  UniformSource rng(o.seed);
  for (size_t i = 0; i < o.layers.size(); ++i) {
    LayerRoutingModel& l = m.layers.emplace_back();
    l.layer = o.layers[i];
    for (uint32_t x = 0; x < o.num_experts; ++x)
      l.popularity.push_back(std::exp(o.popularity_skew * NextNormal(&rng)));
    SetGroupTopics(&l, o.num_experts, o.num_groups, o.group_strength, o.seed * 1000003 + i);
    l.sequence_strength = o.sequence_strength;
    if (i == 0) continue;
    l.carry_strength = o.carry_strength;
    l.successor.resize(o.num_experts);
    std::iota(l.successor.begin(), l.successor.end(), 0);
    for (uint32_t x = o.num_experts - 1; x > 0; --x) std::swap(l.successor[x], l.successor[rng.Below(x + 1)]);
  }
  EPSIM_RETURN_IF_ERROR(ValidateRoutingModel(m).WithContext("structured model"));
  return m;
}

Result<trace::Trace> GenerateModelTrace(const RoutingModel& m, const GenerateOptions& o) {
  EPSIM_RETURN_IF_ERROR(ValidateRoutingModel(m));
  const uint32_t c = o.num_candidates == 0 ? m.num_topk : o.num_candidates;
  if (c < m.num_topk || c > m.num_experts)
    return Status::Usage(fmt::format("synthetic trace: {} candidates, need {}..{}", c, m.num_topk, m.num_experts));
  if (o.num_tokens == 0 || o.tokens_per_sequence == 0)
    return Status::Usage("synthetic trace: needs tokens and sequence length > 0");
  trace::Trace trace;
  proto::TraceHeader& h = trace.header;
  h.set_version(1);
  h.set_model(m.model);
  h.set_num_experts(m.num_experts);
  h.set_num_topk(m.num_topk);
  h.set_num_candidates(c);
  h.set_num_layers(static_cast<uint32_t>(m.layers.size()));
  h.mutable_provenance()->set_source_format("synthetic-structured");
  h.mutable_provenance()->set_tool("epsim synth (structured)");
  h.mutable_provenance()->set_seed(o.seed);
  h.mutable_provenance()->set_description(m.description);
  UniformSource rng(o.seed);
  for (size_t i = 0; i < m.layers.size(); ++i) {
    proto::LayerInfo* info = h.add_layers();
    info->set_layer(m.layers[i].layer);
    info->set_num_tokens(o.num_tokens);
    trace::LayerRouting& routing = trace.layers.emplace_back();
    routing.layer = m.layers[i].layer;
    routing.num_topk = m.num_topk;
    routing.num_candidates = c;
    routing.token_ids.resize(o.num_tokens);
    routing.sequence_ids.resize(o.num_tokens);
    routing.topk_idx.resize(o.num_tokens * c);
    routing.topk_weights.resize(o.num_tokens * c);
    const trace::LayerRouting* prev = i == 0 ? nullptr : &trace.layers[i - 1];
    // Tokens depend on each other only within a sequence: the layer splits
    // at the sequence boundary nearest its middle, and the second part's
    // stream starts where the first part's would end (the draws per token
    // and per sequence are fixed), so the trace is the one a single stream
    // gives, bit for bit.
    const uint64_t seq = o.tokens_per_sequence;
    const uint64_t split = std::min(o.num_tokens, (o.num_tokens / 2 + seq / 2) / seq * seq);
    // Below about 2^18 draws a layer takes well under a millisecond: not
    // worth a thread.
    const bool two = WorkerThreads() > 1 && split > 0 && split < o.num_tokens &&
                     o.num_tokens * m.num_experts >= (uint64_t{1} << 18);
    LayerDrawer first(m, m.layers[i], o, c, &rng);
    if (!two) {
      first.Draw(&routing, prev, 0, o.num_tokens);
      continue;
    }
    UniformSource second_rng = rng;
    LayerDrawer second(m, m.layers[i], o, c, &second_rng);
    ParallelFor(2, [&](size_t part) {
      if (part == 0) {
        first.Draw(&routing, prev, 0, split);
      } else {
        second_rng.Discard(first.DrawsOf(0, split));
        second.Draw(&routing, prev, split, o.num_tokens);
      }
    });
    rng = second_rng;  // the stream after the layer
  }
  return trace;
}

}  // namespace epsim::synth
