// The host backend's SwiGLU backward against its definition
// (swiglu_reference.h), and that definition against finite differences
// of the forward.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "hw/host/host_backend.h"
#include "tests/hw/common/swiglu_reference.h"

namespace epsim::hw {
namespace {

std::vector<float> Random(size_t n, uint32_t seed, float scale) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = u(gen);
  return v;
}

// <FFN(x_r), dy_r> in double: the scalar whose gradient the backward is.
double Loss(const std::vector<double>& x, const std::vector<float>& dy, const std::vector<float>& wg,
            const std::vector<float>& wu, const std::vector<float>& wd, size_t h, size_t w) {
  double loss = 0;
  for (size_t f = 0; f < w; ++f) {
    double a = 0, b = 0;
    for (size_t k = 0; k < h; ++k) {
      a += x[k] * wg[k * w + f];
      b += x[k] * wu[k * w + f];
    }
    const double act = a / (1 + std::exp(-a)) * b;
    for (size_t k = 0; k < h; ++k) loss += act * wd[f * h + k] * dy[k];
  }
  return loss;
}

class HostSwigluBackwardTest : public ::testing::Test {
 protected:
  static constexpr size_t kN = 3, kH = 8, kW = 6;
  void SetUp() override {
    x_ = Random(kN * kH, 1, 1.0f);
    dy_ = Random(kN * kH, 2, 1.0f);
    wg_ = Random(kH * kW, 3, 0.5f);
    wu_ = Random(kH * kW, 4, 0.5f);
    wd_ = Random(kW * kH, 5, 0.5f);
  }
  std::vector<float> x_, dy_, wg_, wu_, wd_;
};

TEST_F(HostSwigluBackwardTest, DefinitionMatchesFiniteDifferencesOfTheForward) {
  const testing::SwigluGrads g = testing::SwigluBackwardReference(x_, dy_, wg_, wu_, wd_, kN, kH, kW);
  for (size_t r = 0; r < kN; ++r) {
    const std::vector<float> dy(dy_.begin() + r * kH, dy_.begin() + (r + 1) * kH);
    for (size_t k = 0; k < kH; ++k) {
      std::vector<double> plus(x_.begin() + r * kH, x_.begin() + (r + 1) * kH), minus = plus;
      const double eps = 1e-5;
      plus[k] += eps;
      minus[k] -= eps;
      const double numeric =
          (Loss(plus, dy, wg_, wu_, wd_, kH, kW) - Loss(minus, dy, wg_, wu_, wd_, kH, kW)) / (2 * eps);
      EXPECT_NEAR(g.dx[r * kH + k], numeric, 1e-7) << r << "," << k;
    }
  }
}

TEST_F(HostSwigluBackwardTest, BackendMatchesTheDefinition) {
  HostCompute c;
  auto ffn = c.UploadFfn(wg_, wu_, wd_, kH, kW);
  ASSERT_TRUE(ffn.ok());
  auto upload = [&](const std::vector<float>& v) {
    Buffer b = *c.Alloc(v.size() * 4);
    EXPECT_TRUE(c.Upload(b, v.data(), v.size() * 4).ok());
    return b;
  };
  const Buffer x = upload(x_), dy = upload(dy_);
  const Buffer saved = *c.Alloc(3 * kN * kW * 4), scratch = *c.Alloc(3 * kN * kW * 4);
  const Buffer y = *c.Alloc(kN * kH * 4), dx = *c.Alloc(kN * kH * 4);
  const Buffer grad = *c.Alloc(3 * kH * kW * 4);
  ASSERT_TRUE(c.SwigluFfn(*ffn, x, kN, saved, y).ok());
  // Too small a scratch is an error, not a write past its end.
  const Buffer small = *c.Alloc(2 * kN * kW * 4);
  EXPECT_FALSE(c.SwigluFfnBackward(*ffn, x, dy, saved, kN, small, dx, grad).ok());
  ASSERT_TRUE(c.SwigluFfnBackward(*ffn, x, dy, saved, kN, scratch, dx, grad).ok());
  std::vector<float> got_dx(kN * kH), got_grad(3 * kH * kW);
  ASSERT_TRUE(c.Download(got_dx.data(), dx, got_dx.size() * 4).ok());
  ASSERT_TRUE(c.Download(got_grad.data(), grad, got_grad.size() * 4).ok());
  const testing::SwigluGrads g = testing::SwigluBackwardReference(x_, dy_, wg_, wu_, wd_, kN, kH, kW);
  // FP32 throughout: within a few ulps of the sums of |terms|.
  const auto near = [](double got, double want, double scale) {
    return std::fabs(got - want) <= 1e-6 * scale + 1e-7;
  };
  for (size_t i = 0; i < kN * kH; ++i)
    EXPECT_TRUE(near(got_dx[i], g.dx[i], g.dx_abs[i])) << "dx " << i << ": " << got_dx[i] << " vs " << g.dx[i];
  for (size_t i = 0; i < kH * kW; ++i) {
    EXPECT_TRUE(near(got_grad[i], g.dwg[i], g.dwg_abs[i])) << "dWg " << i;
    EXPECT_TRUE(near(got_grad[kH * kW + i], g.dwu[i], g.dwu_abs[i])) << "dWu " << i;
    EXPECT_TRUE(near(got_grad[2 * kH * kW + i], g.dwd[i], g.dwd_abs[i])) << "dWd " << i;
  }
}

}  // namespace
}  // namespace epsim::hw
