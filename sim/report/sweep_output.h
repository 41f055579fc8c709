// The table `epsim sweep` writes and reads back (to resume): one tidy row
// per point and phase kind, every input of the point as a column.
//
// Columns (csv header, json row keys), times in microseconds:
//   model,trace,tokens,seed,topology,calibrated,ep,placement,dispatch,pass,
//   overlap,context,p2p          the point's inputs (sweep/grid.h): trace
//                                empty for synthetic routing, tokens and
//                                seed empty with a trace, calibrated yes/no
//                                (written by `epsim calibrate`), ep the
//                                ranks, p2p empty for the topology's own
//   phase                        a phase kind (attention, gate_permute,
//                                dispatch, expert, combine, ...), or total
//   time_us                      the kind's critical-path time summed over
//                                layers: what it adds to the pass, so a
//                                point's kinds add up to its total; on the
//                                total row the pass time
//   span_us                      the kind's phase spans (latest end -
//                                earliest start over ranks) summed; empty
//                                on the total row
//   bytes                        bytes the kind moved over links; empty on
//                                the total row
//   devices_per_token            C_T: the mean number of GPUs a token's
//                                hidden state is sent to (the point's, on
//                                each of its rows)
//   speedup                      total row only: the pass time of the same
//                                point with classical dispatch / this one's
//                                (empty when the table has no such point)
// Figures are rounded (times to 1e-4 us, C_T to 1e-6, speedup to 1e-4)
// before anything is computed from them, so a resumed sweep writes the
// same bytes as one run at once.
//
// json: {"context": {"version", "command": "sweep", "columns": [...]},
// "rows": [{column: value}]}, numbers as numbers, empty cells as null.
#ifndef EPSIM_SIM_REPORT_SWEEP_OUTPUT_H_
#define EPSIM_SIM_REPORT_SWEEP_OUTPUT_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/report.pb.h"

namespace epsim::report {

inline constexpr size_t kSweepInputColumns = 13;

struct SweepRow {
  std::vector<std::string> inputs;  // kSweepInputColumns values
  std::string phase;                // kind name or "total"
  double time_us = 0;
  std::optional<double> span_us;
  std::optional<uint64_t> bytes;
  double devices_per_token = 0;
  std::optional<double> speedup;
};

// The column names: the inputs, then phase .. speedup.
const std::vector<std::string>& SweepColumns();

// A point's rows: one per phase kind present (PhaseKind order), then total.
std::vector<SweepRow> SweepRowsOf(const std::vector<std::string>& inputs,
                                  const proto::Report& report);

// Sets every total row's speedup from its classical twin in `rows`.
void FillSpeedups(std::vector<SweepRow>* rows);

std::string SweepCsv(const std::vector<SweepRow>& rows);
std::string SweepJson(const std::vector<SweepRow>& rows);

// A table written by SweepCsv or SweepJson (told apart by the first
// character), strict: BadInput naming `path` and the line (csv) or row
// (json) and column of the first problem.
Result<std::vector<SweepRow>> ParseSweepTable(const std::string& text, const std::string& path);

// The console summary on stdout: '#' lines naming the inputs every point
// shares, then one row per point with the inputs that vary, the pass time
// in ms, the speedup, C_T and the communication share of the pass.
void WriteSweepConsole(std::ostream& out, const std::vector<SweepRow>& rows);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_SWEEP_OUTPUT_H_
