// Inside nccl_tests_log.cc: the column layout of one nccl-tests table, its
// rows, and the checks between a row's printed figures
// (sim/measure/nccl_tests_log.h describes the format and the checks).
// Not an API for other layers.
#ifndef EPSIM_SIM_MEASURE_NCCL_TESTS_TABLE_H_
#define EPSIM_SIM_MEASURE_NCCL_TESTS_TABLE_H_

#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/measure/log_text.h"
#include "sim/measure/nccl_tests_log.h"

namespace epsim::measure::internal {

// What the column-name and units lines say.
struct NcclColumns {
  std::vector<std::string> names;
  int line = 0;  // of the column names, 1-based
  bool has_redop = false;
  bool has_root = false;
  bool cpu_time = false;      // `cputime` instead of `time`
  bool error_column = false;  // `error` (before 2022) instead of `#wrong`
  bool iter_stats = false;    // i_min i_max i_p99 i_cv% in each half
  bool timestamp = false;     // trailing `timestamp`
  // The in-place half is printed: every nccl-tests table; no epsim bench
  // table (out-of-place columns only).
  bool in_place = true;
  bool epsim = false;  // an epsim bench table (the column names epsim prints, and only those)
  int halves() const { return in_place ? 2 : 1; }
  // Tokens of one row.
  size_t num_tokens() const;
};

// `#` followed by the column names: "size" first.
bool IsColumnNamesLine(const std::string& line);

// The layout from the column-name line and the units line below it
// (1-based line numbers for messages). `epsim`: the table of an epsim
// bench header, whose columns must be exactly those epsim prints (size
// count type redop root time algbw busbw #wrong: out-of-place only).
Result<NcclColumns> ParseColumns(const std::string& names_line, const std::string& units_line,
                                 const std::string& file, int line, bool epsim = false);

// A row and the printed precision of its timing figures.
struct PrintedRow {
  NcclTestsRow row;
  PrintedNumber time[2], algbw[2], busbw[2];
};

// Whether `tokens` could only be a row of `columns`: the field count, size
// and count unsigned, a known type. Used to catch rows outside a table.
bool LooksLikeRow(const std::vector<std::string>& tokens, const NcclColumns& columns);

// One data row: every field parsed and in range, nothing checked against
// other fields yet. Without in-place columns, the row's in-place figures
// are NaN and its wrong[1] -1.
Result<PrintedRow> ParseRow(const std::vector<std::string>& tokens, const NcclColumns& columns,
                            const std::string& file, int line);

// The checks between the figures of one table's rows: size vs count,
// algbw vs size / time, busbw vs algbw, sizes in order, the footer's
// average. Feed every row in order, then the footer.
class NcclRowChecker {
 public:
  // `num_ranks` 0: unknown (checks that need it are skipped). `max_bytes`
  // 0: unknown. `columns.epsim`: epsim's conventions where they differ
  // from nccl-tests' (alltoall's count, the average's format).
  NcclRowChecker(std::string file, NcclTest test, int num_ranks, const NcclColumns& columns,
                 uint64_t max_bytes, bool run_cycles);

  Status Add(const PrintedRow& row);
  // The `# Avg bus bandwidth` figure against the mean of the busbw printed.
  Status CheckAverage(const PrintedNumber& avg, int line) const;
  // Rows fit only the pre-2020 all_gather / reduce_scatter convention.
  bool legacy_algbw() const { return conventions_ == kLegacy; }

 private:
  enum : int { kCurrent = 1, kLegacy = 2 };
  // "all_reduce_perf", or "epsim bench all_reduce", for messages.
  std::string TestLabel() const;
  Status CheckSize(const NcclTestsRow& row) const;
  Status CheckOrder(const NcclTestsRow& row);
  Status CheckBandwidth(const PrintedRow& row, int half);
  // Whether the row's figures fit convention `c` (kCurrent or kLegacy).
  bool Fits(const PrintedRow& row, int half, int c) const;

  std::string file_;
  NcclTest test_;
  int num_ranks_;
  bool cpu_time_;
  bool epsim_;
  int halves_;
  uint64_t max_bytes_;
  bool run_cycles_;
  int conventions_;  // bit set of the conventions every row so far fits
  NcclTestsRow sweep_first_, previous_;
  bool have_previous_ = false;
  double busbw_sum_ = 0, busbw_half_step_sum_ = 0;
  int busbw_figures_ = 0;
};

}  // namespace epsim::measure::internal

#endif  // EPSIM_SIM_MEASURE_NCCL_TESTS_TABLE_H_
