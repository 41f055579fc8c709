// `epsim diff` in console, csv and json (formats in diff_output.h). The
// three walk the same rows in the same order: per run pair the layer rows,
// the kind rows, the total, the weighted error.
#include "sim/report/diff_output.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "sim/report/summary.h"
#include "sim/report/table.h"
#include "sim/report/version.h"

namespace epsim::report {

namespace {

using Json = nlohmann::ordered_json;

bool WantLayers(DiffRows rows) { return rows != DiffRows::kKind; }
bool WantKinds(DiffRows rows) { return rows != DiffRows::kLayer; }

std::string LayerName(const DiffRow& row) {
  return row.layer ? std::to_string(*row.layer) : std::string("all");
}

// ---- console ----

// "simulated, model m, topology t, 4 ranks" and, for a measured run, how it
// was timed and checked.
std::string DescribeRun(const proto::Report& r) {
  std::string text = fmt::format("{}, model {}, topology {}, {} ranks",
                                 r.source().empty() ? "simulated" : r.source(), r.model(),
                                 r.topology(), r.num_ranks());
  if (r.source() != "measured") return text;
  text += fmt::format("; median of {} timed passes after {} warm-up passes, pass time "
                      "{:.2f} .. {:.2f} us",
                      r.iterations(), r.warmup(), ToUs(r.total_time_min_s()),
                      ToUs(r.total_time_max_s()));
  if (r.checked()) text += fmt::format("; #wrong: {}", r.wrong());
  return text;
}

void WriteFileLines(std::ostream& out, const char* label, const ReportFile& file) {
  out << fmt::format("# {}: {} (epsim {} {})\n", label, file.path, file.version, file.command);
  for (const proto::Report& r : file.reports)
    out << fmt::format("#   {}: {}\n", ReportName(r), DescribeRun(r));
}

// Runs without a partner, and a pair matched although its names differ.
void WritePairing(std::ostream& out, const ReportDiff& diff) {
  std::string lines;
  for (const std::string& name : diff.a_only_runs)
    lines += "# Run only in A (not compared): " + name + "\n";
  for (const std::string& name : diff.b_only_runs)
    lines += "# Run only in B (not compared): " + name + "\n";
  for (const RunDiff& run : diff.runs) {
    if (ReportName(run.a) != ReportName(run.b))
      lines += fmt::format("# Compared: A {} with B {} (the only run of each file)\n",
                           ReportName(run.a), ReportName(run.b));
  }
  if (!lines.empty()) out << lines << "#\n";
}

void WriteConsoleHeader(std::ostream& out, const ReportFile& a, const ReportFile& b,
                        const ReportDiff& diff) {
  out << fmt::format("# epsim {} diff\n#\n", kEpsimVersion);
  WriteFileLines(out, "A", a);
  WriteFileLines(out, "B", b);
  out << "#\n";
  WritePairing(out, diff);
  out << "# max, mean = busy_max, busy_mean: per rank end - start of the phase, max and mean"
         " over ranks (us)\n"
         "# error = (A - B) / B in percent: B is the reference (put the measured run second);"
         " N/A where B is 0\n"
         "# layer all: per phase kind, summed over the layers both files have; all total:"
         " the pass time (total_time_us) in the max columns\n#\n";
}

std::string UsCell(const std::optional<double>& time_s) {
  return time_s ? fmt::format("{:.2f}", ToUs(*time_s)) : std::string("-");
}

// Signed, except where it rounds to zero: round-off between two runs of
// the same computation would otherwise print as +0.00 or -0.00.
std::string ErrorCell(const DiffCell& cell) {
  if (!cell.a_s || !cell.b_s) return "-";
  const std::optional<double> error = ErrorPct(cell);
  if (!error) return "N/A";
  const std::string text = fmt::format("{:+.2f}", *error);
  return text == "+0.00" || text == "-0.00" ? "0.00" : text;
}

TableRow ConsoleRow(const RunDiff& run, const std::string& layer, const std::string& phase,
                    const DiffCell& max, const DiffCell* mean) {
  TableRow row = {run.a.strategy(), run.a.placement(), layer,          phase,
                  UsCell(max.a_s),  UsCell(max.b_s),   ErrorCell(max)};
  for (const std::string& cell : mean ? TableRow{UsCell(mean->a_s), UsCell(mean->b_s),
                                                 ErrorCell(*mean)}
                                      : TableRow{"-", "-", "-"})
    row.push_back(cell);
  return row;
}

void AppendConsoleRows(const RunDiff& run, DiffRows rows, std::vector<TableRow>* table) {
  if (WantLayers(rows))
    for (const DiffRow& r : run.layers)
      table->push_back(ConsoleRow(run, LayerName(r), PhaseName(r.kind), r.busy_max, &r.busy_mean));
  if (WantKinds(rows))
    for (const DiffRow& r : run.kinds)
      table->push_back(ConsoleRow(run, "all", PhaseName(r.kind), r.busy_max, &r.busy_mean));
  table->push_back(ConsoleRow(run, "all", "total", run.total, nullptr));
}

// Every record that only one file has, then the weighted error per pair.
void WriteConsoleFooter(std::ostream& out, const ReportDiff& diff) {
  out << "#\n";
  for (const RunDiff& run : diff.runs)
    for (const DiffRow& r : run.layers)
      if (!r.busy_max.a_s || !r.busy_max.b_s)
        out << fmt::format("# Record only in {}: {} layer {} {}\n", r.busy_max.a_s ? "A" : "B",
                           ReportName(run.a), LayerName(r), PhaseName(r.kind));
  out << "# Weighted error = sum over phase kinds of |A - B| of busy_max / sum of B's busy_max\n";
  size_t width = 0;
  for (const RunDiff& run : diff.runs) width = std::max(width, ReportName(run.a).size());
  for (const RunDiff& run : diff.runs)
    out << fmt::format("#   {:<{}} : {}\n", ReportName(run.a), width,
                       run.weighted_error_pct ? fmt::format("{:.2f}%", *run.weighted_error_pct)
                                              : std::string("N/A (B's busy_max is 0)"));
}

void WriteConsole(std::ostream& out, const ReportFile& a, const ReportFile& b,
                  const ReportDiff& diff, DiffRows rows) {
  WriteConsoleHeader(out, a, b, diff);
  std::vector<TableRow> table;
  for (const RunDiff& run : diff.runs) AppendConsoleRows(run, rows, &table);
  out << FormatTable({"strategy", "placement", "layer", "phase", "A_max(us)", "B_max(us)",
                      "err_max(%)", "A_mean(us)", "B_mean(us)", "err_mean(%)"},
                     table);
  WriteConsoleFooter(out, diff);
}

// ---- csv ----

// 4 decimals like the simulate csv; -0.0000 (round-off) prints as 0.0000.
std::string CsvNumber(const std::optional<double>& value, double scale) {
  if (!value) return "";
  const std::string text = fmt::format("{:.4f}", *value * scale);
  return text == "-0.0000" ? "0.0000" : text;
}

void AppendCsvRecord(const RunDiff& run, const std::string& layer, const std::string& phase,
                     const char* metric, const DiffCell& cell, std::string* out) {
  *out += fmt::format("{},{},{},{},{},{},{},{},{},{}\n", CsvField(run.a.strategy()),
                      CsvField(run.a.placement()), CsvField(run.b.strategy()),
                      CsvField(run.b.placement()), layer, phase, metric, CsvNumber(cell.a_s, 1e6),
                      CsvNumber(cell.b_s, 1e6), CsvNumber(ErrorPct(cell), 1));
}

void AppendCsvRows(const RunDiff& run, const std::vector<DiffRow>& rows, std::string* out) {
  for (const DiffRow& r : rows) {
    AppendCsvRecord(run, LayerName(r), PhaseName(r.kind), "busy_max", r.busy_max, out);
    AppendCsvRecord(run, LayerName(r), PhaseName(r.kind), "busy_mean", r.busy_mean, out);
  }
}

void WriteCsv(std::ostream& out, const ReportDiff& diff, DiffRows rows) {
  std::string text =
      "a_strategy,a_placement,b_strategy,b_placement,layer,phase,metric,a_us,b_us,error_pct\n";
  for (const RunDiff& run : diff.runs) {
    if (WantLayers(rows)) AppendCsvRows(run, run.layers, &text);
    if (WantKinds(rows)) AppendCsvRows(run, run.kinds, &text);
    AppendCsvRecord(run, "all", "total", "total_time", run.total, &text);
    text += fmt::format("{},{},{},{},all,all,weighted_error,,,{}\n", CsvField(run.a.strategy()),
                        CsvField(run.a.placement()), CsvField(run.b.strategy()),
                        CsvField(run.b.placement()), CsvNumber(run.weighted_error_pct, 1));
  }
  out << text;
}

// ---- json ----

Json OrNull(const std::optional<double>& value, double scale) {
  return value ? Json(*value * scale) : Json(nullptr);
}

Json CellJson(const DiffCell& cell) {
  return Json{{"a_us", OrNull(cell.a_s, 1e6)},
              {"b_us", OrNull(cell.b_s, 1e6)},
              {"error_pct", OrNull(ErrorPct(cell), 1)}};
}

Json RowJson(const DiffRow& row) {
  Json json = Json::object();
  if (row.layer) json["layer"] = *row.layer;
  json["phase"] = PhaseName(row.kind);
  json["busy_max"] = CellJson(row.busy_max);
  json["busy_mean"] = CellJson(row.busy_mean);
  return json;
}

Json RowsJson(const std::vector<DiffRow>& rows) {
  Json json = Json::array();
  for (const DiffRow& row : rows) json.push_back(RowJson(row));
  return json;
}

Json RunJson(const RunDiff& run, DiffRows rows) {
  Json json{{"a", {{"strategy", run.a.strategy()}, {"placement", run.a.placement()}}},
            {"b", {{"strategy", run.b.strategy()}, {"placement", run.b.placement()}}}};
  if (WantLayers(rows)) json["layers"] = RowsJson(run.layers);
  if (WantKinds(rows)) json["kinds"] = RowsJson(run.kinds);
  json["total"] = CellJson(run.total);
  json["weighted_error_pct"] = OrNull(run.weighted_error_pct, 1);
  return json;
}

Json FileJson(const ReportFile& file) {
  Json runs = Json::array();
  for (const proto::Report& r : file.reports) {
    runs.push_back({{"strategy", r.strategy()},       {"placement", r.placement()},
                    {"source", r.source()},           {"model", r.model()},
                    {"topology", r.topology()},       {"num_ranks", r.num_ranks()},
                    {"iterations", r.iterations()},   {"warmup", r.warmup()},
                    {"total_time_us", ToUs(r.total_time_s())},
                    {"total_time_min_us", ToUs(r.total_time_min_s())},
                    {"total_time_max_us", ToUs(r.total_time_max_s())},
                    {"checked", r.checked()},         {"wrong", r.wrong()}});
  }
  return Json{{"file", file.path},
              {"version", file.version},
              {"command", file.command},
              {"runs", runs}};
}

void WriteJson(std::ostream& out, const ReportFile& a, const ReportFile& b,
               const ReportDiff& diff, DiffRows rows) {
  Json runs = Json::array();
  for (const RunDiff& run : diff.runs) runs.push_back(RunJson(run, rows));
  const Json doc{{"context",
                  {{"version", kEpsimVersion},
                   {"command", "diff"},
                   {"error", "(A - B) / B * 100; B is the reference"},
                   {"a", FileJson(a)},
                   {"b", FileJson(b)}}},
                 {"runs", runs},
                 {"only_in_a", diff.a_only_runs},
                 {"only_in_b", diff.b_only_runs}};
  out << doc.dump(2) << "\n";
}

}  // namespace

Result<DiffRows> ParseDiffRows(const std::string& name) {
  if (name == "layer") return DiffRows::kLayer;
  if (name == "kind") return DiffRows::kKind;
  if (name == "both") return DiffRows::kBoth;
  return Status::Usage("unknown --by '" + name + "' (expected layer, kind or both)");
}

void WriteDiff(std::ostream& out, Format format, const ReportFile& a, const ReportFile& b,
               const ReportDiff& diff, DiffRows rows) {
  switch (format) {
    case Format::kConsole: WriteConsole(out, a, b, diff, rows); break;
    case Format::kCsv: WriteCsv(out, diff, rows); break;
    case Format::kJson: WriteJson(out, a, b, diff, rows); break;
  }
  out.flush();
}

}  // namespace epsim::report
