#include "hw/common/measured_report.h"

#include <algorithm>

#include "sim/exec/timings.h"

namespace epsim::hw {

proto::Report MeasuredReport(const proto::Plan& plan, const RunResult& result,
                             const RunOptions& options, const std::string& machine) {
  const std::vector<double>& pass = result.pass_s;
  // The pass time is the median pass (not the latest of the ops' medians):
  // the phases' critical-path times add up to it.
  proto::Report report = exec::AssembleReport(plan.schedule(), "measured", machine, result.times,
                                              pass.empty() ? -1.0 : Median(pass));
  if (!pass.empty()) {
    report.set_total_time_min_s(*std::min_element(pass.begin(), pass.end()));
    report.set_total_time_max_s(*std::max_element(pass.begin(), pass.end()));
  }
  report.set_iterations(options.iterations);
  report.set_warmup(options.warmup);
  report.set_checked(options.check);
  report.set_wrong(result.wrong);
  return report;
}

}  // namespace epsim::hw
