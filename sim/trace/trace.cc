#include "sim/trace/trace.h"

namespace epsim::trace {

void LayerRouting::BeginStep(uint64_t step) {
  if (!steps.empty() && steps.back().step == step) return;
  steps.push_back({step, token_ids.size(), 0});
}

void LayerRouting::Append(uint64_t token_id, uint64_t sequence_id, const uint32_t* idx,
                          const float* w) {
  token_ids.push_back(token_id);
  sequence_ids.push_back(sequence_id);
  topk_idx.insert(topk_idx.end(), idx, idx + num_candidates);
  topk_weights.insert(topk_weights.end(), w, w + num_candidates);
  if (!steps.empty()) ++steps.back().count;
}

}  // namespace epsim::trace
