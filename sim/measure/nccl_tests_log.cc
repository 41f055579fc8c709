#include "sim/measure/nccl_tests_log.h"

#include <fmt/format.h>

#include <map>
#include <regex>
#include <utility>

#include "sim/base/file_util.h"
#include "sim/measure/epsim_bench_header.h"
#include "sim/measure/log_text.h"
#include "sim/measure/nccl_tests_command.h"
#include "sim/measure/nccl_tests_table.h"

namespace epsim::measure {

namespace {

using internal::NcclColumns;
using internal::NcclCommand;

// NCCL's own log lines: "host:pid:tid [dev] NCCL INFO ...".
bool IsNcclLogLine(const std::string& line) {
  static const std::regex kLog("^\\S+:[0-9]+:[0-9]+ \\[[0-9]+\\] .*");
  return std::regex_match(line, kLog);
}

// What NCCL and nccl-tests print when a run fails (common.h's TESTCHECK,
// NCCLCHECK, CUDACHECK; NCCL's WARN).
bool IsFailureLine(const std::string& line) {
  for (const char* mark : {"NCCL WARN", "Test CUDA failure", "Test NCCL failure", "Test failure"})
    if (line.find(mark) != std::string::npos) return true;
  return false;
}

bool IsNThreadLine(const std::string& line) { return line.rfind("# nThread ", 0) == 0; }

bool IsTableStart(const std::string& line) {
  return IsNThreadLine(line) || internal::IsColumnNamesLine(line);
}

// A row starts with a number; "-----" separators and NCCL lines do not.
bool IsRowCandidate(const std::vector<std::string>& tokens) {
  static const std::regex kNumber("[-+]?[0-9].*");
  return !tokens.empty() && std::regex_match(tokens[0], kNumber);
}

bool IsFooterLine(const std::string& line) {
  static const std::regex kFooter("^#?\\s*(Out of bounds values|Avg bus bandwidth)\\s*:.*");
  return std::regex_match(line, kFooter);
}

Status ParseNThread(const std::string& line, int number, const std::string& file,
                    NcclTestsTable* t) {
  static const std::regex kNThread(
      "# nThread ([0-9]+) nGpus ([0-9]+) minBytes ([0-9]+) maxBytes ([0-9]+) step: "
      "([0-9]+)\\((factor|bytes)\\) warmup iters: ([0-9]+) iters: ([0-9]+)"
      "( agg iters: ([0-9]+))?( validation: [0-9]+)?( graph: [0-9]+)?( unalign: [0-9]+)?\\s*");
  std::smatch m;
  if (!std::regex_match(line, m, kNThread))
    return BadLine(file, number,
                   "a `# nThread` line not as nccl-tests prints it (want "
                   "\"# nThread N nGpus N minBytes N maxBytes N step: N(factor) "
                   "warmup iters: N iters: N ...\")");
  auto u = [&](int k) { return ParseUnsigned(m[k].str()).value_or(0); };
  t->num_threads = static_cast<int>(u(1));
  t->gpus_per_thread = static_cast<int>(u(2));
  t->min_bytes = u(3);
  t->max_bytes = u(4);
  t->step = u(5);
  t->step_is_factor = m[6].str() == "factor";
  t->warmup_iters = static_cast<int>(u(7));
  t->iters = static_cast<int>(u(8));
  if (m[10].matched) t->agg_iters = static_cast<int>(u(10));
  if (t->num_threads < 1 || t->gpus_per_thread < 1 || t->num_threads > 4096 ||
      t->gpus_per_thread > 4096)
    return BadLine(file, number, "nThread and nGpus must be 1 or more");
  return Status::Ok();
}

Result<NcclTestsRank> ParseRank(const std::string& line, int number, const std::string& file) {
  static const std::regex kRank(
      "#\\s+Rank\\s+([0-9]+)(\\s+Group\\s+([0-9]+))?(\\s+Pid\\s+([0-9]+))?\\s+on\\s+(\\S+)\\s+"
      "device\\s+([0-9]+)\\s+\\[([^\\]]*)\\]\\s+(.*\\S)\\s*");
  std::smatch m;
  if (!std::regex_match(line, m, kRank))
    return BadLine(file, number,
                   "a Rank line not as nccl-tests prints it (want \"#  Rank N "
                   "Group N Pid N on HOST device N [BUS] NAME\")");
  NcclTestsRank r;
  r.rank = static_cast<int>(ParseUnsigned(m[1].str()).value_or(0));
  if (m[3].matched) r.group = static_cast<int>(ParseUnsigned(m[3].str()).value_or(0));
  if (m[5].matched) r.pid = static_cast<int64_t>(ParseUnsigned(m[5].str()).value_or(0));
  r.host = m[6].str();
  r.device = static_cast<int>(ParseUnsigned(m[7].str()).value_or(0));
  r.bus_id = m[8].str();
  r.device_name = m[9].str();
  r.line = number;
  return r;
}

// Reads one table at a time; see the header for what is checked.
class LogReader {
 public:
  LogReader(const std::string& text, std::string file, std::optional<NcclTest> test_override)
      : lines_(SplitLines(text)), file_(std::move(file)), override_(test_override) {}

