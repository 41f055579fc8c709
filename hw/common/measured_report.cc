#include "hw/common/measured_report.h"

#include <algorithm>

#include "sim/exec/timings.h"

namespace epsim::hw {

proto::Report MeasuredReport(const proto::Plan& plan, const RunResult& result,
                             const RunOptions& options, const std::string& machine) {
  proto::Report report = exec::AssembleReport(plan.schedule(), "measured", machine, result.times);
  const std::vector<double>& pass = result.pass_s;
  if (!pass.empty()) {
    report.set_total_time_s(Median(pass));
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
