#include "sim/trace/format.h"

#include <fmt/format.h>

#include <cmath>

namespace epsim::trace {

Status CheckRow(const proto::TraceHeader& header, const uint32_t* idx, const float* weights) {
  for (uint32_t k = 0; k < header.num_candidates(); ++k) {
    if (idx[k] >= header.num_experts())
      return Status::BadInput(
          fmt::format("expert {} >= num_experts {}", idx[k], header.num_experts()));
    if (!std::isfinite(weights[k]))
      return Status::BadInput(fmt::format("weight of expert {} is not finite", idx[k]));
  }
  // Top-k is small (2..16 in practice): a quadratic scan beats any set.
  for (uint32_t k = 1; k < header.num_topk(); ++k) {
    for (uint32_t j = 0; j < k; ++j) {
      if (idx[j] == idx[k])
        return Status::BadInput(fmt::format("expert {} selected twice", idx[k]));
    }
  }
  return Status::Ok();
}

}  // namespace epsim::trace
