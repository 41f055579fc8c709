// Private helpers shared by the trace writer and reader: the format version
// and the checks every token row must pass (FORMATS.md). Not part of the API.
#ifndef EPSIM_SIM_TRACE_FORMAT_H_
#define EPSIM_SIM_TRACE_FORMAT_H_

#include <cstdint>
#include <string>

#include "sim/base/status.h"
#include "sim/proto/trace.pb.h"

namespace epsim::trace {

inline constexpr uint32_t kTraceVersion = 1;

// Largest message a reader accepts; a bigger length prefix means a corrupt
// stream, not a real record (4096 tokens x 256 candidates is about 6 MB).
inline constexpr uint64_t kMaxMessageBytes = uint64_t{1} << 30;

// Checks one row of num_candidates ids and weights against `header`: ids
// below num_experts, no id repeated among the first num_topk, finite
// weights. Returns BadInput with a message such as
// "expert 300 >= num_experts 256", without location (callers add it).
Status CheckRow(const proto::TraceHeader& header, const uint32_t* idx, const float* weights);

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_FORMAT_H_
