// Internal text helpers of the report layer: the aligned '#'-headed table
// of the console formats and csv field quoting.
#ifndef EPSIM_SIM_REPORT_TABLE_H_
#define EPSIM_SIM_REPORT_TABLE_H_

#include <string>
#include <vector>

namespace epsim::report {

using TableRow = std::vector<std::string>;

// The column-name line (led by '#') then one line per row (led by ' '),
// each cell right-aligned to its column's widest cell, two spaces apart, so
// that `grep -v '^#'` leaves the rows. Every row has names.size() cells.
std::string FormatTable(const TableRow& names, const std::vector<TableRow>& rows);

// RFC 4180 quoting, only where needed (names are normally plain words).
std::string CsvField(const std::string& text);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_TABLE_H_
