// Full validation of a trace file: every invariant the format promises.
#ifndef EPSIM_SIM_TRACE_VALIDATE_H_
#define EPSIM_SIM_TRACE_VALIDATE_H_

#include <cstdint>
#include <string>

#include "sim/base/status.h"

namespace epsim::trace {

struct ValidationSummary {
  uint64_t records = 0;
  uint64_t rows = 0;  // (token, layer) rows
  uint32_t layers = 0;
  uint64_t steps = 0;     // forward steps (1 for a version-1 trace)
  uint32_t version = 0;   // format version of the file
};

// Reads the whole stream and checks, beyond what TraceReader checks per
// record (header sanity, array sizes, expert ids < num_experts, distinct
// selected experts, per-layer counts matching the header):
//  - scores (when the trace has them) are finite and >= 0;
//  - the selected experts come in descending score order, and no candidate
//    beyond the top-k scores higher than the lowest selected one;
//  - within a forward step, a token id appears at most once per layer;
//  - within a forward step, a token keeps the same sequence id in every layer.
// (Checksums, step order and per-row ids are the reader's checks.)
// Returns the first violation, naming the file, record, layer and token.
// Memory: one (token id -> index) entry and one sequence id per distinct
// token of a step, and one bit per token and layer (about 40 B per token
// plus L / 8 B for L layers), not the step's rows.
Result<ValidationSummary> ValidateTrace(const std::string& path);

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_VALIDATE_H_
