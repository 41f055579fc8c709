// The csv format (SimulationCsv): plain records for scripts such as
// experiments/*/plot_*.py. Times are printed with 4 decimals of a
// microsecond, enough to be exact for simulated times and stable across
// platforms (fmt formats doubles the same way everywhere).
#include <fmt/format.h>

#include <string>

#include "sim/report/report.h"
#include "sim/report/summary.h"
#include "sim/report/table.h"

namespace epsim::report {

namespace {

constexpr char kCsvHeader[] =
    "strategy,placement,layer,phase,bytes,rows,time_us,start_us,end_us,max_rank,busy_max_us,"
    "busy_mean_us,critical_us,wait_max_us,wait_mean_us\n";

std::string Prefix(const proto::Report& report) {
  return CsvField(report.strategy()) + "," + CsvField(report.placement()) + ",";
}

void AppendPhases(const proto::Report& report, std::string* out) {
  const std::string prefix = Prefix(report);
  for (const proto::PhaseTiming& phase : report.phases()) {
    *out += prefix + fmt::format("{},{},{},{},{:.4f},{:.4f},{:.4f},{},{:.4f},{:.4f},{:.4f},{:.4f},"
                                 "{:.4f}\n",
                                 phase.layer(), PhaseName(phase.kind()), phase.bytes(),
                                 phase.rows(), ToUs(PhaseTime(phase)), ToUs(phase.start_s()),
                                 ToUs(phase.end_s()), phase.max_rank(), ToUs(phase.busy_max_s()),
                                 ToUs(phase.busy_mean_s()), ToUs(phase.critical_s()),
                                 ToUs(phase.wait_max_s()), ToUs(phase.wait_mean_s()));
  }
}

void AppendTotals(const proto::Report& report, std::string* out) {
  const std::string prefix = Prefix(report);
  uint64_t bytes = 0, rows = 0;
  for (const KindTotal& total : TotalsByKind(report)) {
    *out += prefix + fmt::format("all,{},{},{},{:.4f},,,,{:.4f},{:.4f},{:.4f},{:.4f},{:.4f}\n",
                                 PhaseName(total.kind), total.bytes, total.rows,
                                 ToUs(total.time_s), ToUs(total.busy_max_s),
                                 ToUs(total.busy_mean_s), ToUs(total.critical_s),
                                 ToUs(total.wait_max_s), ToUs(total.wait_mean_s));
    bytes += total.bytes;
    rows += total.rows;
  }
  // Busy times of different phases overlap in time, so the total row has
  // none; its critical-path time is the pass time.
  *out += prefix + fmt::format("all,total,{},{},{:.4f},,,,,,{:.4f},,\n", bytes, rows,
                               ToUs(report.total_time_s()), ToUs(report.total_time_s()));
}

}  // namespace

std::string SimulationCsv(const std::vector<proto::Report>& reports) {
  std::string out = kCsvHeader;
  for (const proto::Report& report : reports) AppendPhases(report, &out);
  for (const proto::Report& report : reports) AppendTotals(report, &out);
  return out;
}

}  // namespace epsim::report
