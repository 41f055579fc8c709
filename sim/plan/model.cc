#include "sim/plan/model.h"

#include <fmt/format.h>

#include "sim/base/file_util.h"

namespace epsim::plan {

Result<proto::Model> LoadModel(const std::string& path) {
  proto::Model model;
  EPSIM_RETURN_IF_ERROR(ReadTextProto(path, &model));
  EPSIM_RETURN_IF_ERROR(ValidateModel(&model).WithContext(path));
  return model;
}

Status ValidateModel(proto::Model* m) {
  auto need = [](bool ok, const std::string& what) {
    return ok ? Status::Ok() : Status::BadInput(what);
  };
  EPSIM_RETURN_IF_ERROR(need(!m->name().empty(), "name is empty"));
  EPSIM_RETURN_IF_ERROR(need(m->num_layers() > 0, "num_layers must be > 0"));
  EPSIM_RETURN_IF_ERROR(need(m->hidden() > 0, "hidden must be > 0"));
  EPSIM_RETURN_IF_ERROR(need(m->num_heads() > 0 && m->num_kv_heads() > 0,
                             "num_heads and num_kv_heads must be > 0"));
  EPSIM_RETURN_IF_ERROR(need(m->num_heads() % m->num_kv_heads() == 0,
                             fmt::format("num_heads {} not a multiple of num_kv_heads {}",
                                         m->num_heads(), m->num_kv_heads())));
  EPSIM_RETURN_IF_ERROR(need(m->num_experts() > 0 && m->moe_intermediate() > 0,
                             "num_experts and moe_intermediate must be > 0"));
  EPSIM_RETURN_IF_ERROR(need(m->num_topk() > 0 && m->num_topk() <= m->num_experts(),
                             fmt::format("num_topk {} not in [1, num_experts {}]",
                                         m->num_topk(), m->num_experts())));
  EPSIM_RETURN_IF_ERROR(need(m->num_dense_layers() < m->num_layers(),
                             "num_dense_layers must be < num_layers"));
  EPSIM_RETURN_IF_ERROR(need(m->num_dense_layers() == 0 || m->dense_intermediate() > 0,
                             "dense layers need dense_intermediate > 0"));
  EPSIM_RETURN_IF_ERROR(need(m->num_shared_experts() == 0 || m->shared_intermediate() > 0,
                             "shared experts need shared_intermediate > 0"));
  EPSIM_RETURN_IF_ERROR(need(m->activation_bytes() > 0, "activation_bytes must be > 0"));
  if (m->head_dim() == 0) m->set_head_dim(m->hidden() / m->num_heads());
  if (m->dispatch_bytes() == 0) m->set_dispatch_bytes(m->activation_bytes());
  if (m->combine_bytes() == 0) m->set_combine_bytes(m->activation_bytes());
  return Status::Ok();
}

}  // namespace epsim::plan
