#include "sim/synth/uniform.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "sim/synth/random.h"

namespace epsim::synth {

// Declared in random.h; shared by both generators.
double InverseNormalCdf(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549671324905170e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  auto tail = [&](double q) {
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  };
  if (p < kLow) return tail(std::sqrt(-2 * std::log(p)));
  if (p > 1 - kLow) return -tail(std::sqrt(-2 * std::log(1 - p)));
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

namespace {

double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// One token's routing: the k largest of E iid standard-normal logits, drawn
// directly. Which experts hold them is a uniformly random k-subset in random
// order (the logits are iid); their values are the top order statistics,
// U_(E) = V^(1/E), U_(E-j) = U_(E-j+1) V^(1/(E-j)), mapped through the
// inverse normal CDF. The softmax denominator's E - k remaining terms are
// replaced by their conditional mean, (E - k) e^(1/2) Phi(z_k - 1) / Phi(z_k):
// exact selection, scores exact up to that mean. O(k) work per token instead
// of O(E).
void DrawToken(UniformSource* rng, uint32_t num_experts, uint32_t k, uint32_t* idx,
               float* weights, double* logits) {
  for (uint32_t i = 0; i < k; ++i) {
    uint32_t e;
    do {
      e = rng->Below(num_experts);
    } while (std::find(idx, idx + i, e) != idx + i);
    idx[i] = e;
  }
  double u = 1.0;
  for (uint32_t i = 0; i < k; ++i) {
    u *= std::pow(1.0 - rng->Next(), 1.0 / (num_experts - i));  // V in (0, 1]
    logits[i] = InverseNormalCdf(std::clamp(u, 1e-300, 1.0 - 1e-16));
  }
  const double zk = logits[k - 1];
  double sum = (num_experts - k) * std::exp(0.5 - logits[0]) * NormalCdf(zk - 1.0) /
               std::max(NormalCdf(zk), 1e-300);
  for (uint32_t i = 0; i < k; ++i) sum += std::exp(logits[i] - logits[0]);
  for (uint32_t i = 0; i < k; ++i)
    weights[i] = static_cast<float>(std::exp(logits[i] - logits[0]) / sum);
}

}  // namespace

Result<trace::Trace> GenerateUniformTrace(const UniformTraceOptions& o) {
  if (o.num_experts == 0 || o.num_topk == 0 || o.num_topk > o.num_experts)
    return Status::Usage(fmt::format("synthetic trace: top-{} of {} experts is impossible",
                                     o.num_topk, o.num_experts));
  if (o.num_tokens == 0 || o.tokens_per_sequence == 0 || o.layers.empty())
    return Status::Usage("synthetic trace: needs tokens, sequence length and layers > 0");
  trace::Trace trace;
  proto::TraceHeader& h = trace.header;
  h.set_version(1);
  h.set_model(o.model);
  h.set_num_experts(o.num_experts);
  h.set_num_topk(o.num_topk);
  h.set_num_candidates(o.num_topk);
  h.set_num_layers(static_cast<uint32_t>(o.layers.size()));
  h.mutable_provenance()->set_source_format("synthetic-uniform");
  h.mutable_provenance()->set_tool("epsim synth (uniform)");
  h.mutable_provenance()->set_seed(o.seed);
  UniformSource rng(o.seed);
  std::vector<double> logits(o.num_topk);
  std::vector<uint32_t> idx(o.num_topk);
  std::vector<float> weights(o.num_topk);
  for (uint32_t layer : o.layers) {
    proto::LayerInfo* info = h.add_layers();
    info->set_layer(layer);
    info->set_num_tokens(o.num_tokens);
    trace::LayerRouting& routing = trace.layers.emplace_back();
    routing.layer = layer;
    routing.num_topk = routing.num_candidates = o.num_topk;
    for (uint64_t t = 0; t < o.num_tokens; ++t) {
      DrawToken(&rng, o.num_experts, o.num_topk, idx.data(), weights.data(), logits.data());
      routing.Append(t, t / o.tokens_per_sequence, idx.data(), weights.data());
    }
  }
  return trace;
}

}  // namespace epsim::synth
