#include "hw/common/verify.h"

#include <cmath>
#include <functional>
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

// dx = J(x)^T g in double by the definition; also the magnitude M of the
// products that make it (verify.h).
void ReferenceFfnBackward(const FfnWeights& w, const std::vector<double>& x,
                          const std::vector<double>& g, std::vector<double>* dx,
                          std::vector<double>* m) {
  const uint32_t h_n = w.hidden, f_n = w.width;
  std::vector<double> a(f_n, 0.0), b(f_n, 0.0), dh(f_n, 0.0), dh_abs(f_n, 0.0);
  for (uint32_t h = 0; h < h_n; ++h)
    for (uint32_t f = 0; f < f_n; ++f) {
      a[f] += x[h] * w.gate[size_t{h} * f_n + f];
      b[f] += x[h] * w.up[size_t{h} * f_n + f];
    }
  for (uint32_t f = 0; f < f_n; ++f)
    for (uint32_t h = 0; h < h_n; ++h) {
      const double term = w.down[size_t{f} * h_n + h] * g[h];
      dh[f] += term;
      dh_abs[f] += std::fabs(term);
    }
  dx->assign(h_n, 0.0);
  m->assign(h_n, 0.0);
  for (uint32_t f = 0; f < f_n; ++f) {
    const double s = 1.0 / (1.0 + std::exp(-a[f]));
    const double dsilu = s * (1.0 + a[f] * (1.0 - s));
    const double da = dh[f] * b[f] * dsilu, db = dh[f] * a[f] * s;
    const double da_abs = dh_abs[f] * std::fabs(b[f] * dsilu);
    const double db_abs = dh_abs[f] * std::fabs(a[f] * s);
    for (uint32_t h = 0; h < h_n; ++h) {
      const double wg = w.gate[size_t{h} * f_n + f], wu = w.up[size_t{h} * f_n + f];
      (*dx)[h] += wg * da + wu * db;
      (*m)[h] += std::fabs(wg) * da_abs + std::fabs(wu) * db_abs;
    }
  }
}

// One expert's weighted reference for one token (its gate weight, and
// whether its row carries it alone), and the magnitude that scales the
// rounding term, per element.
using TokenReference =
    std::function<void(const FfnWeights& w, uint64_t token, double weight, bool alone,
                       std::vector<double>* value, std::vector<double>* mag)>;

// Compares `got` (num_tokens x hidden) with the sum over each token's routed
// experts of their references, element by element, with tolerance
// tol_value * sum |ref| + tol_mag * sum mag + 1e-6.
LayerCheck CheckAgainst(const proto::Model& model, const proto::LayerRoutes& routes,
                        const SeededData& data, uint64_t first_token, uint64_t num_tokens,
                        const float* got, double tol_value, double tol_mag,
                        const TokenReference& reference, const char* what) {
  const uint32_t hidden = model.hidden();
  std::vector<double> ref(num_tokens * hidden, 0.0), mag(ref.size(), 0.0), mag_abs(ref.size(), 0.0);
  // Tokens by expert, so one expert's weights are made at a time.
  struct Use {
    uint64_t token;
    double weight;
    bool alone;  // its row (the routes' row_count) holds this expert only
  };
  std::map<uint32_t, std::vector<Use>> uses;
  for (uint64_t t = 0; t < num_tokens; ++t) {
    const uint64_t g = first_token + t;
    const uint32_t base = routes.expert_offsets(g);
    std::vector<bool> alone(routes.expert_offsets(g + 1) - base, false);
    for (uint32_t r = routes.row_offsets(g); r < routes.row_offsets(g + 1); ++r)
      if (routes.row_count(r) == 1 && routes.row_first(r) < alone.size())
        alone[routes.row_first(r)] = true;
    for (uint32_t i = base; i < routes.expert_offsets(g + 1); ++i)
      uses[routes.experts(i)].push_back({t, routes.weights(i), alone[i - base]});
  }
  std::vector<double> y, y_abs;
  for (const auto& [expert, tokens] : uses) {
    const FfnWeights w = data.Ffn(expert, hidden, model.moe_intermediate());
    for (const Use& u : tokens) {
      reference(w, first_token + u.token, u.weight, u.alone, &y, &y_abs);
      for (uint32_t h = 0; h < hidden; ++h) {
        ref[u.token * hidden + h] += y[h];
        mag[u.token * hidden + h] += std::fabs(y[h]);
        mag_abs[u.token * hidden + h] += y_abs[h];
      }
    }
  }
  LayerCheck check;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double tol = tol_value * mag[i] + tol_mag * mag_abs[i] + 1e-6;
    const double err = std::fabs(static_cast<double>(got[i]) - ref[i]);
    ++check.checked;
    check.max_ratio = std::max(check.max_ratio, std::isfinite(err) ? err / tol : INFINITY);
    if (err <= tol) continue;  // NaN fails here too
    if (check.wrong++ == 0)
      check.first_wrong =
          fmt::format("layer {} token {} element {}{}: got {}, want {} (tolerance {})",
                      routes.layer(), first_token + i / hidden, i % hidden, what, got[i], ref[i],
                      tol);
  }
  return check;
}

}  // namespace

LayerCheck CheckLayerOutputs(const proto::Model& model, const proto::LayerRoutes& routes,
                             const SeededData& data, uint64_t first_token, uint64_t num_tokens,
                             const float* out, double compute_rounding) {
  const uint32_t hidden = model.hidden();
  std::vector<float> row(hidden);
  std::vector<double> x(hidden);
  const TokenReference forward = [&](const FfnWeights& w, uint64_t token, double weight, bool,
                                     std::vector<double>* y, std::vector<double>* y_abs) {
    data.TokenRow(token, hidden, row.data());
    for (uint32_t h = 0; h < hidden; ++h) x[h] = row[h];
    ReferenceFfn(w, x, y, y_abs);
    for (uint32_t h = 0; h < hidden; ++h) {
      (*y)[h] *= weight;
      (*y_abs)[h] *= std::fabs(weight);
    }
  };
  return CheckAgainst(model, routes, data, first_token, num_tokens, out, 0x1p-6,
                      4 * compute_rounding, forward, "");
}

LayerCheck CheckLayerInputGradients(const proto::Model& model, const proto::LayerRoutes& routes,
                                    const SeededData& data, uint64_t first_token,
                                    uint64_t num_tokens, const float* dx,
                                    double compute_rounding) {
  const uint32_t hidden = model.hidden();
  std::vector<float> row(hidden);
  std::vector<double> x(hidden), g(hidden);
  const bool bf16_wire = model.combine_bytes() == 2;
  const TokenReference backward = [&](const FfnWeights& w, uint64_t token, double weight,
                                      bool alone, std::vector<double>* value,
                                      std::vector<double>* mag) {
    data.TokenRow(token, hidden, row.data());
    for (uint32_t h = 0; h < hidden; ++h) x[h] = row[h];
    data.GradRow(token, hidden, row.data());
    // The expert's output gradient as it arrives: a row of its own is
    // weighted before it crosses the wire, so it is rounded there.
    for (uint32_t h = 0; h < hidden; ++h) {
      const float dy = static_cast<float>(weight) * row[h];
      g[h] = alone && bf16_wire ? RoundBf16(dy) : static_cast<double>(weight) * row[h];
    }
    ReferenceFfnBackward(w, x, g, value, mag);
  };
  return CheckAgainst(model, routes, data, first_token, num_tokens, dx, 0x1p-6,
                      8 * compute_rounding, backward, " of the input gradient");
}

}  // namespace epsim::hw
