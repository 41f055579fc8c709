// `epsim compare`: one row per (placement, dispatch) combination on the same
// trace, model, topology and EP size.
#ifndef EPSIM_SIM_REPORT_COMPARE_OUTPUT_H_
#define EPSIM_SIM_REPORT_COMPARE_OUTPUT_H_

#include <ostream>
#include <vector>

#include "sim/proto/report.pb.h"
#include "sim/report/report.h"

namespace epsim::report {

// One simulated combination, condensed. Times are sums over the pass of
// each kind's phase spans (hierarchical stages included in dispatch and
// combine); layer_s is the pass time over the MoE layers simulated.
struct ComparisonRow {
  std::string placement;
  std::string strategy;
  proto::RoutingSummary routing;
  double dispatch_s = 0;
  double expert_s = 0;
  double combine_s = 0;
  double layer_s = 0;
  double total_s = 0;
  double speedup = 0;  // baseline total / this total
};

// Rows from reports; the baseline is the report with strategy "classical"
// and placement "contiguous" (speedup 0 when there is none).
std::vector<ComparisonRow> CompareReports(const std::vector<proto::Report>& reports);

// Console (a '#' header from `info`, definitions, then the table), CSV or
// JSON ({"context": ..., "rows": [...]}).
void WriteComparison(std::ostream& out, Format format, const RunInfo& info,
                     const std::vector<ComparisonRow>& rows);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_COMPARE_OUTPUT_H_
