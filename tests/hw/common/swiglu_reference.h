// The SwiGLU FFN's backward written out by its definition, in double, for
// tests of the backends' SwigluFfnBackward (host and CUDA): plain loops
// over rows, shared with no backend code.
#ifndef EPSIM_TESTS_HW_COMMON_SWIGLU_REFERENCE_H_
#define EPSIM_TESTS_HW_COMMON_SWIGLU_REFERENCE_H_

#include <cmath>
#include <cstddef>
#include <vector>

namespace epsim::hw::testing {

// Row-major: x, dy [n x h]; wg, wu [h x w]; wd [w x h]. Outputs dx [n x h],
// dwg, dwu [h x w], dwd [w x h]; `*_abs` the same sums of |terms| (the
// scale rounding errors are measured against).
struct SwigluGrads {
  std::vector<double> dx, dwg, dwu, dwd;
  std::vector<double> dx_abs, dwg_abs, dwu_abs, dwd_abs;
};

inline SwigluGrads SwigluBackwardReference(const std::vector<float>& x,
                                           const std::vector<float>& dy,
                                           const std::vector<float>& wg,
                                           const std::vector<float>& wu,
                                           const std::vector<float>& wd, size_t n, size_t h,
                                           size_t w) {
  SwigluGrads g;
  g.dx.assign(n * h, 0);
  g.dx_abs.assign(n * h, 0);
  g.dwg.assign(h * w, 0);
  g.dwg_abs.assign(h * w, 0);
  g.dwu.assign(h * w, 0);
  g.dwu_abs.assign(h * w, 0);
  g.dwd.assign(w * h, 0);
  g.dwd_abs.assign(w * h, 0);
  for (size_t r = 0; r < n; ++r) {
    for (size_t f = 0; f < w; ++f) {
      double a = 0, b = 0, dh = 0, dh_abs = 0;
      for (size_t k = 0; k < h; ++k) {
        a += double(x[r * h + k]) * wg[k * w + f];
        b += double(x[r * h + k]) * wu[k * w + f];
        dh += double(dy[r * h + k]) * wd[f * h + k];
        dh_abs += std::fabs(double(dy[r * h + k]) * wd[f * h + k]);
      }
      const double s = 1 / (1 + std::exp(-a)), silu = a * s;
      const double dsilu = s * (1 + a * (1 - s));
      const double da = dh * b * dsilu, db = dh * silu, act = silu * b;
      const double da_abs = dh_abs * std::fabs(b * dsilu), db_abs = dh_abs * std::fabs(silu);
      for (size_t k = 0; k < h; ++k) {
        g.dx[r * h + k] += wg[k * w + f] * da + wu[k * w + f] * db;
        g.dx_abs[r * h + k] += std::fabs(wg[k * w + f]) * da_abs + std::fabs(wu[k * w + f]) * db_abs;
        g.dwg[k * w + f] += x[r * h + k] * da;
        g.dwg_abs[k * w + f] += std::fabs(x[r * h + k]) * da_abs;
        g.dwu[k * w + f] += x[r * h + k] * db;
        g.dwu_abs[k * w + f] += std::fabs(x[r * h + k]) * db_abs;
        g.dwd[f * h + k] += act * dy[r * h + k];
        g.dwd_abs[f * h + k] += std::fabs(act * dy[r * h + k]);
      }
    }
  }
  return g;
}

}  // namespace epsim::hw::testing

#endif  // EPSIM_TESTS_HW_COMMON_SWIGLU_REFERENCE_H_
