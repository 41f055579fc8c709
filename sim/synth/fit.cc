#include "sim/synth/fit.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "sim/trace/trace_stats.h"

namespace epsim::synth {
namespace {

// Weight of an expert picked with probability q (Poisson approximation of
// Plackett-Luce inclusion: P(in top k) ~ 1 - exp(-w t) for a common t).
double PoissonWeight(double q) { return -std::log1p(-std::clamp(q, 1e-6, 0.95)); }

// Inclusion probabilities (sum k) from a load vector (uniform when empty).
std::vector<double> Inclusion(const std::vector<double>& load, uint32_t e, uint32_t k) {
  std::vector<double> q(e, double(k) / e);
  const double sum = std::accumulate(load.begin(), load.end(), 0.0);
  if (load.empty() || sum <= 0) return q;
  for (uint32_t x = 0; x < e; ++x) q[x] = load[x] * k / sum;
  return q;
}

// The anchor's own weight, relative to the sum of its pulls: it is then
// nearly always picked, and its first (the topic is "about" it).
constexpr double kAnchorSelf = 4.0;

void NormalizeAnchorRows(LayerRoutingModel* l, uint32_t e) {
  for (uint32_t a = 0; a < e; ++a) {
    double* row = &l->topic_boost[size_t{a} * e];
    double sum = 0;
    for (uint32_t x = 0; x < e; ++x)
      if (x != a) sum += l->popularity[x] * row[x];
    for (uint32_t x = 0; x < e; ++x)
      row[x] = x == a ? kAnchorSelf / l->popularity[a] : std::clamp(row[x] / sum, 1e-9, 1e9);
  }
}

// One anchor topic per expert: drawn as often as the expert is picked,
// pulling towards x with the weight of P(x picked | a picked).
void InitAnchors(LayerRoutingModel* l, const std::vector<double>& coact,
                 const std::vector<double>& q, uint32_t e, uint32_t k) {
  l->topic_weight.resize(e);
  l->topic_anchor.resize(e);
  l->topic_boost.assign(size_t{e} * e, 1.0);
  for (uint32_t a = 0; a < e; ++a) {
    l->topic_anchor[a] = static_cast<int32_t>(a);
    l->topic_weight[a] = q[a] / l->popularity[a];
    double row_sum = 0;
    for (uint32_t x = 0; x < e; ++x)
      if (x != a) row_sum += coact[size_t{a} * e + x];
    const double alpha = std::max(row_sum, 1.0) * 1e-3 / e;  // keeps unseen pairs possible
    for (uint32_t x = 0; x < e; ++x) {
      if (x == a) continue;
      const double cond = (k - 1) * (coact[size_t{a} * e + x] + alpha) / (row_sum + alpha * (e - 1));
      l->topic_boost[size_t{a} * e + x] = PoissonWeight(cond) / l->popularity[x];
    }
  }
  NormalizeAnchorRows(l, e);
}

// Next-layer expert each expert most often leads to.
std::vector<uint32_t> Successors(const std::vector<double>& affinity, uint32_t e) {
  std::vector<uint32_t> succ(e);
  for (uint32_t i = 0; i < e; ++i) {
    const double* row = &affinity[size_t{i} * e];
    succ[i] = static_cast<uint32_t>(std::max_element(row, row + e) - row);
  }
  return succ;
}

trace::CountMatrix ToCounts(const std::vector<double>& m, uint32_t e) {
  trace::CountMatrix c;
  c.Resize(e);
  for (size_t i = 0; i < m.size(); ++i) c.values[i] = static_cast<uint64_t>(std::llround(m[i]));
  return c;
}

double Step(double err, double gain, double limit) { return std::clamp(gain * err, -limit, limit); }

// Everything the calibration loop compares, per layer.
struct LayerGoal {
  std::vector<double> q;           // inclusion probabilities
  std::vector<double> pair;        // P(i and j) per token; empty: none
  double concentration = -1;       // of the affinity from the previous layer
  double lift = -1;
};

class Fitter {
 public:
  Fitter(const FitTargets& t, const FitOptions& o) : t_(t), o_(o), e_(t.num_experts), k_(t.num_topk) {}

  Result<RoutingModel> Run() {
    Init();
    GenerateOptions g;
    g.num_tokens = o_.fit_tokens;
    // Short sequences: many of them, so the calibration sees the expected load
    // and not one draw of a few sequences' preferences (the lift does not
    // depend on the length).
    g.tokens_per_sequence = std::min<uint64_t>(t_.tokens_per_sequence > 0 ? t_.tokens_per_sequence : 64, 64);
    for (int it = 0; it < o_.iterations; ++it) {
      g.seed = o_.seed + 7919 * (it + 1);
      EPSIM_ASSIGN_OR_RETURN(trace::Trace trace, GenerateModelTrace(m_, g));
      Update(trace, g.tokens_per_sequence, std::pow(0.8, it));
    }
    return m_;
  }

