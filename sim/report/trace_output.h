// Printing traces for people: `epsim trace show` and `epsim trace validate`.
#ifndef EPSIM_SIM_REPORT_TRACE_OUTPUT_H_
#define EPSIM_SIM_REPORT_TRACE_OUTPUT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

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

// A traffic matrix as the whitespace "rank x rank" text that traffic-matrix
// all-to-all-v benchmarks read (one line per sending rank, one column per
// receiving rank, no header): entry [src][dst] is bytes[src * n + dst]
// divided by `unit_bytes` (1 for bytes, 1024 for KiB), rounded up.
std::string TrafficMatrixText(const std::vector<uint64_t>& bytes, uint32_t n,
                              uint64_t unit_bytes);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_TRACE_OUTPUT_H_
