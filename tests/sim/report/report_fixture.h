// A hand-made Report small enough to check every output by hand: 2 ranks,
// 2 layers, each layer attention -> dispatch -> expert -> combine, run back
// to back. Times (us):
//   layer 0: attention 0-10, dispatch 10-30, expert 30-45, combine 45-65
//   layer 1: attention 65-75, dispatch 75-95, expert 95-110, combine 110-130
// Bytes on links: dispatch 4000 (ranks send 1000 / 3000) and 8000
// (1000 / 7000); combine 4000 (2000 / 2000) and 6000 (3000 / 3000). Rows are
// bytes / 1000. Busy times: busy_max = span - 2 us, busy_mean = span - 4 us
// (ranks skewed). Back to back, so each phase's critical-path time is its
// span; the all-to-alls' waits on skew are 2 us (slowest rank) and 1 us
// (mean). total_time_s = 130 us, one pass (iterations 1).
#ifndef EPSIM_TESTS_SIM_REPORT_REPORT_FIXTURE_H_
#define EPSIM_TESTS_SIM_REPORT_REPORT_FIXTURE_H_

#include <string>

#include "sim/proto/report.pb.h"

namespace epsim::report {

proto::Report MakeTwoLayerReport(const std::string& strategy);

}  // namespace epsim::report

#endif  // EPSIM_TESTS_SIM_REPORT_REPORT_FIXTURE_H_
