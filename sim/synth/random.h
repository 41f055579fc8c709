// Random numbers for the trace generators (uniform.cc, model.cc).
//
// The stream is std::mt19937_64, whose output the C++ standard fixes; every
// transform to uniform, exponential or normal variates is ours, because the
// std:: distributions are implementation-defined. A seed therefore gives the
// same trace with any standard library. FastLog is a polynomial (no libm), so
// its result is the same bit pattern on every IEEE-754 machine.
#ifndef EPSIM_SIM_SYNTH_RANDOM_H_
#define EPSIM_SIM_SYNTH_RANDOM_H_

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>

namespace epsim::synth {

class UniformSource {
 public:
  explicit UniformSource(uint64_t seed) : rng_(seed) {}
  // A double in [0, 1) from the top 53 bits of one draw.
  double Next() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  // An integer in [0, n); the bias is below 2^-53 * n.
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(Next() * n); }
  // Skips n draws: the stream is then where n calls of any of the above
  // would have left it (each takes one draw).
  void Discard(uint64_t n) { rng_.discard(n); }
  // Two floats in (0, 1), 24 bits each, from one draw (the fast path).
  void NextPair(float* a, float* b) {
    const uint64_t x = rng_();
    *a = (static_cast<float>(x >> 40) + 0.5f) * 0x1.0p-24f;
    *b = (static_cast<float>((x >> 8) & 0xffffff) + 0.5f) * 0x1.0p-24f;
  }

 private:
  std::mt19937_64 rng_;
};

// Inverse of the standard normal CDF (Acklam's rational approximation,
// relative error below 1.2e-9), for p in (0, 1).
double InverseNormalCdf(double p);

// A standard normal variate by inversion (one uniform per variate).
inline double NextNormal(UniformSource* rng) {
  double u = rng->Next();
  if (u <= 0) u = 0x1.0p-54;
  return InverseNormalCdf(u);
}

// Natural log of a positive normal float, absolute error below 1e-7:
// x = 2^n m with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh((m-1)/(m+1)),
// series to the 9th power.
inline float FastLog(float x) {
  // Branch-free, so that loops over it vectorise: subtracting the bits of
  // sqrt(1/2) puts the exponent of x / sqrt(1/2) in the top bits.
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  const int32_t n = static_cast<int32_t>(bits - 0x3f3504f3u) >> 23;
  const float m = std::bit_cast<float>(bits - (static_cast<uint32_t>(n) << 23));
  const float t = (m - 1) / (m + 1), t2 = t * t;
  const float series = t * (2 + t2 * (2.f / 3 + t2 * (2.f / 5 + t2 * (2.f / 7 + t2 * (2.f / 9)))));
  return static_cast<float>(n) * 0.693147181f + series;
}

// e^x for |x| < 80, relative error below 2e-7: 2^(x log2 e) split into an
// integer power (exponent bits) and a degree-6 polynomial on [-1/2, 1/2].
inline float FastExp(float x) {
  const float y = x * 1.44269504f;
  const float n = (y + 12582912.f) - 12582912.f;  // round to nearest (1.5 * 2^23), vectorises
  const float f = (y - n) * 0.693147181f;  // e^f, |f| <= 0.347
  const float p =
      1 + f * (1 + f * (0.5f + f * (1.f / 6 + f * (1.f / 24 + f * (1.f / 120 + f * (1.f / 720))))));
  const uint32_t scale = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  return p * std::bit_cast<float>(scale);
}

}  // namespace epsim::synth

#endif  // EPSIM_SIM_SYNTH_RANDOM_H_
