// The bounded least-squares fit on closed-form models: exact recovery from
// exact data, the bound that holds when the optimum lies outside the box,
// standard errors that cover the truth on seeded noisy data, bad problems.
#include "sim/calibrate/fit.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace epsim::calibrate {
namespace {

// y(t) = a * exp(-b t) + c at t = 0, 0.5, ..., relative residuals.
FitProblem Decay(const std::vector<double>& y, const std::vector<double>& t) {
  FitProblem p;
  p.start = {1, 1, 1};
  p.lower = {0, 0, 0};
  p.upper = {100, 10, 100};
  p.num_residuals = y.size();
  p.residuals = [y, t](const std::vector<double>& x, double* r) {
    for (size_t i = 0; i < y.size(); ++i) r[i] = (x[0] * std::exp(-x[1] * t[i]) + x[2] - y[i]) / y[i];
    return true;
  };
  return p;
}

std::vector<double> Times() {
  std::vector<double> t;
  for (int i = 0; i < 12; ++i) t.push_back(0.5 * i);
  return t;
}

TEST(FitTest, RecoversExactParameters) {
  const std::vector<double> t = Times();
  std::vector<double> y;
  for (double ti : t) y.push_back(7.5 * std::exp(-0.8 * ti) + 2.25);
  Result<FitResult> fit = Fit(Decay(y, t));
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_NEAR(fit->x[0], 7.5, 1e-6);
  EXPECT_NEAR(fit->x[1], 0.8, 1e-6);
  EXPECT_NEAR(fit->x[2], 2.25, 1e-6);
  EXPECT_LT(fit->final_cost, 1e-14);
  EXPECT_GT(fit->initial_cost, fit->final_cost);
  // Exact data: every direction determined, with zero error.
  for (double s : fit->sigma) EXPECT_NEAR(s, 0, 1e-6);
}

TEST(FitTest, StopsAtTheBoundWhenTheOptimumIsOutside) {
  const std::vector<double> t = Times();
  std::vector<double> y;
  for (double ti : t) y.push_back(7.5 * std::exp(-0.8 * ti) + 2.25);
  FitProblem p = Decay(y, t);
  p.upper[2] = 1.5;  // c's optimum, 2.25, is outside
  p.start[2] = 1.0;
  Result<FitResult> fit = Fit(p);
  ASSERT_TRUE(fit.ok());
  EXPECT_DOUBLE_EQ(fit->x[2], 1.5);
  EXPECT_GT(fit->final_cost, 1e-6);
}

TEST(FitTest, NoisyDataAreCoveredByTheStandardErrors) {
  const std::vector<double> t = Times();
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 0.01);
  std::vector<double> y;
  for (double ti : t) y.push_back((7.5 * std::exp(-0.8 * ti) + 2.25) * (1 + noise(rng)));
  Result<FitResult> fit = Fit(Decay(y, t));
  ASSERT_TRUE(fit.ok());
  const double truth[3] = {7.5, 0.8, 2.25};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(std::isfinite(fit->sigma[i]));
    EXPECT_GT(fit->sigma[i], 0);
    EXPECT_LT(std::fabs(fit->x[i] - truth[i]), 4 * fit->sigma[i]) << "parameter " << i;
    EXPECT_LT(fit->sigma[i], 0.1 * truth[i]) << "parameter " << i;
  }
}

TEST(FitTest, RefusesInconsistentProblems) {
  FitProblem p = Decay({1, 2}, {0, 1});
  p.start = {1, 20, 1};  // above b's bound
  Result<FitResult> fit = Fit(p);
  ASSERT_FALSE(fit.ok());
  EXPECT_NE(fit.status().message().find("parameter 1 starts at 20 outside"), std::string::npos)
      << fit.status().message();
  p = Decay({1, 2}, {0, 1});
  p.lower.pop_back();
  EXPECT_FALSE(Fit(p).ok());
  p = Decay({1, 2}, {0, 1});
  p.residuals = [](const std::vector<double>&, double*) { return false; };
  fit = Fit(p);
  ASSERT_FALSE(fit.ok());
  EXPECT_EQ(fit.status().code(), Status::Code::kInternal);
}

}  // namespace
}  // namespace epsim::calibrate
