// The harness's seeded data: token hidden states and FFN weights, the same
// on every rank and in the reference, derived from (seed, what, index) by a
// counter-based hash, so any rank can make any value without communication.
//
// Values are BF16-representable FP32 numbers (rounded to BF16), so moving
// them through a BF16 wire or loading them into BF16 GEMMs is exact:
//   hidden states  x[token][h] uniform in [-1, 1)
//   output grads   dy[token][h] uniform in [-1, 1) (another stream)
//   weights        uniform in [-1, 1) / sqrt(fan_in): gate and up
//                  [hidden x width] (fan_in = hidden), down [width x hidden]
//                  (fan_in = width)
// Token rows are the same in every layer (token t is position t of its
// block: the layer's trace rows, or one decode step's, or one micro-batch's); expert weights depend on the expert id only, so one layer's
// experts are in memory at a time (documented simplification).
#ifndef EPSIM_HW_COMMON_DATA_H_
#define EPSIM_HW_COMMON_DATA_H_

#include <cstdint>
#include <vector>

namespace epsim::hw {

// Round-to-nearest-even FP32 -> BF16 bits, and back.
uint16_t ToBf16(float x);
float FromBf16(uint16_t b);
// x rounded to the nearest BF16 value.
float RoundBf16(float x);

// Weights of one SwiGLU FFN, row-major FP32.
struct FfnWeights {
  uint32_t hidden = 0, width = 0;
  std::vector<float> gate, up;  // hidden x width
  std::vector<float> down;      // width x hidden
};

// Ids of the FFNs that are not routed experts (stand-ins).
inline constexpr uint32_t kSharedFfnId = 1u << 30;
inline constexpr uint32_t kDenseFfnId = (1u << 30) + 1;

class SeededData {
 public:
  explicit SeededData(uint64_t seed) : seed_(seed) {}
  uint64_t seed() const { return seed_; }

  // Hidden state of token `token` (global index in its layer), `hidden`
  // values.
  void TokenRow(uint64_t token, uint32_t hidden, float* out) const;
  // Gradient of the MoE block's output at token `token` (train passes: the
  // backward's input), `hidden` values uniform in [-1, 1), BF16-representable.
  void GradRow(uint64_t token, uint32_t hidden, float* out) const;
  // Weights of FFN `ffn_id` (a routed expert id, or kSharedFfnId/kDenseFfnId).
  FfnWeights Ffn(uint32_t ffn_id, uint32_t hidden, uint32_t width) const;

 private:
  float Uniform(uint64_t stream, uint64_t index) const;  // [-1, 1)
  uint64_t seed_;
};

}  // namespace epsim::hw

#endif  // EPSIM_HW_COMMON_DATA_H_
