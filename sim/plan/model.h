// Loading and checking MoE model descriptions (models/*.textproto).
#ifndef EPSIM_SIM_PLAN_MODEL_H_
#define EPSIM_SIM_PLAN_MODEL_H_

#include <cstdint>
#include <string>

#include "sim/base/status.h"
#include "sim/proto/model.pb.h"

namespace epsim::plan {

// Reads a text-format Model and checks it (ValidateModel). Errors name the file.
Result<proto::Model> LoadModel(const std::string& path);

// Upper bounds of a model's sizes, far beyond any model's (DeepSeek-V3:
// 61 layers, hidden 7,168, 256 experts) and low enough that the planner's
// products of them cannot overflow.
inline constexpr uint32_t kMaxModelLayers = 10000;
inline constexpr uint32_t kMaxModelWidth = 1u << 20;   // hidden, head and FFN widths, ranks
inline constexpr uint32_t kMaxModelHeads = 1u << 16;
inline constexpr uint32_t kMaxModelExperts = 8192;  // as traces (trace/format.h)
inline constexpr uint32_t kMaxElementBytes = 8;

// Positive shapes, top-k <= experts, heads divisible by KV heads, dense
// layers fewer than layers, every size within the bounds above. Fills
// defaults (head_dim, dispatch/combine bytes).
Status ValidateModel(proto::Model* model);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_MODEL_H_
