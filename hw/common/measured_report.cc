#include "hw/common/measured_report.h"

#include <algorithm>

#include "sim/exec/timings.h"

namespace epsim::hw {

proto::Report MeasuredReport(const proto::Plan& plan, const RunResult& result,
                             const RunOptions& options, const std::string& machine) {
  proto::Report report = exec::AssembleReport(plan.schedule(), "measured", machine, result.times);
  std::vector<double> pass = result.pass_s;
  std::sort(pass.begin(), pass.end());
  if (!pass.empty()) {
    const size_t n = pass.size();
    report.set_total_time_s(n % 2 ? pass[n / 2] : 0.5 * (pass[n / 2 - 1] + pass[n / 2]));
    report.set_total_time_min_s(pass.front());
    report.set_total_time_max_s(pass.back());
  }
  report.set_iterations(options.iterations);
  report.set_warmup(options.warmup);
  report.set_checked(options.check);
  report.set_wrong(result.wrong);
  return report;
}

}  // namespace epsim::hw
