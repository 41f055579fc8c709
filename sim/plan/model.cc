#include "sim/plan/model.h"

#include <tuple>

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
  // Sizes beyond any model's, so that every product the planner forms
  // (row bytes = hidden x bytes, weights = hidden x width, E x E matrices,
  // times up to 2^32 tokens) stays far inside 64 bits.
  for (const auto& [name, value, most] :
       {std::tuple{"num_layers", m->num_layers(), kMaxModelLayers},
        std::tuple{"hidden", m->hidden(), kMaxModelWidth},
        std::tuple{"num_heads", m->num_heads(), kMaxModelHeads},
        std::tuple{"num_kv_heads", m->num_kv_heads(), kMaxModelHeads},
        std::tuple{"head_dim", m->head_dim(), kMaxModelWidth},
        std::tuple{"num_experts", m->num_experts(), kMaxModelExperts},
        std::tuple{"num_shared_experts", m->num_shared_experts(), kMaxModelExperts},
        std::tuple{"moe_intermediate", m->moe_intermediate(), kMaxModelWidth},
        std::tuple{"shared_intermediate", m->shared_intermediate(), kMaxModelWidth},
        std::tuple{"dense_intermediate", m->dense_intermediate(), kMaxModelWidth},
        std::tuple{"q_lora_rank", m->q_lora_rank(), kMaxModelWidth},
        std::tuple{"kv_lora_rank", m->kv_lora_rank(), kMaxModelWidth},
        std::tuple{"qk_rope_head_dim", m->qk_rope_head_dim(), kMaxModelWidth},
        std::tuple{"qk_nope_head_dim", m->qk_nope_head_dim(), kMaxModelWidth},
        std::tuple{"v_head_dim", m->v_head_dim(), kMaxModelWidth},
        std::tuple{"activation_bytes", m->activation_bytes(), kMaxElementBytes},
        std::tuple{"dispatch_bytes", m->dispatch_bytes(), kMaxElementBytes},
        std::tuple{"combine_bytes", m->combine_bytes(), kMaxElementBytes}}) {
    EPSIM_RETURN_IF_ERROR(need(value <= most, fmt::format("{} {} is above {}, more than any "
                                                          "model has",
                                                          name, value, most)));
  }
  return Status::Ok();
}

}  // namespace epsim::plan
