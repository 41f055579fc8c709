// `epsim diff` output: a ReportDiff (diff.h) of files A and B in the three
// formats. Every format has, per matched run pair, the (layer, phase) rows,
// the per-kind rows (layer "all"), the pass total and the weighted error
// (definitions in diff.h); `--by` keeps the layer rows, the kind rows or
// both. Times in microseconds, errors in percent, error = (A - B) / B.
//
//   console  '#' header lines: both files (path, writer, and per run its
//            source, model, topology, ranks and, when measured, the passes
//            and #wrong), the runs without a partner, the definitions. Then
//            the table
//              strategy placement layer phase A_max(us) B_max(us) err_max(%)
//              A_mean(us) B_mean(us) err_mean(%)
//            (A's names; max = busy_max, mean = busy_mean; "-" for a side
//            without the record, N/A for an error without a value), whose
//            "all total" row holds the pass times in the max columns. Then
//            '#' lines naming every record found in one file only and one
//            weighted-error line per run pair.
//   csv      tidy records, one value each:
//              a_strategy,a_placement,b_strategy,b_placement,layer,phase,
//              metric,a_us,b_us,error_pct
//            metric busy_max or busy_mean on (layer, phase) rows and kind
//            rows (layer "all"); total_time on the row (all, total);
//            weighted_error on the row (all, all), with error_pct only.
//            Empty cells where a side or the error has no value.
//   json     {"context": {"version", "command", "error", "a": FILE, "b":
//            FILE}, "runs": [{"a": {strategy, placement}, "b": {...},
//            "layers": [{"layer", "phase", "busy_max": CELL, "busy_mean":
//            CELL}], "kinds": [{"phase", ...}], "total": CELL,
//            "weighted_error_pct"}], "only_in_a": [...], "only_in_b": [...]}
//            with CELL = {"a_us", "b_us", "error_pct"} (null where there is
//            no value) and FILE = {"file", "version", "command", "runs":
//            [{strategy, placement, source, model, topology, num_ranks,
//            iterations, warmup, total_time_us, total_time_min_us,
//            total_time_max_us, checked, wrong}]}.
#ifndef EPSIM_SIM_REPORT_DIFF_OUTPUT_H_
#define EPSIM_SIM_REPORT_DIFF_OUTPUT_H_

#include <ostream>
#include <string>

#include "sim/base/status.h"
#include "sim/report/diff.h"
#include "sim/report/json_input.h"
#include "sim/report/report.h"

namespace epsim::report {

// Which rows of a run pair to write (--by).
enum class DiffRows { kLayer, kKind, kBoth };

// "layer" | "kind" | "both"; anything else is a Status::Usage error.
Result<DiffRows> ParseDiffRows(const std::string& name);

// Writes `diff` of files `a` and `b` in `format`.
void WriteDiff(std::ostream& out, Format format, const ReportFile& a, const ReportFile& b,
               const ReportDiff& diff, DiffRows rows);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_DIFF_OUTPUT_H_
