#include "hw/common/data.h"

#include <bit>
#include <cmath>

namespace epsim::hw {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

constexpr uint64_t kTokenStream = 1;
constexpr uint64_t kWeightStream = 2;
constexpr uint64_t kGradStream = 3;

}  // namespace

uint16_t ToBf16(float x) {
  uint32_t bits = std::bit_cast<uint32_t>(x);
  if (std::isnan(x)) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);  // round to nearest, ties to even
  return static_cast<uint16_t>(bits >> 16);
}

float FromBf16(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

float RoundBf16(float x) { return FromBf16(ToBf16(x)); }

float SeededData::Uniform(uint64_t stream, uint64_t index) const {
  const uint64_t h = SplitMix64(SplitMix64(seed_ ^ (stream << 56)) ^ index);
  // 24 random bits -> [-1, 1).
  return static_cast<float>(static_cast<double>(h >> 40) / double(1 << 23) - 1.0);
}

void SeededData::TokenRow(uint64_t token, uint32_t hidden, float* out) const {
  for (uint32_t h = 0; h < hidden; ++h)
    out[h] = RoundBf16(Uniform(kTokenStream, token * hidden + h));
}

void SeededData::GradRow(uint64_t token, uint32_t hidden, float* out) const {
  for (uint32_t h = 0; h < hidden; ++h)
    out[h] = RoundBf16(Uniform(kGradStream, token * hidden + h));
}

FfnWeights SeededData::Ffn(uint32_t ffn_id, uint32_t hidden, uint32_t width) const {
  FfnWeights w;
  w.hidden = hidden;
  w.width = width;
  const size_t n = size_t{hidden} * width;
  w.gate.resize(n);
  w.up.resize(n);
  w.down.resize(n);
  // Each FFN gets its own index range: 3 matrices of n values.
  const uint64_t base = uint64_t{ffn_id} * 3 * n;
  const float in_scale = 1.0f / std::sqrt(static_cast<float>(hidden));
  const float down_scale = 1.0f / std::sqrt(static_cast<float>(width));
  for (size_t i = 0; i < n; ++i) {
    w.gate[i] = RoundBf16(Uniform(kWeightStream, base + i) * in_scale);
    w.up[i] = RoundBf16(Uniform(kWeightStream, base + n + i) * in_scale);
    w.down[i] = RoundBf16(Uniform(kWeightStream, base + 2 * n + i) * down_scale);
  }
  return w;
}

}  // namespace epsim::hw
