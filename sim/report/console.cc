// The console format: an nccl-tests-style table. '#' lines carry everything
// that is not a data row (header, column names, summary), so `grep -v '^#'`
// leaves the rows. Columns are right-aligned to the widest cell, which keeps
// the output deterministic for a given set of reports.
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sim/report/formats.h"
#include "sim/report/summary.h"
#include "sim/report/table.h"
#include "sim/report/version.h"

namespace epsim::report {

namespace {

using Row = TableRow;

const Row& ColumnNames() {
  static const Row kColumns = {"strategy",    "placement",  "layer",      "dispatch(B)",
                               "dispatch(us)", "algbw(GB/s)", "expert(us)", "combine(B)",
                               "combine(us)", "other(us)",   "wait(us)",   "layer(us)"};
  return kColumns;
}

std::string Us(double time_s) { return fmt::format("{:.2f}", ToUs(time_s)); }

Row TableRow(const proto::Report& report, const std::string& layer, const LayerSummary& s) {
  const double algbw = AlgBwGbps(s.dispatch_max_rank_bytes, s.dispatch_busy_max_s);
  return {report.strategy(),
          report.placement(),
          layer,
          fmt::format("{}", s.dispatch_bytes),
          Us(s.dispatch_time_s),
          s.dispatch_busy_max_s > 0 ? fmt::format("{:.2f}", algbw) : std::string("N/A"),
          Us(s.expert_time_s),
          fmt::format("{}", s.combine_bytes),
          Us(s.combine_time_s),
          Us(s.other_time_s),
          Us(s.wait_mean_s),
          Us(s.time_s)};
}

// Layer rows then the total row of one report.
void AppendReportRows(const proto::Report& report, std::vector<Row>* rows) {
  const std::vector<LayerSummary> layers = SummarizeLayers(report);
  for (const LayerSummary& s : layers) rows->push_back(TableRow(report, std::to_string(s.layer), s));
  rows->push_back(TableRow(report, "total", SummarizeTotal(report, layers)));
}

void WriteKeyValues(std::ostream& out, const char* title,
                    const std::vector<std::pair<std::string, std::string>>& pairs) {
  if (pairs.empty()) return;
  out << "# " << title << ":\n";
  for (const auto& [key, value] : pairs) out << fmt::format("#   {}: {}\n", key, value);
}

// A measured run is a median over passes: say over how many, their range
// and, nccl-tests style, how many output elements were wrong (0 when none).
void WriteMeasuredLines(std::ostream& out, const proto::Report& r) {
  if (r.source() != "measured") return;
  out << fmt::format("#     source: measured, median of {} timed passes after {} warm-up passes;"
                     " pass time {:.2f} .. {:.2f} us\n",
                     r.iterations(), r.warmup(), ToUs(r.total_time_min_s()),
                     ToUs(r.total_time_max_s()));
  if (r.checked()) out << fmt::format("#     #wrong: {}\n", r.wrong());
}

void WriteHeader(std::ostream& out, const RunInfo& info,
                 const std::vector<proto::Report>& reports) {
  out << fmt::format("# epsim {} {}\n#\n", kEpsimVersion, info.command);
  WriteKeyValues(out, "Inputs", info.inputs);
  WriteKeyValues(out, "Settings", info.settings);
  if (!info.notes.empty()) out << "# Notes:\n";
  for (const std::string& note : info.notes) out << "#   " << note << "\n";
  if (!reports.empty()) out << "# Runs:\n";
  for (const proto::Report& r : reports) {
    out << fmt::format("#   {}: {}, model {}, topology {}, {} ranks\n", ReportName(r),
                       r.source().empty() ? "simulated" : r.source(), r.model(), r.topology(),
                       r.num_ranks());
    WriteMeasuredLines(out, r);
  }
  out << "#\n# Times are critical-path times: what each phase adds to the pass (they sum to"
         " layer(us), and the layers to the pass time); other = all phases but dispatch,"
         " expert, combine (and their backward phases in training)\n"
         "# algbw = bytes sent by the most-loaded rank / the slowest rank's dispatch time"
         " (GB = 1e9 B); wait = mean rank's time in all-to-alls before its last sender"
         " started (skew)\n#\n";
}

// Total time of each report and its speedup over the first one.
void WriteSummary(std::ostream& out, const std::vector<proto::Report>& reports) {
  if (reports.empty()) return;
  size_t width = 0;
  for (const proto::Report& r : reports) width = std::max(width, ReportName(r).size());
  const double baseline_s = reports.front().total_time_s();
  out << fmt::format("#\n# Total time per pass; speedup over {} = its time / this time\n",
                     ReportName(reports.front()));
  for (const proto::Report& r : reports) {
    const double speedup = r.total_time_s() > 0 ? baseline_s / r.total_time_s() : 0.0;
    out << fmt::format("#   {:<{}} : {:>12.2f} us  {:>6.2f}x\n", ReportName(r), width,
                       ToUs(r.total_time_s()), speedup);
  }
  out << "#\n# Communication per rank (mean over ranks): time with an all-to-all in flight,"
         " and the part of it under compute (hidden)\n";
  for (const proto::Report& r : reports) {
    const CommunicationShare c = CommunicationOf(r);
    out << fmt::format("#   {:<{}} : {:>12.2f} us, hidden {:>12.2f} us = {:5.1f}%\n",
                       ReportName(r), width, ToUs(c.busy_s), ToUs(c.hidden_s), 100 * c.hidden);
  }
}

}  // namespace

void WriteConsole(std::ostream& out, const RunInfo& info,
                  const std::vector<proto::Report>& reports) {
  WriteHeader(out, info, reports);
  std::vector<Row> rows;
  for (const proto::Report& report : reports) AppendReportRows(report, &rows);
  out << FormatTable(ColumnNames(), rows);
  WriteSummary(out, reports);
}

}  // namespace epsim::report
