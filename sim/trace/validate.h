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
};

// Reads the whole stream and checks, beyond what TraceReader checks per
// record (header sanity, array sizes, expert ids < num_experts, distinct
// selected experts, per-layer counts matching the header):
//  - scores are finite and >= 0;
//  - the selected experts come in descending score order, and no candidate
//    beyond the top-k scores higher than the lowest selected one;
//  - a token id appears at most once per layer;
//  - a token keeps the same sequence id in every layer.
// Returns the first violation, naming the file, record, layer and token.
// Memory: one (token id -> sequence id) entry per distinct token.
Result<ValidationSummary> ValidateTrace(const std::string& path);

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_VALIDATE_H_
