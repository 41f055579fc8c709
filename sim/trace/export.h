// Export of a trace back to a text routing log, the reverse of Import()
// (importer.h): for users whose tools read logs, and for round-trip checks.
//
// "jsonl": the vllm shape. A first meta line
//     {"type": "meta", "model", "num_experts", "top_k", "num_layers"}
//   then one route row per token and layer,
//     {"type": "route", "req_id": sequence id, "token_idx": token id,
//      "layer", "topk_ids": [...], "topk_weights": [...]}
//   in the trace's record order. Re-import needs no --num-experts (the meta
//   line gives it) and keeps token identity exactly; token ids are
//   renumbered by first appearance in that order, which leaves them
//   unchanged for traces that number tokens that way (every importer's and
//   the generator's).
// "csv": the plain CSV shape, header
//     layer,token,sequence,expert_0..expert_{k-1},score_0..score_{k-1}
//   in record order; re-import (with --num-experts) keeps token and sequence
//   ids exactly.
// Only the first num_topk candidates of a row are written. Scores are
// printed with 9 significant digits, enough for every float to read back
// bit-exact. The file is written to a temporary beside `out_path` and renamed
// into place at the end, streaming in bounded memory (one record at a time).
#ifndef EPSIM_SIM_TRACE_EXPORT_H_
#define EPSIM_SIM_TRACE_EXPORT_H_

#include <string>

#include "sim/base/status.h"

namespace epsim::trace {

// `format`: "jsonl" or "csv" (anything else is a Usage error).
Status ExportTrace(const std::string& trace_path, const std::string& out_path,
                   const std::string& format);

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_EXPORT_H_
