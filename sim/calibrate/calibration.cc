#include "sim/calibrate/calibration.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "sim/calibrate/evaluate.h"
#include "sim/calibrate/fit.h"
#include "sim/calibrate/parameters.h"
#include "sim/topology/topology.h"

namespace epsim::calibrate {
namespace {

// Two parameters whose effects on the training measurements (vectors of
// relative changes) are this close in direction cannot be told apart by
// them: bandwidth and payload efficiency on one route, two latencies that
// every message pays. The later one stays at its stock value.
constexpr double kSameEffectCosine = 0.995;

// The simulated seconds of every observation on `topo`.
Result<std::vector<double>> Predict(const proto::Topology& topo, const MeasurementSet& set,
                                    const engine::SimOptions& sim) {
  EPSIM_RETURN_IF_ERROR(topology::ValidateTopology(topo));
  EPSIM_ASSIGN_OR_RETURN(std::vector<proto::Report> reports,
                         SimulateInChild(topo, set.schedules, sim));
  if (reports.size() != set.schedules.size())
    return Status::Internal("the simulation returned a report count that differs");
  std::vector<double> out;
  out.reserve(set.observations.size());
  for (const Observation& o : set.observations)
    out.push_back(SimulatedSeconds(o, reports[o.schedule]));
  return out;
}

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

Result<HoldoutRule> ParseHoldout(const std::string& text) {
  HoldoutRule r;
  if (text == "sizes") return r;
  if (text == "none") {
    r.kind = HoldoutRule::Kind::kNone;
    return r;
  }
  if (text.rfind("ranks=", 0) == 0) {
    const std::string n = text.substr(6);
    const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), r.num_ranks);
    if (ec != std::errc() || end != n.data() + n.size() || r.num_ranks == 0)
      return Status::Usage(fmt::format("--holdout {}: '{}' is not a rank count", text, n));
    r.kind = HoldoutRule::Kind::kRanks;
    return r;
  }
  if (text.rfind("strategy=", 0) == 0 && text.size() > 9) {
    r.kind = HoldoutRule::Kind::kStrategy;
    r.strategy = text.substr(9);
    return r;
  }
  return Status::Usage(fmt::format(
      "--holdout '{}': expected sizes, ranks=N, strategy=NAME or none", text));
}

std::vector<bool> HeldOut(const std::vector<Observation>& obs,
                          const std::vector<HoldoutRule>& rules) {
  std::vector<bool> held(obs.size(), false);
  // Distinct sizes per series, sorted: odd positions are held out.
  std::map<std::string, std::set<uint64_t>> sizes;
  for (const Observation& o : obs) sizes[o.series].insert(o.size);
  for (size_t i = 0; i < obs.size(); ++i) {
    for (const HoldoutRule& r : rules) {
      switch (r.kind) {
        case HoldoutRule::Kind::kNone: break;
        case HoldoutRule::Kind::kEveryOtherSize: {
          const std::set<uint64_t>& s = sizes[obs[i].series];
          const auto pos = std::distance(s.begin(), s.find(obs[i].size));
          if (pos % 2 == 1) held[i] = true;
          break;
        }
        case HoldoutRule::Kind::kRanks:
          if (obs[i].num_ranks == r.num_ranks) held[i] = true;
          break;
        case HoldoutRule::Kind::kStrategy:
          if (obs[i].strategy == r.strategy) held[i] = true;
          break;
      }
    }
  }
  return held;
}

