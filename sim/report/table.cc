#include "sim/report/table.h"

#include <fmt/format.h>

#include <algorithm>

namespace epsim::report {

namespace {

std::vector<size_t> ColumnWidths(const TableRow& names, const std::vector<TableRow>& rows) {
  std::vector<size_t> widths;
  for (const std::string& name : names) widths.push_back(name.size());
  for (const TableRow& row : rows)
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  return widths;
}

// `lead` is "#" for the column-name line and " " for data rows, so both align.
std::string FormatLine(const char* lead, const TableRow& row, const std::vector<size_t>& widths) {
  std::string line = lead;
  for (size_t i = 0; i < row.size() && i < widths.size(); ++i)
    line += fmt::format("  {:>{}}", row[i], widths[i]);
  return line + "\n";
}

}  // namespace

std::string FormatTable(const TableRow& names, const std::vector<TableRow>& rows) {
  const std::vector<size_t> widths = ColumnWidths(names, rows);
  std::string text = FormatLine("#", names, widths);
  for (const TableRow& row : rows) text += FormatLine(" ", row, widths);
  return text;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace epsim::report
