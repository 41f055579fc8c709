#include "sim/measure/nccl_tests_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <regex>
#include <set>
#include <utility>

namespace epsim::measure::internal {

namespace {

constexpr const char* kHalfName[2] = {"out-of-place", "in-place"};
constexpr const char* kIterColumns[4] = {"i_min", "i_max", "i_p99", "i_cv%"};

// Reads one half of the column names at names[*at]: time|cputime algbw
// busbw #wrong|error [i_min i_max i_p99 i_cv%].
Status ReadHalf(const std::vector<std::string>& names, size_t* at, NcclColumns* c, int half,
                const std::string& file) {
  auto want = [&](std::initializer_list<const char*> options) -> Result<std::string> {
    const std::string got = *at < names.size() ? names[*at] : "(end of line)";
    for (const char* option : options)
      if (got == option) return names[(*at)++];
    std::string list;
    for (const char* option : options) list += (list.empty() ? "" : " or ") + std::string(option);
    return BadLine(file, c->line,
                   fmt::format("column {} is '{}', want {} ({} columns)", *at + 1, got, list,
                               kHalfName[half]));
  };
  EPSIM_ASSIGN_OR_RETURN(const std::string time, want({"time", "cputime"}));
  EPSIM_RETURN_IF_ERROR(want({"algbw"}).status());
  EPSIM_RETURN_IF_ERROR(want({"busbw"}).status());
  EPSIM_ASSIGN_OR_RETURN(const std::string wrong, want({"#wrong", "error"}));
  const bool iter = *at < names.size() && names[*at] == "i_min";
  if (iter)
    for (const char* name : kIterColumns) EPSIM_RETURN_IF_ERROR(want({name}).status());
  if (half == 0) {
    c->cpu_time = time == "cputime";
    c->error_column = wrong == "error";
    c->iter_stats = iter;
  } else if (c->cpu_time != (time == "cputime") || c->error_column != (wrong == "error") ||
             c->iter_stats != iter) {
    return BadLine(file, c->line, "the in-place columns differ from the out-of-place ones");
  }
  return Status::Ok();
}

// The units nccl-tests prints under each column ("" for none), with the
// column each belongs to.
std::vector<std::pair<std::string, std::string>> ExpectedUnits(const NcclColumns& c) {
  std::vector<std::pair<std::string, std::string>> units = {{"(B)", "size"},
                                                            {"(elements)", "count"}};
  for (int half = 0; half < c.halves(); ++half) {
    const std::string name = std::string(kHalfName[half]) + " ";
    const std::string time = c.cpu_time ? "cputime" : "time";
    units.push_back({"(us)", name + time});
    units.push_back({"(GB/s)", name + "algbw"});
    units.push_back({"(GB/s)", name + "busbw"});
    if (c.iter_stats) {
      for (int k = 0; k < 3; ++k) units.push_back({"(us)", name + kIterColumns[k]});
      units.push_back({"(%)", name + kIterColumns[3]});
    }
  }
  if (c.timestamp) {
    units.push_back({"%Y-%m-%d", "timestamp"});
    units.push_back({"%H:%M:%S", "timestamp"});
  }
  return units;
}

Status CheckUnits(const std::string& units_line, const NcclColumns& c, const std::string& file) {
  const int line = c.line + 1;
  const char* printer = c.epsim ? "epsim bench" : "nccl-tests";
  std::vector<std::string> got = Tokens(units_line);
  if (got.empty() || got[0] != "#")
    return BadLine(file, line,
                   "want the units line `#  (B)  (elements) ... (us)  (GB/s)  "
                   "(GB/s)` below the column names");
  got.erase(got.begin());
  const auto want = ExpectedUnits(c);
  for (size_t k = 0; k < std::max(got.size(), want.size()); ++k) {
    if (k < got.size() && k < want.size() && got[k] == want[k].first) continue;
    if (k >= got.size())
      return BadLine(
          file, line,
          fmt::format("units line ends before '{}' of {}", want[k].first, want[k].second));
    if (k >= want.size())
      return BadLine(file, line, fmt::format("units line has '{}' after the last column", got[k]));
    return BadLine(file, line,
                   fmt::format("unit '{}' where {} prints '{}' for {} "
                               "(a column in other units?)",
                               got[k], printer, want[k].first, want[k].second));
  }
  return Status::Ok();
}

bool KnownRedop(const std::string& op) {
  static const std::set<std::string> kOps = {"sum", "prod", "max", "min", "avg", "mulsum", "none"};
  return kOps.count(op) > 0;
}

// Reads tokens[*at] as a non-negative printed number.
Result<PrintedNumber> ReadFigure(const std::vector<std::string>& tokens, size_t* at,
                                 const std::string& what, const std::string& file, int line) {
  const std::string& token = tokens[(*at)++];
  const std::optional<PrintedNumber> n = ParsePrintedNumber(token);
  if (!n) return BadLine(file, line, fmt::format("{} '{}' is not a finite number", what, token));
  if (n->value < 0) return BadLine(file, line, fmt::format("{} {} is negative", what, token));
  return *n;
}

Status ReadWrong(const std::string& token, const NcclColumns& c, int half, NcclTestsRow* row,
                 const std::string& file, int line) {
  if (token == "N/A") return Status::Ok();
  const std::string what =
      fmt::format("{} {}", kHalfName[half], c.error_column ? "error" : "#wrong");
  const std::optional<PrintedNumber> n = ParsePrintedNumber(token);
  if (!n || n->value < 0)
    return BadLine(file, line, fmt::format("{} '{}' is not N/A or a count >= 0", what, token));
  if (c.error_column) {
    row->max_error[half] = n->value;
  } else if (n->value != std::floor(n->value) || n->value > 9.2e18) {
    return BadLine(file, line, fmt::format("{} '{}' is not a whole count", what, token));
  } else {
    row->wrong[half] = static_cast<int64_t>(n->value);
  }
  return Status::Ok();
}

Status ReadHalfFigures(const std::vector<std::string>& tokens, size_t* at, const NcclColumns& c,
                       int half, PrintedRow* out, const std::string& file, int line) {
  const std::string name = kHalfName[half];
  NcclTestsRow& row = out->row;
  EPSIM_ASSIGN_OR_RETURN(out->time[half], ReadFigure(tokens, at, name + " time", file, line));
  EPSIM_ASSIGN_OR_RETURN(out->algbw[half], ReadFigure(tokens, at, name + " algbw", file, line));
  EPSIM_ASSIGN_OR_RETURN(out->busbw[half], ReadFigure(tokens, at, name + " busbw", file, line));
  row.time_us[half] = out->time[half].value;
  row.algbw_gbps[half] = out->algbw[half].value;
  row.busbw_gbps[half] = out->busbw[half].value;
  EPSIM_RETURN_IF_ERROR(ReadWrong(tokens[(*at)++], c, half, &row, file, line));
  if (!c.iter_stats) return Status::Ok();
  double v[4];
  for (int k = 0; k < 4; ++k) {
    EPSIM_ASSIGN_OR_RETURN(const PrintedNumber n,
                           ReadFigure(tokens, at, name + " " + kIterColumns[k], file, line));
    v[k] = n.value;
  }
  row.iter[half] = NcclTestsIterStats{v[0], v[1], v[2], v[3]};
  return Status::Ok();
}

// Intervals [lo1, hi1] and [lo2, hi2] meet, allowing for the floating-point
// error of the arithmetic (not for rounding: the intervals carry that).
bool Meet(double lo1, double hi1, double lo2, double hi2) {
  auto slack = [](double x) { return x * (1 + 1e-9) + 1e-12; };
  return lo1 <= slack(hi2) && lo2 <= slack(hi1);
}

std::string Range(double lo, double hi) {
  return fmt::format("{:.6g}..{}", lo, std::isinf(hi) ? "inf" : fmt::format("{:.6g}", hi));
}

}  // namespace

size_t NcclColumns::num_tokens() const {
  const size_t half = 4 + (iter_stats ? 4 : 0);
  return 3 + has_redop + has_root + halves() * half + (timestamp ? 2 : 0);
}

bool IsColumnNamesLine(const std::string& line) {
  const std::vector<std::string> t = Tokens(line);
  return t.size() >= 2 && t[0] == "#" && t[1] == "size";
}

Result<NcclColumns> ParseColumns(const std::string& names_line, const std::string& units_line,
                                 const std::string& file, int line, bool epsim) {
  NcclColumns c;
  c.line = line;
  c.names = Tokens(names_line);
  c.names.erase(c.names.begin());  // the '#'
  if (epsim) {
    // sim/report/bench_output.cc: one layout, out-of-place only.
    const std::vector<std::string> epsim_columns = {"size",  "count", "type",  "redop", "root",
                                                    "time",  "algbw", "busbw", "#wrong"};
    if (c.names != epsim_columns) {
      std::string got;
      for (const std::string& name : c.names) got += (got.empty() ? "" : " ") + name;
      return BadLine(file, line,
                     fmt::format("columns '{}' below an epsim bench header, which prints "
                                 "'size count type redop root time algbw busbw #wrong'",
                                 got));
    }
    c.epsim = true;
    c.in_place = false;
    c.has_redop = c.has_root = true;
    EPSIM_RETURN_IF_ERROR(CheckUnits(units_line, c, file));
    return c;
  }
  const std::vector<std::string> lead = {"size", "count", "type"};
  for (size_t k = 0; k < lead.size(); ++k)
    if (k >= c.names.size() || c.names[k] != lead[k])
      return BadLine(file, line,
                     fmt::format("column {} is '{}', want '{}' (nccl-tests prints "
                                 "size count type first)",
                                 k + 1, k < c.names.size() ? c.names[k] : "", lead[k]));
  size_t at = lead.size();
  if (at < c.names.size() && c.names[at] == "redop") c.has_redop = ++at > 0;
  if (at < c.names.size() && c.names[at] == "root") c.has_root = ++at > 0;
  for (int half = 0; half < 2; ++half) {
    if (half == 1 && at == c.names.size())
      return BadLine(file, line,
                     "no in-place columns: nccl-tests prints the out-of-place and the in-place "
                     "half (only an epsim bench table, below its `# epsim` header, has "
                     "out-of-place columns only)");
    EPSIM_RETURN_IF_ERROR(ReadHalf(c.names, &at, &c, half, file));
  }
  if (at < c.names.size() && c.names[at] == "timestamp") c.timestamp = ++at > 0;
  if (at < c.names.size())
    return BadLine(file, line,
                   fmt::format("unknown column '{}' after the in-place columns", c.names[at]));
  EPSIM_RETURN_IF_ERROR(CheckUnits(units_line, c, file));
  return c;
}

bool LooksLikeRow(const std::vector<std::string>& tokens, const NcclColumns& columns) {
  return tokens.size() == columns.num_tokens() && ParseUnsigned(tokens[0]) &&
         ParseUnsigned(tokens[1]) && NcclTypeBytes(tokens[2]);
}

Result<PrintedRow> ParseRow(const std::vector<std::string>& tokens, const NcclColumns& c,
                            const std::string& file, int line) {
  if (tokens.size() != c.num_tokens())
    return BadLine(file, line,
                   fmt::format("{} fields, the column names (line {}) give {}", tokens.size(),
                               c.line, c.num_tokens()));
  PrintedRow out;
  NcclTestsRow& row = out.row;
  row.line = line;
  const std::optional<uint64_t> size = ParseUnsigned(tokens[0]), count = ParseUnsigned(tokens[1]);
  if (!size) return BadLine(file, line, fmt::format("size '{}' is not a byte count", tokens[0]));
  if (!count)
    return BadLine(file, line, fmt::format("count '{}' is not an element count", tokens[1]));
  row.size_bytes = *size;
  row.count = *count;
  row.type = tokens[2];
  if (!NcclTypeBytes(row.type))
    return BadLine(file, line, fmt::format("unknown data type '{}'", row.type));
  size_t at = 3;
  if (c.has_redop) {
    row.redop = tokens[at++];
    if (!KnownRedop(row.redop))
      return BadLine(file, line, fmt::format("unknown reduction '{}'", row.redop));
  }
  if (c.has_root) {
    const std::optional<int64_t> root = ParseSigned(tokens[at++]);
    if (!root || *root < -1)
      return BadLine(file, line, fmt::format("root '{}' is not a rank or -1", tokens[at - 1]));
    row.root = *root;
  }
  for (int half = 0; half < c.halves(); ++half)
    EPSIM_RETURN_IF_ERROR(ReadHalfFigures(tokens, &at, c, half, &out, file, line));
  if (!c.in_place) {
    row.time_us[1] = row.algbw_gbps[1] = row.busbw_gbps[1] = NAN;
    row.wrong[1] = -1;
  }
  if (c.timestamp) {
    static const std::regex kDate("[0-9]{4}-[0-9]{2}-[0-9]{2}"),
        kTime("[0-9]{2}:[0-9]{2}:[0-9]{2}");
    if (!std::regex_match(tokens[at], kDate) || !std::regex_match(tokens[at + 1], kTime))
      return BadLine(
          file, line,
          fmt::format("timestamp '{} {}' is not %Y-%m-%d %H:%M:%S", tokens[at], tokens[at + 1]));
    row.timestamp = tokens[at] + " " + tokens[at + 1];
  }
  return out;
}

NcclRowChecker::NcclRowChecker(std::string file, NcclTest test, int num_ranks,
                               const NcclColumns& columns, uint64_t max_bytes, bool run_cycles)
    : file_(std::move(file)),
      test_(test),
      num_ranks_(num_ranks),
      cpu_time_(columns.cpu_time),
      epsim_(columns.epsim),
      halves_(columns.halves()),
      max_bytes_(max_bytes),
      run_cycles_(run_cycles),
      conventions_(kCurrent) {
  const bool gather_like = test == NcclTest::kAllGather || test == NcclTest::kReduceScatter;
  if (columns.error_column && gather_like && num_ranks > 0) conventions_ |= kLegacy;
}

std::string NcclRowChecker::TestLabel() const {
  return epsim_ ? "epsim bench " + NcclTestName(test_) : NcclTestName(test_) + "_perf";
}

Status NcclRowChecker::CheckSize(const NcclTestsRow& row) const {
  // epsim's alltoall prints a rank's whole buffer as count (size / type),
  // where alltoall_perf prints one peer's share.
  const bool whole = epsim_ && test_ == NcclTest::kAllToAll;
  const bool per_rank = !whole && SizeCountRatio(test_, 2) != 1;
  if (per_rank && num_ranks_ == 0) return Status::Ok();  // the ratio is the unknown rank count
  const uint64_t bytes = static_cast<uint64_t>(*NcclTypeBytes(row.type));
  const uint64_t ratio = whole ? 1 : static_cast<uint64_t>(SizeCountRatio(test_, num_ranks_));
  const bool overflow = row.count > std::numeric_limits<uint64_t>::max() / (bytes * ratio);
  if (!overflow && row.count * bytes * ratio == row.size_bytes) return Status::Ok();
  return BadLine(
      file_, row.line,
      fmt::format("size {} B is not count {} x {} B ({}){} as {} prints it "
                  "(the log of another test?)",
                  row.size_bytes, row.count, bytes, row.type,
                  per_rank ? fmt::format(" x {} ranks", num_ranks_) : "",
                  TestLabel()));
}

Status NcclRowChecker::CheckOrder(const NcclTestsRow& row) {
  if (max_bytes_ > 0 && row.size_bytes > max_bytes_)
    return BadLine(file_, row.line,
                   fmt::format("size {} B is above maxBytes {}", row.size_bytes, max_bytes_));
  const bool same_sweep = have_previous_ && row.type == previous_.type &&
                          row.redop == previous_.redop && row.root == previous_.root;
  if (!same_sweep) sweep_first_ = row;
  if (same_sweep && row.size_bytes < previous_.size_bytes &&
      !(run_cycles_ && row.size_bytes == sweep_first_.size_bytes))
    return BadLine(file_, row.line,
                   fmt::format("size {} B after {} B (line {}): sizes must not decrease within "
                               "a sweep of one type, reduction and root",
                               row.size_bytes, previous_.size_bytes, previous_.line));
  previous_ = row;
  have_previous_ = true;
  return Status::Ok();
}

bool NcclRowChecker::Fits(const PrintedRow& row, int half, int c) const {
  const int n = num_ranks_;
  const bool legacy = c == kLegacy;
  const PrintedNumber& t = row.time[half];
  const PrintedNumber& a = row.algbw[half];
  const PrintedNumber& b = row.busbw[half];
  double alg_lo = std::max(a.lo(), 0.0), alg_hi = a.hi();
  if (!cpu_time_) {
    // GB/s from B and us: bytes / (us x 1e-6) / 1e9.
    const double gb_us = double(row.row.size_bytes) * (legacy ? double(n - 1) / n : 1.0) / 1e3;
    const double lo = gb_us / t.hi();
    const double hi = t.lo() > 0 ? gb_us / t.lo() : std::numeric_limits<double>::infinity();
    if (!Meet(alg_lo, alg_hi, lo, hi)) return false;
    alg_lo = std::max(alg_lo, lo);
    alg_hi = std::min(alg_hi, hi);
  }
  if (!legacy && n == 0 && BusBwFactorDependsOnRanks(test_)) return true;
  const double factor = legacy ? 1.0 : BusBwFactor(test_, std::max(n, 1));
  return Meet(alg_lo * factor, alg_hi * factor, b.lo(), b.hi());
}

Status NcclRowChecker::CheckBandwidth(const PrintedRow& row, int half) {
  int fits = 0;
  for (int c : {kCurrent, kLegacy})
    if ((conventions_ & c) && Fits(row, half, c)) fits |= c;
  if (fits != 0) {
    conventions_ = fits;
    return Status::Ok();
  }
  // Say what the convention the table followed so far wants.
  const bool legacy = conventions_ == kLegacy;
  const int n = num_ranks_;
  const PrintedNumber& t = row.time[half];
  const PrintedNumber& a = row.algbw[half];
  const PrintedNumber& b = row.busbw[half];
  const double share = legacy ? double(n - 1) / n : 1.0;
  const double gb_us = double(row.row.size_bytes) * share / 1e3;
  const double lo = gb_us / t.hi(), hi = t.lo() > 0 ? gb_us / t.lo() : INFINITY;
  const std::string name = kHalfName[half];
  if (!cpu_time_ && !Meet(a.lo(), a.hi(), lo, hi))
    return BadLine(file_, row.row.line,
                   fmt::format("{} algbw {} GB/s disagrees with size{} / time = {} B / {} us, "
                               "which the printed time puts at {} GB/s (a time in other units?)",
                               name, a.text, legacy ? " x (n-1)/n" : "", row.row.size_bytes, t.text,
                               Range(lo, hi)));
  const double factor = legacy ? 1.0 : BusBwFactor(test_, std::max(n, 1));
  return BadLine(file_, row.row.line,
                 fmt::format("{} busbw {} GB/s disagrees with algbw {} GB/s x {:.6g} ({}, "
                             "{} ranks) (another test, or another rank count?)",
                             name, b.text, a.text, factor, TestLabel(), n));
}

Status NcclRowChecker::Add(const PrintedRow& row) {
  EPSIM_RETURN_IF_ERROR(CheckSize(row.row));
  EPSIM_RETURN_IF_ERROR(CheckOrder(row.row));
  for (int half = 0; half < halves_; ++half) {
    EPSIM_RETURN_IF_ERROR(CheckBandwidth(row, half));
    busbw_sum_ += row.busbw[half].value;
    busbw_half_step_sum_ += row.busbw[half].half_step;
    ++busbw_figures_;
  }
  return Status::Ok();
}

Status NcclRowChecker::CheckAverage(const PrintedNumber& avg, int line) const {
  if (busbw_figures_ == 0) return Status::Ok();
  const double mean = busbw_sum_ / busbw_figures_;
  // nccl-tests prints the average with %g: six significant digits, with
  // trailing zeros dropped ("10.9" is 10.9000), so the text's own digits
  // understate its precision.
  // epsim prints it with %.4f: the text's own digits are its precision.
  const double g_half_step =
      epsim_ ? avg.half_step
      : avg.value == 0
          ? 0
          : 0.5 * std::pow(10.0, std::floor(std::log10(std::fabs(avg.value))) - 5);
  const double allowed = busbw_half_step_sum_ / busbw_figures_ + g_half_step;
  if (Meet(mean - allowed, mean + allowed, avg.value, avg.value)) return Status::Ok();
  return BadLine(file_, line,
                 fmt::format("Avg bus bandwidth {} GB/s is not the mean {:.6g} GB/s of the {} "
                             "busbw figures above (rows missing or edited?)",
                             avg.text, mean, busbw_figures_));
}

}  // namespace epsim::measure::internal
