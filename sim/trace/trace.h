// In-memory routing of one or more layers, for code that needs a whole layer
// at once (planning, statistics). Streaming code uses TraceReader/TraceWriter.
#ifndef EPSIM_SIM_TRACE_TRACE_H_
#define EPSIM_SIM_TRACE_TRACE_H_

#include <cstdint>
#include <vector>

#include "sim/proto/trace.pb.h"

namespace epsim::trace {

// Rows of one forward step within a layer: rows [first, first + count).
struct StepRows {
  uint64_t step = 0;
  size_t first = 0;
  size_t count = 0;
};

// Routing of one layer: rows in trace order, each with num_candidates
// expert ids (the first num_topk selected, in router order) and their scores
// (a trace without scores holds 1 / num_topk for the selected experts, so
// that combine arithmetic is defined; see TraceHeader.scores_absent).
struct LayerRouting {
  uint32_t layer = 0;
  uint32_t num_topk = 0;
  uint32_t num_candidates = 0;
  std::vector<uint64_t> token_ids;
  std::vector<uint64_t> sequence_ids;
  std::vector<uint32_t> topk_idx;      // [num_tokens * num_candidates]
  std::vector<float> topk_weights;     // [num_tokens * num_candidates]
  // Forward steps in ascending order, covering every row; empty when the
  // rows were appended without BeginStep (one step, step 0).
  std::vector<StepRows> steps;

  size_t num_tokens() const { return token_ids.size(); }
  // Selected experts of token t (num_topk ids).
  const uint32_t* topk(size_t t) const { return topk_idx.data() + t * num_candidates; }
  const float* weights(size_t t) const { return topk_weights.data() + t * num_candidates; }
  // Rows appended from now on belong to `step` (ascending; a repeat of the
  // last step continues it).
  void BeginStep(uint64_t step);
  // Appends one token row; idx and w hold num_candidates entries.
  void Append(uint64_t token_id, uint64_t sequence_id, const uint32_t* idx, const float* w);
  // Appends every row of a checked record (TraceReader::Next) of this layer.
  void AppendRecord(const proto::LayerRecord& record);
};

struct Trace {
  proto::TraceHeader header;
  std::vector<LayerRouting> layers;  // ascending by layer
};

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_TRACE_H_
