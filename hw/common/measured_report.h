// A measured run as the Report every executor writes (report.proto), built
// by the same assembly as simulated reports (sim/exec/timings.h).
#ifndef EPSIM_HW_COMMON_MEASURED_REPORT_H_
#define EPSIM_HW_COMMON_MEASURED_REPORT_H_

#include <string>

#include "hw/common/runner.h"
#include "sim/proto/plan.pb.h"
#include "sim/proto/report.pb.h"

namespace epsim::hw {

// Rank 0's RunResult -> Report with source "measured": op and phase times
// are medians over the timed passes, total_time_s the median pass time
// (max over ranks of each pass's last end) with its min and max.
proto::Report MeasuredReport(const proto::Plan& plan, const RunResult& result,
                             const RunOptions& options, const std::string& machine);

}  // namespace epsim::hw

#endif  // EPSIM_HW_COMMON_MEASURED_REPORT_H_
