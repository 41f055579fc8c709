// Bounded nonlinear least squares: minimise 1/2 sum r_i(x)^2 over a box
// (Ceres Solver's trust-region Levenberg-Marquardt, central-difference
// Jacobians, one thread, so results are deterministic), then the
// parameters' standard errors from the covariance at the optimum:
//   cov = s^2 (J^T J)^-1,  s^2 = sum r_i^2 / (m - p)
// (pseudo-inverse where J^T J is singular: a direction the residuals do
// not constrain gets no finite error and is reported as such).
#ifndef EPSIM_SIM_CALIBRATE_FIT_H_
#define EPSIM_SIM_CALIBRATE_FIT_H_

#include <functional>
#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::calibrate {

struct FitProblem {
  std::vector<double> start, lower, upper;  // per parameter; lower <= start <= upper
  size_t num_residuals = 0;
  // Fills num_residuals values at x; false when x cannot be evaluated.
  std::function<bool(const std::vector<double>& x, double* residuals)> residuals;
  // Finite-difference step relative to max(|x|, 1): central differences of
  // a simulator whose times carry SimGrid's rounding need a step well above it.
  double relative_step = 1e-3;
  int max_iterations = 100;
};

struct FitResult {
  std::vector<double> x;
  std::vector<double> sigma;  // standard error per parameter; NaN when not determined
  double initial_cost = 0, final_cost = 0;  // 1/2 sum r^2
  int iterations = 0;
  bool converged = false;
  std::string report;  // Ceres' one-line summary
};

// BadInput when the problem is inconsistent (sizes, bounds); Internal when
// the residuals cannot be evaluated at the start.
Result<FitResult> Fit(const FitProblem& problem);

}  // namespace epsim::calibrate

#endif  // EPSIM_SIM_CALIBRATE_FIT_H_
