// Printing traces for people: `epsim trace show` and `epsim trace validate`.
#ifndef EPSIM_SIM_REPORT_TRACE_OUTPUT_H_
#define EPSIM_SIM_REPORT_TRACE_OUTPUT_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "sim/proto/trace.pb.h"

namespace epsim::report {

// The header: model, experts, top-k, candidates, provenance, and one line
// per layer with its token count.
void WriteTraceHeader(std::ostream& out, const std::string& path,
                      const proto::TraceHeader& header);

// Up to `max_tokens` rows of a record: token, sequence, experts:scores
// (selected experts first, then a '|' and the further candidates).
void WriteTraceRecord(std::ostream& out, const proto::TraceHeader& header,
                      const proto::LayerRecord& record, uint64_t record_index,
                      uint32_t max_tokens);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_TRACE_OUTPUT_H_