 private:
  void Init() {
    m_.model = t_.model;
    m_.num_experts = e_;
    m_.num_topk = k_;
    m_.score_sharpness = o_.score_sharpness;
    m_.normalize_topk = t_.normalize_topk;
    m_.description = fmt::format("fitted to {} by epsim synth (seed {}, {} x {} tokens)", t_.source,
                                 o_.seed, o_.iterations, o_.fit_tokens);
    for (size_t i = 0; i < t_.layers.size(); ++i) InitLayer(i);
  }

  void InitLayer(size_t i) {
    const LayerFitTargets& t = t_.layers[i];
    LayerRoutingModel& l = m_.layers.emplace_back();
    LayerGoal& goal = goals_.emplace_back();
    l.layer = t.layer;
    goal.q = Inclusion(t.load, e_, k_);
    for (double q : goal.q) l.popularity.push_back(PoissonWeight(q));
    if (!t.coact.empty() && k_ > 1) {
      const double n = std::max(SumLoad(t) / k_, 1.0);  // tokens
      goal.pair.resize(t.coact.size());
      for (size_t x = 0; x < t.coact.size(); ++x) goal.pair[x] = t.coact[x] / n;
      InitAnchors(&l, t.coact, goal.q, e_, k_);
    } else {
      SetGroupTopics(&l, e_, o_.num_groups, o_.group_strength, o_.seed * 1000003 + i);
    }
    l.sequence_strength = o_.sequence_strength;
    goal.lift = t.sequence_lift;
    if (goal.lift > 0) l.sequence_strength = 0.3;
    if (i == 0) return;
    const LayerFitTargets& prev = t_.layers[i - 1];
    l.carry_strength = o_.carry_strength;
    if (!prev.affinity.empty()) {
      l.successor = Successors(prev.affinity, e_);
      goal.concentration = trace::AffinityConcentration(ToCounts(prev.affinity, e_));
    } else {
      l.successor.resize(e_);
      std::iota(l.successor.begin(), l.successor.end(), 0);
      std::rotate(l.successor.begin(), l.successor.begin() + (i * 7) % e_, l.successor.end());
    }
  }

  double SumLoad(const LayerFitTargets& t) const {
    double sum = std::accumulate(t.load.begin(), t.load.end(), 0.0);
    if (sum <= 0)  // loads from the matrix: each token's pair count is k (k - 1)
      sum = std::accumulate(t.coact.begin(), t.coact.end(), 0.0) / (k_ - 1);
    return sum;
  }

  void Update(const trace::Trace& trace, uint64_t tokens_per_sequence, double decay) {
    const trace::TraceStats stats = trace::ComputeTraceStats(trace);
    const double n = static_cast<double>(o_.fit_tokens);
    for (size_t i = 0; i < m_.layers.size(); ++i) {
      LayerRoutingModel& l = m_.layers[i];
      const LayerGoal& goal = goals_[i];
      const trace::LayerRoutingStats& s = stats.layers[i];
      for (uint32_t x = 0; x < e_; ++x)
        l.popularity[x] *= std::pow((goal.q[x] + 1 / n) / (s.load[x] / n + 1 / n), 0.8);
      if (!goal.pair.empty()) UpdatePairs(&l, goal, s, n);
      if (goal.concentration >= 0) {
        const double got = trace::AffinityConcentration(stats.layers[i - 1].affinity);
        const double err = (goal.concentration - got) / std::max(goal.concentration, 0.05);
        l.carry_strength = std::clamp(l.carry_strength + Step(err, 4, decay), 0.0, 8.0);
      }
      if (goal.lift > 0) {
        const double got = SequenceLift(trace.layers[i], tokens_per_sequence);
        const double err = std::log(goal.lift) - std::log(std::max(got, 1e-3));
        l.sequence_strength = std::clamp(l.sequence_strength + Step(err, 3, 0.5 * decay), 0.0, 4.0);
      }
    }
    if (t_.top1_share > 0 && k_ > 1) {
      const double err = t_.top1_share - TopOneShare(trace);
      m_.score_sharpness = std::clamp(m_.score_sharpness * std::exp(Step(err, 4, 0.5 * decay)), 0.05, 10.0);
    }
  }

  // Both anchors of a pair pull it; each gets half of the correction.
  void UpdatePairs(LayerRoutingModel* l, const LayerGoal& goal, const trace::LayerRoutingStats& s, double n) {
    const double eps = 1.0 / std::max<double>(t_.num_tokens, 1000);
    for (uint32_t a = 0; a < e_; ++a)
      for (uint32_t x = 0; x < e_; ++x) {
        if (a == x) continue;
        const double got = s.coact.at(a, x) / n;
        l->topic_boost[size_t{a} * e_ + x] *= std::pow((goal.pair[size_t{a} * e_ + x] + eps) / (got + eps), 0.5);
      }
    for (uint32_t a = 0; a < e_; ++a) l->topic_weight[a] = goal.q[a] / l->popularity[a];
    NormalizeAnchorRows(l, e_);
  }

