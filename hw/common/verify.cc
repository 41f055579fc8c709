#include "hw/common/verify.h"

#include <cmath>
#include <map>
#include <vector>

#include <fmt/format.h>

namespace epsim::hw {
namespace {

// y = FFN(x) in double by the definition; also |W_down| |a| per output.
void ReferenceFfn(const FfnWeights& w, const std::vector<double>& x, std::vector<double>* y,
                  std::vector<double>* y_abs) {
  const uint32_t h_n = w.hidden, f_n = w.width;
  std::vector<double> g(f_n, 0.0), u(f_n, 0.0);
  for (uint32_t h = 0; h < h_n; ++h)
    for (uint32_t f = 0; f < f_n; ++f) {
      g[f] += x[h] * w.gate[size_t{h} * f_n + f];
      u[f] += x[h] * w.up[size_t{h} * f_n + f];
    }
  y->assign(h_n, 0.0);
  y_abs->assign(h_n, 0.0);
  for (uint32_t f = 0; f < f_n; ++f) {
    const double a = g[f] / (1.0 + std::exp(-g[f])) * u[f];
    for (uint32_t h = 0; h < h_n; ++h) {
      const double term = a * w.down[size_t{f} * h_n + h];
      (*y)[h] += term;
      (*y_abs)[h] += std::fabs(term);
    }
  }
}

}  // namespace

LayerCheck CheckLayerOutputs(const proto::Model& model, const proto::LayerRoutes& routes,
                             const SeededData& data, uint64_t first_token, uint64_t num_tokens,
                             const float* out, double compute_rounding) {
  const uint32_t hidden = model.hidden();
  std::vector<double> ref(num_tokens * hidden, 0.0), mag(ref.size(), 0.0), mag_abs(ref.size(), 0.0);
  // Tokens by expert, so one expert's weights are made at a time.
  std::map<uint32_t, std::vector<std::pair<uint64_t, double>>> uses;
  for (uint64_t t = 0; t < num_tokens; ++t) {
    const uint64_t g = first_token + t;
    for (uint32_t i = routes.expert_offsets(g); i < routes.expert_offsets(g + 1); ++i)
      uses[routes.experts(i)].push_back({t, routes.weights(i)});
  }
  std::vector<float> row(hidden);
  std::vector<double> x(hidden), y, y_abs;
  for (const auto& [expert, tokens] : uses) {
    const FfnWeights w = data.Ffn(expert, hidden, model.moe_intermediate());
    for (const auto& [t, weight] : tokens) {
      data.TokenRow(first_token + t, hidden, row.data());
      for (uint32_t h = 0; h < hidden; ++h) x[h] = row[h];
      ReferenceFfn(w, x, &y, &y_abs);
      for (uint32_t h = 0; h < hidden; ++h) {
        ref[t * hidden + h] += weight * y[h];
        mag[t * hidden + h] += std::fabs(weight * y[h]);
        mag_abs[t * hidden + h] += std::fabs(weight) * y_abs[h];
      }
    }
  }
  LayerCheck check;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double tol = std::ldexp(mag[i], -6) + 4 * compute_rounding * mag_abs[i] + 1e-6;
    const double err = std::fabs(static_cast<double>(out[i]) - ref[i]);
    ++check.checked;
    check.max_ratio = std::max(check.max_ratio, std::isfinite(err) ? err / tol : INFINITY);
    if (err <= tol) continue;  // NaN fails here too
    if (check.wrong++ == 0)
      check.first_wrong = fmt::format("layer {} token {} element {}: got {}, want {} (tolerance {})",
                                      routes.layer(), first_token + i / hidden, i % hidden, out[i],
                                      ref[i], tol);
  }
  return check;
}

}  // namespace epsim::hw
