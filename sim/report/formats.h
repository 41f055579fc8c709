// Internal: one writer per output format, called by WriteSimulation
// (report.cc). The csv writer is SimulationCsv in report.h.
#ifndef EPSIM_SIM_REPORT_FORMATS_H_
#define EPSIM_SIM_REPORT_FORMATS_H_

#include <ostream>
#include <vector>

#include "sim/proto/report.pb.h"
#include "sim/report/report.h"

namespace epsim::report {

// nccl-tests-style table; see report.h for the columns and metrics.
void WriteConsole(std::ostream& out, const RunInfo& info,
                  const std::vector<proto::Report>& reports);

// Pretty-printed JSON document; see report.h.
void WriteJson(std::ostream& out, const RunInfo& info, const std::vector<proto::Report>& reports);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_FORMATS_H_
