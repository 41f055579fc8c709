// The report layer: the only code in epsim that prints or writes results.
//
// Input is a list of proto::Report (sim/proto/report.proto), one per simulated
// or measured run (e.g. one per dispatch strategy), all with times in seconds
// from the start of the pass. Output formats, google/benchmark style:
//
//   console  nccl-tests-like table: '#' header lines (version, inputs,
//            settings, one line per run; for a measured run also the number
//            of timed and warm-up passes, the range of the pass time and,
//            when outputs were checked, "#wrong: N"), then one row per
//            (report, layer) and one total row per report, then a '#'
//            summary of totals and speedups. The busy times are in csv and
//            json only.
//   csv      one record per (report, phase) in schedule order, then totals;
//            see SimulationCsv for the columns.
//   json     {"context": {...}, "records": [...], "totals": [...]}: records
//            and totals have the csv columns as keys (a totals entry only
//            those it fills); context.runs[] has per report strategy,
//            placement, source, model, topology, num_ranks, total_time_us,
//            total_time_min_us, total_time_max_us, iterations, warmup,
//            checked, wrong and settings. Read back by ReadReportJson
//            (json_input.h).
//
// Metrics (all SI: 1 GB = 1e9 B, 1 us = 1e-6 s):
//   time     phase time = end - start: latest end over ranks minus earliest
//            start over ranks (PhaseTiming).
//   algbw    bytes sent by the most-loaded rank / phase time. Rows that stay
//            on their own rank never cross a link and are not counted in
//            bytes, so unlike nccl-tests' all-to-all busbw there is no
//            (n-1)/n correction: algbw is already what the busiest rank's
//            links carried.
//   layer    latest end minus earliest start over the layer's phases (phases
//            may overlap, so the phase columns need not add up to it).
//   busy_max_us, busy_mean_us
//            per-rank busy time of a phase: each rank's end - start of its
//            op in the phase, then the max and the mean over ranks
//            (PhaseTiming.busy_max_s, busy_mean_s). A phase's span (time)
//            also counts the skew between ranks (one starts late, another
//            ends early); busy does not, which is why executors are
//            compared on busy (epsim diff). Measured: each rank's median
//            over the timed passes.
//   total_time_us
//            the pass time: latest end of any phase. Measured: the median
//            over timed passes of each pass's time; total_time_min_us and
//            total_time_max_us are its range (equal for simulated runs).
//   iterations, warmup
//            timed passes and untimed passes before them (simulated: 1, 0).
//   checked, wrong
//            whether a measured run verified its outputs against the
//            reference (epsim-hw --check), and how many elements were
//            outside tolerance (nccl-tests' #wrong).
#ifndef EPSIM_SIM_REPORT_REPORT_H_
#define EPSIM_SIM_REPORT_REPORT_H_

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/report.pb.h"
#include "sim/proto/schedule.pb.h"

namespace epsim::report {

enum class Format { kConsole, kCsv, kJson };

// "console" | "csv" | "json"; anything else is a Status::Usage error.
Result<Format> ParseFormat(const std::string& name);

// What a run was: printed as '#' header lines (console) or a "context" object
// (json); csv carries only its column header row.
struct RunInfo {
  std::string command;                                        // e.g. "simulate"
  std::vector<std::pair<std::string, std::string>> inputs;    // ("model", "olmoe-1b-7b"), ...
  std::vector<std::pair<std::string, std::string>> settings;  // simgrid version, network model, ...
  // What the reader should know about the run as a whole, once each (a
  // strategy that changes nothing here, a name listed twice): console
  // "# Notes:" lines after the settings, json context "notes" (only when
  // there are any); csv has no header and leaves them out.
  std::vector<std::string> notes;
};

// Writes all `reports` (one per run, e.g. per dispatch strategy) in `format`.
// The first report is the baseline of the console summary's speedups.
void WriteSimulation(std::ostream& out, Format format, const RunInfo& info,
                     const std::vector<proto::Report>& reports);

// The csv format as a string (for --csv files). Columns:
//   strategy,placement,layer,phase,bytes,rows,time_us,start_us,end_us,max_rank,
//   busy_max_us,busy_mean_us
// One record per (report, phase) in schedule order, time_us = end - start.
// Then per report: one record per phase kind present, layer "all", with bytes,
// rows, time_us, busy_max_us and busy_mean_us summed over layers (start_us,
// end_us, max_rank empty), and one record with layer "all", phase "total",
// time_us = total_time_s (busy columns empty: phases overlap in time).
std::string SimulationCsv(const std::vector<proto::Report>& reports);

// Writes a Chrome trace event file (chrome://tracing, ui.perfetto.dev)
// atomically: one process per report ("strategy / placement"), per rank r a
// thread "GPU r compute" (the compute stream) and a thread "GPU r comm" (the
// communication stream), one complete ("X") event per OpTiming named
// "<phase> L<layer>" with ts/dur in microseconds and the bytes in args, and
// on each compute track "block L<layer>" slices (" backward" in a train
// pass's backward) in which the block's phases nest. With `schedules` (the
// plans the reports replayed, one per report), every all-to-all also gets a
// flow arrow from each sender's op to each receiver's op that the plan sends
// bytes between (up to kMaxFlowRanks ranks; beyond, D^2 arrows per phase
// would swamp the viewer). Fails on an op whose phase is not in the report.
inline constexpr uint32_t kMaxFlowRanks = 32;
Status WriteChromeTrace(const std::string& path, const std::vector<proto::Report>& reports,
                        const std::vector<proto::Schedule>* schedules = nullptr);

// "attention", "shared_expert", "dense_ffn", "gate_permute", "dispatch",
// "expert", "combine", "unpermute_reduce" ("unspecified" otherwise).
const char* PhaseName(proto::PhaseKind kind);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_REPORT_H_
