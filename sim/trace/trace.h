// In-memory routing of one or more layers, for code that needs a whole layer
// at once (planning, statistics). Streaming code uses TraceReader/TraceWriter.
#ifndef EPSIM_SIM_TRACE_TRACE_H_
#define EPSIM_SIM_TRACE_TRACE_H_

#include <cstdint>
#include <vector>

#include "sim/proto/trace.pb.h"

namespace epsim::trace {

// Routing of one layer: rows in trace order, each with num_candidates
// expert ids (the first num_topk selected, in router order) and their scores.
struct LayerRouting {
  uint32_t layer = 0;
  uint32_t num_topk = 0;
  uint32_t num_candidates = 0;
  std::vector<uint64_t> token_ids;
  std::vector<uint64_t> sequence_ids;
  std::vector<uint32_t> topk_idx;      // [num_tokens * num_candidates]
  std::vector<float> topk_weights;     // [num_tokens * num_candidates]

  size_t num_tokens() const { return token_ids.size(); }
  // Selected experts of token t (num_topk ids).
  const uint32_t* topk(size_t t) const { return topk_idx.data() + t * num_candidates; }
  const float* weights(size_t t) const { return topk_weights.data() + t * num_candidates; }
  // Appends one token row; idx and w hold num_candidates entries.
  void Append(uint64_t token_id, uint64_t sequence_id, const uint32_t* idx, const float* w);
};

struct Trace {
  proto::TraceHeader header;
  std::vector<LayerRouting> layers;  // ascending by layer
};

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_TRACE_H_
