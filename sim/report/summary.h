// Aggregations of one proto::Report shared by the output formats: per-layer
// rows of the console table and per-phase-kind totals of csv and json. Pure
// functions of the Report; times in seconds, sizes in bytes.
#ifndef EPSIM_SIM_REPORT_SUMMARY_H_
#define EPSIM_SIM_REPORT_SUMMARY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/proto/report.pb.h"

namespace epsim::report {

// One layer of one report, as the console table shows it. When a layer has
// several phases of one kind (e.g. a two-stage dispatch), their bytes and
// times add up. The *_time_s figures are critical-path times
// (PhaseTiming.critical_s): what the phases add to the pass, so that they
// sum to the layer's time_s and the layers' to the pass time.
struct LayerSummary {
  uint32_t layer = 0;
  uint64_t dispatch_bytes = 0;           // on links, all ranks
  uint64_t dispatch_max_rank_bytes = 0;  // sent by the most-loaded rank
  double dispatch_time_s = 0;
  double dispatch_busy_max_s = 0;        // slowest rank's busy time in the dispatch phases
  double expert_time_s = 0;
  uint64_t combine_bytes = 0;
  double combine_time_s = 0;
  double other_time_s = 0;               // every other phase kind
  double wait_mean_s = 0;                // mean rank's wait on skew in the layer's all-to-alls
  double time_s = 0;                     // critical-path time of all the layer's phases
  double span_s = 0;                     // latest end - earliest start
};

// One phase kind summed over the layers of one report.
struct KindTotal {
  proto::PhaseKind kind = proto::PHASE_UNSPECIFIED;
  uint64_t bytes = 0;
  uint64_t rows = 0;
  double time_s = 0;       // sum over layers of the span (end - start)
  double critical_s = 0;   // sum over layers of PhaseTiming.critical_s
  double busy_max_s = 0;   // sum over layers of PhaseTiming.busy_max_s
  double busy_mean_s = 0;  // sum over layers of PhaseTiming.busy_mean_s
  double wait_max_s = 0;   // sum over layers of PhaseTiming.wait_max_s
  double wait_mean_s = 0;  // sum over layers of PhaseTiming.wait_mean_s
};

// The kinds that move data between ranks (all-to-alls, their hierarchical
// stages and backward mirrors, the gradient all-reduce).
bool IsCommunicationKind(proto::PhaseKind kind);

// PhaseTiming time: end - start.
double PhaseTime(const proto::PhaseTiming& phase);

// Bytes sent by the most-loaded rank in each phase, from the OpTimings.
// A communication phase without ops counts bytes / num_ranks (even spread).
std::map<uint32_t, uint64_t> MaxRankBytesByPhase(const proto::Report& report);

// Rows of the console table, ascending layer.
std::vector<LayerSummary> SummarizeLayers(const proto::Report& report);

// Sum of `layers`; span_s is the report's total_time_s (time_s, the summed
// critical-path times, equals it).
LayerSummary SummarizeTotal(const proto::Report& report,
                            const std::vector<LayerSummary>& layers);

// One entry per phase kind present in the report, in PhaseKind order.
std::vector<KindTotal> TotalsByKind(const proto::Report& report);

// How much of a report's communication runs under compute (the share of
// communication hidden, as ScMoE reports it), from the per-rank ops: per
// rank, the time some all-to-all of the rank is in flight (the union of its
// ops' intervals) and the part of it during which some compute op of the
// rank runs too; means over ranks. Report without ops: all zero.
struct CommunicationShare {
  double busy_s = 0;    // mean over ranks of the time in all-to-alls
  double hidden_s = 0;  // mean over ranks of the part of it under compute
  double hidden = 0;    // hidden_s / busy_s, in [0, 1]; 0 without communication
};
CommunicationShare CommunicationOf(const proto::Report& report);

// bytes / time in GB/s (1e9 B/s); 0 when time_s <= 0.
double AlgBwGbps(uint64_t bytes, double time_s);

// Seconds to microseconds.
inline double ToUs(double time_s) { return time_s * 1e6; }

// "strategy / placement", the name of a report in summaries and traces.
std::string ReportName(const proto::Report& report);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_SUMMARY_H_
