// Printing routing statistics (sim/plan/routing_stats.h): a console table,
// CSV (one row per layer and a mean row) or JSON.
#ifndef EPSIM_SIM_REPORT_STATS_OUTPUT_H_
#define EPSIM_SIM_REPORT_STATS_OUTPUT_H_

#include <ostream>
#include <string>

#include "sim/plan/routing_stats.h"

namespace epsim::report {

// {"layers": [{"layer", "num_tokens", "ct_mean", "rows_classical",
// "rows_dedup", "load_imbalance", ...}...], "mean": {...}}; with
// `matrices`, each layer also carries "load", "device_load", "coact",
// "affinity" (with "affinity_next_layer"), "traffic_classical" and
// "traffic_dedup" (rows [src][dst]). Figures at full double precision.
std::string RoutingStatsJson(const plan::RoutingStats& stats, bool matrices);

// Header row, one row per layer, then a row with layer "mean".
std::string RoutingStatsCsv(const plan::RoutingStats& stats);

// A '#' header naming the trace, EP size and placement and defining the
// columns, then one row per layer and the mean.
void WriteRoutingStatsTable(std::ostream& out, const std::string& trace_path,
                            const plan::RoutingStats& stats);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_STATS_OUTPUT_H_
