// Printing routing statistics (sim/plan/routing_stats.h).
#ifndef EPSIM_SIM_REPORT_STATS_OUTPUT_H_
#define EPSIM_SIM_REPORT_STATS_OUTPUT_H_

#include <ostream>
#include <string>

#include "sim/plan/routing_stats.h"

namespace epsim::report {

// {"layers": [{"layer", "num_tokens", "ct_mean", "rows_classical",
// "rows_dedup"}...], "mean": {...}}; figures with full double precision.
std::string RoutingStatsJson(const plan::RoutingStats& stats);

// A '#' header naming the trace, EP size and placement, then one row per
// layer and the mean.
void WriteRoutingStatsTable(std::ostream& out, const std::string& trace_path,
                            const plan::RoutingStats& stats);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_STATS_OUTPUT_H_
