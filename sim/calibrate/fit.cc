#include "sim/calibrate/fit.h"

#include <cmath>
#include <limits>

#include <ceres/ceres.h>
#include <fmt/format.h>

namespace epsim::calibrate {
namespace {

struct Residuals {
  const FitProblem* problem;
  size_t num_params;
  bool operator()(double const* const* params, double* residuals) const {
    std::vector<double> x(params[0], params[0] + num_params);
    // Difference steps may leave the box: evaluate at its nearest point.
    for (size_t i = 0; i < num_params; ++i)
      x[i] = std::min(std::max(x[i], problem->lower[i]), problem->upper[i]);
    return problem->residuals(x, residuals);
  }
};

}  // namespace

Result<FitResult> Fit(const FitProblem& problem) {
  const size_t p = problem.start.size();
  if (p == 0 || problem.lower.size() != p || problem.upper.size() != p)
    return Status::BadInput("fit: parameter and bound counts differ or are zero");
  if (problem.num_residuals < 1) return Status::BadInput("fit: no residuals");
  for (size_t i = 0; i < p; ++i) {
    if (!(problem.lower[i] <= problem.start[i] && problem.start[i] <= problem.upper[i]))
      return Status::BadInput(fmt::format("fit: parameter {} starts at {} outside [{}, {}]", i,
                                          problem.start[i], problem.lower[i], problem.upper[i]));
  }
  std::vector<double> start_residuals(problem.num_residuals);
  if (!problem.residuals(problem.start, start_residuals.data()))
    return Status::Internal("fit: the residuals cannot be evaluated at the starting point");

  FitResult result;
  result.x = problem.start;
  ceres::NumericDiffOptions diff;
  diff.relative_step_size = problem.relative_step;
  auto* cost = new ceres::DynamicNumericDiffCostFunction<Residuals, ceres::CENTRAL>(
      new Residuals{&problem, p}, ceres::TAKE_OWNERSHIP, diff);
  cost->AddParameterBlock(static_cast<int>(p));
  cost->SetNumResiduals(static_cast<int>(problem.num_residuals));
  ceres::Problem ceres_problem;
  ceres_problem.AddResidualBlock(cost, nullptr, result.x.data());
  for (size_t i = 0; i < p; ++i) {
    ceres_problem.SetParameterLowerBound(result.x.data(), static_cast<int>(i), problem.lower[i]);
    ceres_problem.SetParameterUpperBound(result.x.data(), static_cast<int>(i), problem.upper[i]);
  }
  ceres::Solver::Options options;
  options.linear_solver_type = ceres::DENSE_QR;
  options.max_num_iterations = problem.max_iterations;
  options.num_threads = 1;
  options.logging_type = ceres::SILENT;
  options.minimizer_progress_to_stdout = false;
  options.function_tolerance = 1e-10;
  options.parameter_tolerance = 1e-10;
  options.gradient_tolerance = 1e-12;
  ceres::Solver::Summary summary;
  ceres::Solve(options, &ceres_problem, &summary);
  result.initial_cost = summary.initial_cost;
  result.final_cost = summary.final_cost;
  result.iterations = static_cast<int>(summary.iterations.size());
  result.converged = summary.termination_type == ceres::CONVERGENCE;
  result.report = summary.BriefReport();
  if (!summary.IsSolutionUsable())
    return Status::Internal("fit: the solver found no usable solution: " + result.report);

  result.sigma.assign(p, std::numeric_limits<double>::quiet_NaN());
  const double dof = static_cast<double>(problem.num_residuals) - static_cast<double>(p);
  if (dof > 0) {
    ceres::Covariance::Options cov_options;
    cov_options.algorithm_type = ceres::DENSE_SVD;
    cov_options.null_space_rank = -1;  // drop directions the residuals do not constrain
    cov_options.num_threads = 1;
    ceres::Covariance covariance(cov_options);
    std::vector<std::pair<const double*, const double*>> blocks = {{result.x.data(),
                                                                    result.x.data()}};
    if (covariance.Compute(blocks, &ceres_problem)) {
      std::vector<double> cov(p * p);
      if (covariance.GetCovarianceBlock(result.x.data(), result.x.data(), cov.data())) {
        const double s2 = 2 * result.final_cost / dof;
        for (size_t i = 0; i < p; ++i) {
          // A zero-variance direction is one SVD dropped: not determined.
          const double c = cov[i * p + i];
          if (c > 0 && std::isfinite(c)) result.sigma[i] = std::sqrt(c * s2);
        }
      }
    }
  }
  return result;
}

}  // namespace epsim::calibrate