Result<Calibration> Calibrate(const proto::Topology& stock, const std::string& topology_file,
                              const MeasurementSet& set, const CalibrateOptions& options) {
  if (set.observations.empty()) return Status::Usage("calibrate: no measurements");
  std::string ceiling_note;
  std::vector<Parameter> params = ParametersOf(stock);
  // p2pBandwidthLatencyTest's fastest copy bounds the PCIe links.
  if (!set.pcie_ceilings.empty()) {
    double best = 0;
    for (const LinkCeiling& c : set.pcie_ceilings) best = std::max(best, c.gb_per_s);
    double stock_max = 0;
    for (const proto::Link& l : stock.links())
      if (l.kind() == proto::PCIE) stock_max = std::max(stock_max, l.bw_gb_per_s());
    for (Parameter& p : params) {
      if (p.name == "links.PCIE.bw_gb_per_s") p.upper = std::min(p.upper, best);
      if (p.name == "links.PCIE.bw_scale" && stock_max > 0)
        p.upper = std::min(p.upper, best / stock_max);
      if (p.name.rfind("links.PCIE.bw_", 0) == 0) {
        p.lower = std::min(p.lower, p.upper);
        ceiling_note = fmt::format(
            "PCIe link bandwidth bounded by {:.4g} GB/s, the fastest one-way copy "
            "p2pBandwidthLatencyTest measured ({} matrices; copy engines, not NCCL's transports)",
            best, set.pcie_ceilings.size());
      }
    }
  }
  for (const std::vector<std::string>* names : {&options.fit, &options.fix}) {
    for (const std::string& name : *names) {
      Result<const Parameter*> p = FindParameter(params, name);
      if (!p.ok()) return Status::Usage(p.status().message());  // a flag names it
    }
  }

  const std::vector<bool> held = HeldOut(set.observations, options.holdout);
  std::vector<size_t> training;  // observations the fit uses
  for (size_t i = 0; i < set.observations.size(); ++i)
    if (!held[i] && set.observations[i].fitted) training.push_back(i);
  if (training.empty())
    return Status::Usage("calibrate: the held-out rules leave no measurement to fit");

  EPSIM_ASSIGN_OR_RETURN(std::vector<double> before, Predict(stock, set, options.sim));

  // Which parameters the training measurements respond to.
  std::vector<size_t> free;
  std::vector<std::vector<double>> responses;  // of each free parameter, unit length
  std::vector<std::vector<double>> basis;      // orthonormal basis of their span
  std::vector<std::string> states(params.size(), "not measured");
  for (size_t j = 0; j < params.size(); ++j) {
    const Parameter& p = params[j];
    if (Contains(options.fix, p.name) || (!options.fit.empty() && !Contains(options.fit, p.name))) {
      states[j] = "fixed";
      continue;
    }
    proto::Topology moved = stock;
    const double v = p.get(stock);
    double w = v != 0 ? v * 1.1 : p.scale * 0.1;
    if (w > p.upper) w = v * 0.9;
    p.set(&moved, w);
    Result<std::vector<double>> probe = Predict(moved, set, options.sim);
    if (!probe.ok()) continue;  // a value the model refuses: not fitted
    std::vector<double> response;  // relative change of each training measurement
    bool responds = false;
    for (size_t i : training) {
      const double d = ((*probe)[i] - before[i]) / set.observations[i].measured_s;
      responds |= std::fabs((*probe)[i] - before[i]) > 1e-6 * std::fabs(before[i]) + 1e-12;
      response.push_back(d);
    }
    if (!responds) continue;
    // A parameter whose effect on the training measurements lies in the
    // span of the free ones' (up to kSameEffectCosine) cannot be told apart
    // from them: it stays at its stock value. Gram-Schmidt against an
    // orthonormal basis of the free parameters' responses.
    double norm = 0;
    for (double d : response) norm += d * d;
    norm = std::sqrt(norm);
    for (double& d : response) d /= norm;
    std::vector<double> residual = response;
    for (const std::vector<double>& q : basis) {
      double dot = 0;
      for (size_t i = 0; i < residual.size(); ++i) dot += residual[i] * q[i];
      for (size_t i = 0; i < residual.size(); ++i) residual[i] -= dot * q[i];
    }
    double left = 0;
    for (double d : residual) left += d * d;
    left = std::sqrt(left);
    if (left < std::sqrt(1 - kSameEffectCosine * kSameEffectCosine)) {
      // Name the free parameter whose effect is most alike.
      size_t best = 0;
      double best_dot = -1;
      for (size_t k = 0; k < free.size(); ++k) {
        double dot = 0;
        for (size_t i = 0; i < response.size(); ++i) dot += response[i] * responses[k][i];
        if (std::fabs(dot) > best_dot) best_dot = std::fabs(dot), best = k;
      }
      states[j] = (best_dot > kSameEffectCosine ? "same effect as " : "not separable from ") +
                  params[free[best]].name + (best_dot > kSameEffectCosine ? "" : " and others");
      continue;
    }
    for (double& d : residual) d /= left;
    basis.push_back(std::move(residual));
    free.push_back(j);
    responses.push_back(std::move(response));
  }

  proto::Topology best = stock;
  Calibration out;
  report::CalibrationView& view = out.view;
  view.notes = set.notes;
  if (!ceiling_note.empty()) view.notes.push_back(ceiling_note);
  if (free.empty()) {
    view.notes.push_back("no parameter changes any training measurement: nothing fitted");
    view.solver = "not run";
  } else {
    FitProblem problem;
    for (size_t j : free) {
      const Parameter& p = params[j];
      problem.start.push_back(std::clamp(p.get(stock), p.lower, p.upper) / p.scale);
      problem.lower.push_back(p.lower / p.scale);
      problem.upper.push_back(p.upper / p.scale);
    }
    problem.num_residuals = training.size();
    problem.max_iterations = options.max_iterations;
    auto apply = [&](const std::vector<double>& x) {
      proto::Topology t = stock;
      for (size_t k = 0; k < free.size(); ++k) params[free[k]].set(&t, x[k] * params[free[k]].scale);
      return t;
    };
    problem.residuals = [&](const std::vector<double>& x, double* r) {
      Result<std::vector<double>> sim = Predict(apply(x), set, options.sim);
      if (!sim.ok()) return false;
      for (size_t k = 0; k < training.size(); ++k) {
        const Observation& o = set.observations[training[k]];
        r[k] = ((*sim)[training[k]] - o.measured_s) / o.measured_s;
      }
      return true;
    };
    EPSIM_ASSIGN_OR_RETURN(FitResult fit, Fit(problem));
    best = apply(fit.x);
    view.solver = fmt::format("{} parameters, {} training measurements: {}", free.size(),
                              training.size(), fit.report);
    for (size_t k = 0; k < free.size(); ++k) {
      const double span = problem.upper[k] - problem.lower[k];
      const bool at_bound = fit.x[k] <= problem.lower[k] + 1e-9 * span ||
                            fit.x[k] >= problem.upper[k] - 1e-9 * span;
      states[free[k]] = at_bound ? "at bound" : "fitted";
    }
    std::vector<double> sigma(params.size(), std::nan(""));
    for (size_t k = 0; k < free.size(); ++k) sigma[free[k]] = fit.sigma[k] * params[free[k]].scale;
    for (size_t j = 0; j < params.size(); ++j) {
      const Parameter& p = params[j];
      view.parameters.push_back({p.name, p.unit, p.meaning, p.get(stock), p.get(best), sigma[j],
                                 states[j]});
    }
  }
  if (view.parameters.empty()) {
    for (size_t j = 0; j < params.size(); ++j) {
      const Parameter& p = params[j];
      view.parameters.push_back({p.name, p.unit, p.meaning, p.get(stock), p.get(stock),
                                 std::nan(""), states[j]});
    }
  }
  EPSIM_ASSIGN_OR_RETURN(std::vector<double> after, Predict(best, set, options.sim));

  view.topology_file = topology_file;
  view.topology_name = stock.name();
  view.calibrated_name = stock.name() + "-calibrated";
  view.holdout = options.holdout_text;
  for (const InputFile& f : set.files) view.inputs.emplace_back(f.path, f.sha256);
  for (size_t i = 0; i < set.observations.size(); ++i) {
    const Observation& o = set.observations[i];
    view.points.push_back({o.file, o.where, o.kind, held[i], o.fitted, o.measured_s, before[i],
                           after[i]});
  }
  best.set_name(view.calibrated_name);
  best.set_description(stock.description() + " (calibrated by epsim calibrate from " +
                       topology_file + ")");
  out.calibrated = std::move(best);
  return out;
}

}  // namespace epsim::calibrate
