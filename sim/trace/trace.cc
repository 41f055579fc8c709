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

void LayerRouting::AppendRecord(const proto::LayerRecord& r) {
  token_ids.insert(token_ids.end(), r.token_ids().begin(), r.token_ids().end());
  sequence_ids.insert(sequence_ids.end(), r.sequence_ids().begin(), r.sequence_ids().end());
  topk_idx.insert(topk_idx.end(), r.topk_idx().begin(), r.topk_idx().end());
  topk_weights.insert(topk_weights.end(), r.topk_weights().begin(), r.topk_weights().end());
  if (!steps.empty()) steps.back().count += static_cast<size_t>(r.token_ids_size());
}

}  // namespace epsim::trace