  const FitTargets& t_;
  const FitOptions& o_;
  const uint32_t e_, k_;
  RoutingModel m_;
  std::vector<LayerGoal> goals_;
};

}  // namespace

double SequenceLift(const trace::LayerRouting& layer, uint64_t tokens_per_sequence) {
  std::map<uint64_t, std::map<uint32_t, uint64_t>> per_seq;
  std::map<uint32_t, uint64_t> all;
  std::map<uint64_t, uint64_t> seq_tokens;
  for (size_t t = 0; t < layer.num_tokens(); ++t) {
    const uint64_t s = tokens_per_sequence > 0 ? t / tokens_per_sequence : layer.sequence_ids[t];
    ++seq_tokens[s];
    for (uint32_t i = 0; i < layer.num_topk; ++i) ++per_seq[s][layer.topk(t)[i]], ++all[layer.topk(t)[i]];
  }
  double within = 0, within_pairs = 0, overall = 0;
  for (const auto& [s, counts] : per_seq) {
    for (const auto& [e, c] : counts) within += double(c) * (c - 1);
    within_pairs += double(seq_tokens[s]) * (seq_tokens[s] - 1);
  }
  const double n = static_cast<double>(layer.num_tokens());
  for (const auto& [e, c] : all) overall += double(c) * (c - 1);
  if (per_seq.size() < 2 || within_pairs <= 0 || overall <= 0) return -1;
  return (within / within_pairs) / (overall / (n * (n - 1)));
}

double TopOneShare(const trace::Trace& trace) {
  double sum = 0, n = 0;
  for (const trace::LayerRouting& l : trace.layers)
    for (size_t t = 0; t < l.num_tokens(); ++t) {
      double topk = 0;
      for (uint32_t i = 0; i < l.num_topk; ++i) topk += l.weights(t)[i];
      if (topk > 0) sum += l.weights(t)[0] / topk, n += 1;
    }
  return n > 0 ? sum / n : -1;
}

Result<FitTargets> TargetsFromTrace(const trace::Trace& trace, uint64_t tokens_per_sequence) {
  FitTargets t;
  t.model = trace.header.model();
  t.num_experts = trace.header.num_experts();
  t.num_topk = trace.header.num_topk();
  if (trace.layers.empty()) return Status::BadInput("trace has no layers to fit");
  std::set<uint64_t> seqs(trace.layers[0].sequence_ids.begin(), trace.layers[0].sequence_ids.end());
  if (seqs.size() > 1) tokens_per_sequence = 0;  // the trace's own ids win
  const trace::TraceStats stats = trace::ComputeTraceStats(trace);
  bool normalized = true;
  for (size_t i = 0; i < trace.layers.size(); ++i) {
    const trace::LayerRouting& l = trace.layers[i];
    const trace::LayerRoutingStats& s = stats.layers[i];
    LayerFitTargets& lt = t.layers.emplace_back();
    lt.layer = l.layer;
    lt.load.assign(s.load.begin(), s.load.end());
    lt.coact.assign(s.coact.values.begin(), s.coact.values.end());
    for (uint32_t x = 0; x < t.num_experts; ++x) lt.coact[size_t{x} * t.num_experts + x] = 0;
    if (s.affinity.n > 0 && s.affinity_tokens > 0) lt.affinity.assign(s.affinity.values.begin(), s.affinity.values.end());
    lt.sequence_lift = SequenceLift(l, tokens_per_sequence);
    t.num_tokens = std::max<uint64_t>(t.num_tokens, l.num_tokens());
    for (size_t x = 0; x < l.num_tokens() && normalized; ++x) {
      double topk = 0;
      for (uint32_t j = 0; j < l.num_topk; ++j) topk += l.weights(x)[j];
      normalized = std::abs(topk - 1) < 1e-3;
    }
  }
  t.normalize_topk = normalized;
  t.top1_share = TopOneShare(trace);
  const size_t num_seqs = tokens_per_sequence > 0 ? 0 : seqs.size();
  t.tokens_per_sequence = tokens_per_sequence > 0 ? tokens_per_sequence
                          : num_seqs > 1          ? trace.layers[0].num_tokens() / num_seqs
                                                  : 0;
  return t;
}

Result<RoutingModel> FitRoutingModel(const FitTargets& t, const FitOptions& o) {
  if (t.num_experts == 0 || t.num_topk == 0 || t.num_topk > t.num_experts || t.layers.empty())
    return Status::BadInput(fmt::format("fit targets: top-{} of {} experts over {} layers",
                                        t.num_topk, t.num_experts, t.layers.size()));
  for (const LayerFitTargets& l : t.layers) {
    const size_t e = t.num_experts;
    if ((!l.load.empty() && l.load.size() != e) || (!l.coact.empty() && l.coact.size() != e * e) ||
        (!l.affinity.empty() && l.affinity.size() != e * e))
      return Status::BadInput(fmt::format("fit targets: layer {}: sizes do not match {} experts", l.layer, e));
  }
  if (o.fit_tokens == 0 || o.iterations < 0) return Status::Usage("fit: needs fit tokens > 0");
  return Fitter(t, o).Run();
}

}  // namespace epsim::synth
