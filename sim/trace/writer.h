// TraceWriter: writes a routing trace stream (FORMATS.md) in bounded memory.
//
// Tokens are added one at a time, in any interleaving of layers, within
// forward steps that only go up (SetStep); each layer's tokens are buffered
// and flushed as a LayerRecord every kRecordTokens tokens and at every step
// change. The header, which must come first and carries the per-layer token
// counts, is only known at the end: the writer reserves room for it at the
// start of a temporary file beside the output, appends records behind it
// once, and Finish() writes the header into the room (padded to fill it
// exactly) and renames the file into place. A header too large for its room
// (thousands of layers) is written to a second temporary followed by a copy
// of the records. Until Finish() succeeds nothing exists at `path`; a writer
// destroyed without Finish() removes its temporaries.
#ifndef EPSIM_SIM_TRACE_WRITER_H_
#define EPSIM_SIM_TRACE_WRITER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "sim/base/status.h"
#include "sim/proto/trace.pb.h"
#include "sim/trace/trace.h"

namespace epsim::trace {

class TraceWriter {
 public:
  static constexpr size_t kRecordTokens = 4096;

  // `header` gives model, num_experts, num_topk, num_candidates,
  // scores_absent and provenance; layers, num_layers and num_steps are filled
  // in by Finish().
  static Result<std::unique_ptr<TraceWriter>> Create(const std::string& path,
                                                     const proto::TraceHeader& header);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Rows added from now on belong to forward step `step` (0 until called);
  // steps never go down.
  Status SetStep(uint64_t step);
  // Adds one token row of `layer`: num_candidates ids and scores (`weights`
  // null, and ignored, when the header says scores_absent).
  // Ids are checked against num_experts (and for repeats within the top-k).
  Status Add(uint32_t layer, uint64_t token_id, uint64_t sequence_id, const uint32_t* idx,
             const float* weights);
  // Adds every row of an in-memory layer (one step, or its steps in order:
  // layers with steps are best added through WriteTrace).
  Status AddLayer(const LayerRouting& layer);

  // Flushes, writes the header and renames the file into place.
  Status Finish();

 private:
  class Impl;
  explicit TraceWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Writes a whole in-memory trace (tests, generators).
Status WriteTrace(const std::string& path, const Trace& trace);

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_WRITER_H_
