// Private to the importers: one entry point per source format, called by
// Import() (importer.cc) once the options are checked, plus what they share.
#ifndef EPSIM_SIM_TRACE_IMPORT_INTERNAL_H_
#define EPSIM_SIM_TRACE_IMPORT_INTERNAL_H_

#include <cstdint>
#include <string>

#include "sim/base/status.h"
#include "sim/proto/trace.pb.h"
#include "sim/trace/importer.h"

namespace epsim::trace {

// Both expect options checked: inputs readable, num_experts > 0.
Status ImportJsonl(const ImportOptions& options);
Status ImportDenseCsv(const ImportOptions& options);

// Header for an imported trace with num_candidates == num_topk.
proto::TraceHeader MakeImportHeader(const ImportOptions& options, const std::string& format,
                                    uint32_t num_topk);

// BadInput "file:line: what".
Status LineError(const std::string& file, uint64_t line, const std::string& what);

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_IMPORT_INTERNAL_H_
