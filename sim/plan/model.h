// Loading and checking MoE model descriptions (models/*.textproto).
#ifndef EPSIM_SIM_PLAN_MODEL_H_
#define EPSIM_SIM_PLAN_MODEL_H_

#include <string>

#include "sim/base/status.h"
#include "sim/proto/model.pb.h"

namespace epsim::plan {

// Reads a text-format Model and checks it (ValidateModel). Errors name the file.
Result<proto::Model> LoadModel(const std::string& path);

// Positive shapes, top-k <= experts, heads divisible by KV heads, dense
// layers fewer than layers. Fills defaults (head_dim, dispatch/combine bytes).
Status ValidateModel(proto::Model* model);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_MODEL_H_
