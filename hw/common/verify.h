// Verification of an executed layer, nccl-tests style: every output element
// of a rank's tokens is compared with a reference computed from the same
// seeded inputs without any all-to-all, by plain loops that share no
// permute, reduce or GEMM code with the executor:
//   ref[t] = sum over the token's routed experts e of w_e * FFN_e(x_t)
// in double precision, with experts and weights read from the plan's routes
// (the dispatch library's Route output; a routing-changing strategy is
// checked against the reference of its changed routing).
//
// Tolerance per element h of token t:
//   |out - ref| <= 2^-6 * sum_e |w_e FFN_e(x_t)[h]|
//                  + 4 u * sum_e |w_e| sum_f |W_down,e[f][h] a_e[f]| + 1e-6
// The first term covers the BF16 wire (each returned row rounded to BF16
// at most twice on the way back, 2^-8 each, margin 2); the second the
// compute dtype's rounding u of the FFN's intermediate activations a
// (backend.compute_rounding(): FP32 on the host, BF16 on CUDA).
#ifndef EPSIM_HW_COMMON_VERIFY_H_
#define EPSIM_HW_COMMON_VERIFY_H_

#include <cstdint>
#include <string>

#include "hw/common/data.h"
#include "sim/proto/model.pb.h"
#include "sim/proto/plan.pb.h"

namespace epsim::hw {

struct LayerCheck {
  uint64_t wrong = 0;
  uint64_t checked = 0;
  double max_ratio = 0;     // largest |out - ref| / tolerance
  std::string first_wrong;  // "layer L token T element H: got X, want Y (tolerance Z)"
};

// `out` holds num_tokens x hidden FP32 values: tokens first_token.. of the layer.
LayerCheck CheckLayerOutputs(const proto::Model& model, const proto::LayerRoutes& routes,
                             const SeededData& data, uint64_t first_token, uint64_t num_tokens,
                             const float* out, double compute_rounding);

// The backward of the same layer (train passes): `dx` holds the input
// gradients of the rank's tokens for the seeded output gradients g_t
// (SeededData::GradRow),
//   ref[t] = sum over routed experts e of J_e(x_t)^T dy_e
// (routing held fixed: the router's own gradient is not part of it), in
// double by the definition (dh = Wd dy, da = dh b silu'(a),
// db = dh silu(a), dx = Wg da + Wu db), where dy_e = w_e g_t as the expert
// gets it: rounded to BF16 when its row holds it alone (the routes'
// row_count is 1: the weight is applied before the row crosses the BF16
// wire), exact otherwise (a shared row carries g_t, which is BF16, and the
// expert applies the weight in FP32). Tolerance per element h:
//   |dx - ref| <= 2^-6 * sum_e |(J_e^T dy_e)[h]| + 8 u * sum_e M_e[h] + 1e-6,
//   M_e[h] = sum_f |Wg[h][f]| |da|[f] + |Wu[h][f]| |db|[f], with |da|, |db|
// from |dh|[f] = sum_h |Wd[f][h] dy[h]|:
// the first term covers the BF16 wire on the way back (input gradient
// rows rounded once, twice through a relay), the second the compute
// dtype's rounding u of the intermediate gradients.
LayerCheck CheckLayerInputGradients(const proto::Model& model, const proto::LayerRoutes& routes,
                                    const SeededData& data, uint64_t first_token,
                                    uint64_t num_tokens, const float* dx,
                                    double compute_rounding);

}  // namespace epsim::hw

#endif  // EPSIM_HW_COMMON_VERIFY_H_
