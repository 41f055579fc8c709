// `epsim diff`: two sets of Reports of the same plans (typically simulated
// A against measured B, read by json_input.h) compared phase by phase. Pure
// computation; diff_output.h prints it. Times in seconds.
//
// Matching: runs by (strategy, placement); when each file has exactly one
// run, those two are compared whatever their names. Within a pair of runs,
// records by (layer, phase kind); several records of one (layer, kind) in a
// run add up (as in the console table). A run or record in only one file is
// kept as unmatched, never dropped.
//
// Metrics (see report.h for busy_max and busy_mean):
//   error    (A - B) / B in percent: B is the reference (put the measured
//            run second), so a positive error means A is slower. None where
//            a side is missing or B is 0.
//   kind rows  per phase kind, A's and B's busy times summed over the
//            layers both runs have (unmatched records are left out, so both
//            sums cover the same phases).
//   total    the pass time, total_time_s of each report.
//   weighted error  sum over phase kinds of |A - B| of busy_max, divided
//            by the sum over kinds of B's busy_max: the mean absolute error
//            of the kinds weighted by B's busy_max time.
#ifndef EPSIM_SIM_REPORT_DIFF_H_
#define EPSIM_SIM_REPORT_DIFF_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/report.pb.h"
#include "sim/report/json_input.h"

namespace epsim::report {

// One quantity in A and in B; a side without it is empty.
struct DiffCell {
  std::optional<double> a_s;
  std::optional<double> b_s;
};

// (a - b) / b * 100; none when a side is missing or b is 0.
std::optional<double> ErrorPct(const DiffCell& cell);

// One (layer, phase kind) of a run pair, or one phase kind over all layers.
struct DiffRow {
  std::optional<uint32_t> layer;  // empty on kind rows
  proto::PhaseKind kind = proto::PHASE_UNSPECIFIED;
  DiffCell busy_max;
  DiffCell busy_mean;
};

// A pair of matched runs. `a` and `b` are copies of the two Reports
// without their phases (names, source, pass counts for the headers).
struct RunDiff {
  proto::Report a;
  proto::Report b;
  std::vector<DiffRow> layers;  // ascending layer, then A's phase order, then B-only phases
  std::vector<DiffRow> kinds;   // matched records only, in PhaseKind order
  DiffCell total;               // total_time_s
  std::optional<double> weighted_error_pct;  // none when B's busy_max sums to 0
};

struct ReportDiff {
  std::vector<RunDiff> runs;  // in A's run order
  std::vector<std::string> a_only_runs;  // "strategy / placement" without a partner
  std::vector<std::string> b_only_runs;
};

// Compares two files' reports. A BadInput error when no run matches,
// naming the runs of each file.
Result<ReportDiff> DiffReports(const ReportFile& a, const ReportFile& b);

// Compares one pair of reports (the rows, kinds, total and weighted error).
RunDiff DiffRuns(const proto::Report& a, const proto::Report& b);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_DIFF_H_