  Result<std::vector<NcclTestsTable>> Run();

 private:
  int Number(size_t i) const { return static_cast<int>(i) + 1; }
  Status ReadTable(size_t* i, NcclTestsTable* t, std::optional<NcclColumns>* columns);
  Status ReadPreamble(size_t* i, NcclTestsTable* t, std::string* failure, int* failure_line);
  Status ReadEpsimHeader(size_t header, size_t columns, NcclTestsTable* t) const;
  void LookBack(size_t start, NcclTestsTable* t, std::optional<NcclCommand>* command,
                std::string* program, int* program_line) const;
  Status ResolveTest(NcclTestsTable* t, const std::optional<NcclCommand>& command,
                     const std::string& program, int program_line) const;
  Status CheckRanks(NcclTestsTable* t, const std::optional<NcclCommand>& command) const;
  Status CheckOptions(const NcclTestsTable& t, const NcclCommand& command) const;
  Status ReadRows(size_t* i, const NcclColumns& columns, bool run_cycles, NcclTestsTable* t);
  Status ReadFooter(size_t* i, const internal::NcclRowChecker& checker, NcclTestsTable* t);
  Status CheckNothingFollows(size_t* i, const NcclTestsTable& t, const NcclColumns& c) const;

  const std::vector<std::string> lines_;
  const std::string file_;
  const std::optional<NcclTest> override_;
};

Result<std::vector<NcclTestsTable>> LogReader::Run() {
  std::vector<NcclTestsTable> tables;
  for (size_t i = 0; i < lines_.size();) {
    if (!IsTableStart(lines_[i])) {
      ++i;
      continue;
    }
    NcclTestsTable t;
    std::optional<NcclColumns> columns;
    EPSIM_RETURN_IF_ERROR(ReadTable(&i, &t, &columns));
    if (columns) EPSIM_RETURN_IF_ERROR(CheckNothingFollows(&i, t, *columns));
    tables.push_back(std::move(t));
  }
  if (tables.empty())
    return Status::BadInput(file_ +
                            ": no nccl-tests table (a `#  size  count  type ...` column "
                            "line, or a `# nThread` header)");
  return tables;
}

Status LogReader::ReadTable(size_t* i, NcclTestsTable* t, std::optional<NcclColumns>* columns) {
  const size_t start = *i;
  t->file = file_;
  t->header_line = Number(start);
  std::string failure;
  int failure_line = 0;
  std::optional<NcclCommand> command;
  // A column line or `# nThread` line below an `# epsim ... bench` block:
  // epsim's own table (its nccl-tests lines are read for the Rank lines,
  // the epsim block for the rest).
  const std::optional<size_t> epsim = internal::FindEpsimBenchHeader(lines_, start);
  if (epsim) {
    if (IsNThreadLine(lines_[start])) {
      EPSIM_RETURN_IF_ERROR(ParseNThread(lines_[start], Number(start), file_, t));
      ++*i;
      EPSIM_RETURN_IF_ERROR(ReadPreamble(i, t, &failure, &failure_line));
    }
    EPSIM_RETURN_IF_ERROR(ReadEpsimHeader(*epsim, start, t));
  } else {
    if (IsNThreadLine(lines_[start])) {
      EPSIM_RETURN_IF_ERROR(ParseNThread(lines_[start], Number(start), file_, t));
      ++*i;
      EPSIM_RETURN_IF_ERROR(ReadPreamble(i, t, &failure, &failure_line));
    }
    std::string program;
    int program_line = 0;
    LookBack(start, t, &command, &program, &program_line);
    EPSIM_RETURN_IF_ERROR(ResolveTest(t, command, program, program_line));
    EPSIM_RETURN_IF_ERROR(CheckRanks(t, command));
    if (command && t->num_threads > 0) EPSIM_RETURN_IF_ERROR(CheckOptions(*t, *command));
  }
  if (*i >= lines_.size() || !internal::IsColumnNamesLine(lines_[*i])) {
    // The run printed its header and died before its column names.
    if (failure.empty())
      return BadLine(file_, t->header_line,
                     "nccl-tests header with no column names and no "
                     "rows after it (a truncated copy?)");
    t->failure = failure;
    t->failure_line = failure_line;
    return Status::Ok();
  }
  t->columns_line = Number(*i);
  const std::string units = *i + 1 < lines_.size() ? lines_[*i + 1] : "";
  EPSIM_ASSIGN_OR_RETURN(NcclColumns c, internal::ParseColumns(lines_[*i], units, file_,
                                                               t->columns_line, epsim.has_value()));
  t->columns = c.names;
  t->cpu_time = c.cpu_time;
  t->in_place = c.in_place;
  *i += 2;
  const bool run_cycles = command && command->options.count('N') && command->options.at('N') != "1";
  EPSIM_RETURN_IF_ERROR(ReadRows(i, c, run_cycles, t));
  *columns = std::move(c);
  return Status::Ok();
}

Status LogReader::ReadPreamble(size_t* i, NcclTestsTable* t, std::string* failure,
                               int* failure_line) {
  static const std::regex kReduced("#\\s*Reducing maxBytes to ([0-9]+) due to memory limitation.*");
  for (; *i < lines_.size() && !IsTableStart(lines_[*i]); ++*i) {
    const std::string& line = lines_[*i];
    const std::vector<std::string> tokens = Tokens(line);
    std::smatch m;
    if (tokens.size() >= 2 && tokens[0] == "#" && tokens[1] == "Rank") {
      EPSIM_ASSIGN_OR_RETURN(NcclTestsRank rank, ParseRank(line, Number(*i), file_));
      t->ranks.push_back(std::move(rank));
    } else if (std::regex_match(line, m, kReduced)) {
      t->reduced_max_bytes = ParseUnsigned(m[1].str()).value_or(0);
    } else if (IsFailureLine(line) && failure->empty()) {
      *failure = line;
      *failure_line = Number(*i);
    }
  }
  return Status::Ok();
}

Status LogReader::ReadEpsimHeader(size_t header, size_t columns, NcclTestsTable* t) const {
  EPSIM_ASSIGN_OR_RETURN(const internal::EpsimBenchHeader h,
                         internal::ParseEpsimBenchHeader(lines_, header, columns, file_));
  if (override_ && *override_ != h.test)
    return BadLine(file_, h.line,
                   fmt::format("the log runs epsim bench {} ({}) but the test given is {}", h.op,
                               NcclTestName(h.test), NcclTestName(*override_)));
  t->header_line = h.line;
  t->test = h.test;
  t->epsim_source = h.source;
  t->epsim_version = h.version;
  t->num_ranks = h.num_ranks;
  // The `# nThread` line's figures stand where the epsim block has none.
  if (h.iters > 0 || t->iters == 0) {
    t->warmup_iters = h.warmup_iters;
    t->iters = h.iters;
  }
  if (h.max_bytes > 0 || t->max_bytes == 0) {
    t->min_bytes = h.min_bytes;
    t->max_bytes = h.max_bytes;
    t->step = h.step;
    t->step_is_factor = h.step_is_factor;
  }
  return Status::Ok();
}

// The lines above a table: the nccl-tests version and program lines, then
// (past blank lines) the command.
void LogReader::LookBack(size_t start, NcclTestsTable* t, std::optional<NcclCommand>* command,
                         std::string* program, int* program_line) const {
  static const std::regex kVersion("# nccl-tests version (\\S+).*");
  static const std::regex kProgram("# Collective test starting: (\\S+)\\s*");
  const bool bare = !IsNThreadLine(lines_[start]);
  for (size_t j = start; j-- > 0;) {
    const std::string& line = lines_[j];
    const std::vector<std::string> tokens = Tokens(line);
    std::smatch m;
    if (IsBlank(line)) continue;
    if (std::regex_match(line, m, kVersion)) {
      t->nccl_tests_version = m[1].str();
    } else if (std::regex_match(line, m, kProgram)) {
      *program = m[1].str();
      *program_line = static_cast<int>(j) + 1;
    } else if (bare && tokens[0] == "#" &&
               (tokens.size() == 1 || line.find("out-of-place") != std::string::npos)) {
      continue;  // the lines above a column line
    } else {
      *command = internal::ParseNcclCommand(line);
      if (*command) {
        t->command = line.substr(line.find_first_not_of(" \t"));
        t->command_line = static_cast<int>(j) + 1;
      }
      return;
    }
  }
}

Status LogReader::ResolveTest(NcclTestsTable* t, const std::optional<NcclCommand>& command,
                              const std::string& program, int program_line) const {
  std::optional<NcclTest> named;
  int named_line = 0;
  std::string named_binary;
  auto name = [&](const std::string& binary, int line) -> Status {
    const std::optional<NcclCommand> c = internal::ParseNcclCommand(binary);
    if (!c || !c->test)
      return BadLine(file_, line,
                     fmt::format("'{}' is not an nccl-tests binary this parser "
                                 "reads ({})",
                                 binary,
                                 "all_reduce, all_gather, reduce_scatter, alltoall, "
                                 "sendrecv, broadcast, reduce, gather, scatter"));
    if (named && *named != *c->test)
      return BadLine(file_, line,
                     fmt::format("the log names {} here but {} at line {}", c->binary, named_binary,
                                 named_line));
    named = c->test;
    named_line = line;
    named_binary = c->binary;
    return Status::Ok();
  };
  if (command) EPSIM_RETURN_IF_ERROR(name(command->binary, t->command_line));
  if (!program.empty()) EPSIM_RETURN_IF_ERROR(name(program, program_line));
  if (override_ && named && *override_ != *named)
    return BadLine(file_, named_line,
                   fmt::format("the log runs {} but the test given is {}", named_binary,
                               NcclTestName(*override_)));
  if (!override_ && !named)
    return BadLine(file_, t->header_line,
                   "cannot tell which nccl-tests binary printed this table (no `*_perf` "
                   "command line above it, no `# Collective test starting` line): pass the "
                   "test name (all_reduce, all_gather, alltoall, ...)");
  t->test = override_ ? *override_ : *named;
  return Status::Ok();
}

Status LogReader::CheckRanks(NcclTestsTable* t, const std::optional<NcclCommand>& command) const {
  const int command_processes = command ? command->processes : 0;
  for (size_t k = 0; k < t->ranks.size(); ++k)
    if (t->ranks[k].rank != static_cast<int>(k))
      return BadLine(file_, t->ranks[k].line,
                     fmt::format("Rank {} where rank {} belongs "
                                 "(Rank lines count 0, 1, ...)",
                                 t->ranks[k].rank, k));
  const int per_process = t->num_threads * t->gpus_per_thread;
  if (!t->ranks.empty() && per_process > 0) {
    std::vector<std::pair<int64_t, int>> pids;  // in order of appearance
    for (const NcclTestsRank& r : t->ranks) {
      if (pids.empty() || pids.back().first != r.pid) pids.push_back({r.pid, 0});
      if (++pids.back().second > per_process && r.pid >= 0)
        return BadLine(file_, r.line,
                       fmt::format("Pid {} has more than nThread x nGpus = {} "
                                   "ranks",
                                   r.pid, per_process));
    }
    const int n = static_cast<int>(t->ranks.size());
    const bool have_pids = t->ranks[0].pid >= 0;
    int next = 0;  // the first rank of the next process
    for (const auto& [pid, ranks] : pids) {
      next += ranks;
      if (have_pids && ranks != per_process)
        return BadLine(
            file_, t->ranks[next - 1].line,
            fmt::format("Pid {} has {} ranks, want nThread x nGpus = {}", pid, ranks, per_process));
    }
    if (n % per_process == 0) t->num_processes = have_pids ? int(pids.size()) : n / per_process;
    const int want = (command_processes > 0 ? command_processes : t->num_processes) * per_process;
    if (n != want)
      return BadLine(file_, t->ranks.back().line,
                     fmt::format("{} Rank lines, want nThread x nGpus x processes = {} x {} x {}",
                                 n, t->num_threads, t->gpus_per_thread,
                                 command_processes > 0 ? command_processes : t->num_processes));
  }
  if (t->num_processes == 0) t->num_processes = command_processes;
  t->num_ranks = static_cast<int>(t->ranks.size());
  if (t->num_ranks == 0 && command_processes > 0) {
    auto option = [&](char name, int header) {
      if (header > 0) return header;
      const auto it = command->options.find(name);
      const std::optional<uint64_t> v =
          it == command->options.end() ? std::optional<uint64_t>(1) : ParseUnsigned(it->second);
      return v && *v > 0 && *v < 4096 ? static_cast<int>(*v) : 0;
    };
    t->num_ranks =
        command_processes * option('t', t->num_threads) * option('g', t->gpus_per_thread);
    t->num_ranks_from_command = t->num_ranks > 0;
  }
  return Status::Ok();
}

Status LogReader::CheckOptions(const NcclTestsTable& t, const NcclCommand& command) const {
  struct Check {
    char option;
    const char* header;
    uint64_t value;
    bool size;
  };
  const Check checks[] = {
      {'t', "nThread", uint64_t(t.num_threads), false},
      {'g', "nGpus", uint64_t(t.gpus_per_thread), false},
      {'b', "minBytes", t.min_bytes, true},
      {'e', "maxBytes", t.max_bytes, true},
      {'w', "warmup iters", uint64_t(t.warmup_iters), false},
      {'n', "iters", uint64_t(t.iters), false},
      {'f', "step (factor)", t.step_is_factor ? t.step : 0, false},
  };
  for (const Check& c : checks) {
    const auto it = command.options.find(c.option);
    if (it == command.options.end() || (c.option == 'f' && !t.step_is_factor)) continue;
    const std::optional<uint64_t> v =
        c.size ? internal::ParseNcclSize(it->second) : ParseUnsigned(it->second);
    if (v && *v != c.value)
      return BadLine(file_, t.command_line,
                     fmt::format("the command gives -{} {} but the `# nThread` line (line {}) "
                                 "says {} {}",
                                 c.option, it->second, t.header_line, c.header, c.value));
  }
  return Status::Ok();
}

Status LogReader::ReadRows(size_t* i, const NcclColumns& columns, bool run_cycles,
                           NcclTestsTable* t) {
  const uint64_t max_bytes = t->reduced_max_bytes > 0 ? t->reduced_max_bytes : t->max_bytes;
  internal::NcclRowChecker checker(file_, t->test, t->num_ranks, columns, max_bytes, run_cycles);
  for (; *i < lines_.size() && !IsTableStart(lines_[*i]); ++*i) {
    const std::string& line = lines_[*i];
    if (IsFailureLine(line) && t->failure.empty()) {
      t->failure = line;
      t->failure_line = Number(*i);
    }
    const std::vector<std::string> tokens = Tokens(line);
    if (IsFooterLine(line)) break;
    if (IsBlank(line) || IsNcclLogLine(line) || IsFailureLine(line) || tokens[0][0] == '#')
      continue;
    if (!IsRowCandidate(tokens)) break;  // the log moved on
    EPSIM_ASSIGN_OR_RETURN(internal::PrintedRow row,
                           internal::ParseRow(tokens, columns, file_, Number(*i)));
    const char* redop = internal::EpsimBenchRedop(t->test);
    if (!t->epsim_source.empty() && row.row.redop != redop)
      return BadLine(file_, Number(*i),
                     fmt::format("redop '{}' where epsim bench {} prints '{}'", row.row.redop,
                                 NcclTestName(t->test), redop));
    EPSIM_RETURN_IF_ERROR(checker.Add(row));
    t->rows.push_back(std::move(row.row));
  }
  if (t->rows.empty() && t->failure.empty())
    return BadLine(file_, t->columns_line, "table header with no rows (a truncated copy?)");
  t->legacy_algbw = checker.legacy_algbw();
  return ReadFooter(i, checker, t);
}

Status LogReader::ReadFooter(size_t* i, const internal::NcclRowChecker& checker,
                             NcclTestsTable* t) {
  static const std::regex kBounds("#?\\s*Out of bounds values\\s*:\\s*([0-9]+)\\s+(OK|FAILED)\\s*");
  static const std::regex kAvg("#?\\s*Avg bus bandwidth\\s*:\\s*(\\S+)(\\s+(OK|FAILED))?\\s*");
  for (; *i < lines_.size() && IsFooterLine(lines_[*i]); ++*i) {
    const std::string& line = lines_[*i];
    std::smatch m;
    if (std::regex_match(line, m, kBounds)) {
      t->out_of_bounds = static_cast<int64_t>(ParseUnsigned(m[1].str()).value_or(0));
      continue;
    }
    const std::optional<PrintedNumber> avg =
        std::regex_match(line, m, kAvg) ? ParsePrintedNumber(m[1].str()) : std::nullopt;
    if (!avg)
      return BadLine(file_, Number(*i),
                     "a footer line not as nccl-tests prints it (want \"# Out "
                     "of bounds values : N OK\" or \"# Avg bus bandwidth : X\")");
    EPSIM_RETURN_IF_ERROR(checker.CheckAverage(*avg, Number(*i)));
    t->avg_busbw_gbps = avg->value;
    t->avg_busbw_line = Number(*i);
  }
  return Status::Ok();
}

// After a table ends (footer, or text that is not part of it), a row of its
// layout before the next table means rows were cut off from their header.
Status LogReader::CheckNothingFollows(size_t* i, const NcclTestsTable& t,
                                      const NcclColumns& c) const {
  const bool footer = t.avg_busbw_gbps || t.out_of_bounds;
  const int end = footer ? Number(*i - 1) : Number(*i);
  for (; *i < lines_.size() && !IsTableStart(lines_[*i]); ++*i)
    if (internal::LooksLikeRow(Tokens(lines_[*i]), c))
      return BadLine(
          file_, Number(*i),
          fmt::format("a row of the table at line {} after its end at line {} ({})", t.columns_line,
                      end, footer ? "its footer" : "text that is not part of it"));
  return Status::Ok();
}

}  // namespace

Result<std::vector<NcclTestsTable>> ParseNcclTestsLog(const std::string& text,
                                                      const std::string& file,
                                                      std::optional<NcclTest> test_override) {
  return LogReader(text, file, test_override).Run();
}

Result<std::vector<NcclTestsTable>> ReadNcclTestsLogFile(const std::string& path,
                                                         std::optional<NcclTest> test_override) {
  EPSIM_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path));
  return ParseNcclTestsLog(text, path, test_override);
}

}  // namespace epsim::measure
