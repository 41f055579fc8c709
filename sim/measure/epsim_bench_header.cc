#include "sim/measure/epsim_bench_header.h"

#include <fmt/format.h>

#include <regex>

#include "sim/measure/log_text.h"
#include "sim/measure/nccl_tests_command.h"

namespace epsim::measure::internal {

namespace {

bool IsCommentLine(const std::string& line) {
  const size_t at = line.find_first_not_of(" \t");
  return at != std::string::npos && line[at] == '#';
}

// Lines that end the '#' block above a table: another table's column
// names, `# nThread` line or footer.
bool EndsBlock(const std::string& line) {
  static const std::regex kEnd(
      "^#\\s*(size\\s.*|size|nThread .*|Out of bounds values\\s*:.*|Avg bus bandwidth\\s*:.*)");
  return std::regex_match(line, kEnd);
}

struct EpsimOp {
  const char* name;
  NcclTest test;
};
constexpr EpsimOp kOps[] = {{"sendrecv", NcclTest::kSendRecv},
                            {"alltoall", NcclTest::kAllToAll},
                            {"allreduce", NcclTest::kAllReduce},
                            {"allgather", NcclTest::kAllGather},
                            {"reducescatter", NcclTest::kReduceScatter}};

}  // namespace

std::optional<size_t> FindEpsimBenchHeader(const std::vector<std::string>& lines, size_t columns) {
  for (size_t j = columns; j-- > 0;) {
    const std::string& line = lines[j];
    if (!IsCommentLine(line) || EndsBlock(line)) return std::nullopt;
    if (line.rfind("# epsim ", 0) == 0) return j;
  }
  return std::nullopt;
}

Result<EpsimBenchHeader> ParseEpsimBenchHeader(const std::vector<std::string>& lines,
                                               size_t header, size_t columns,
                                               const std::string& file) {
  static const std::regex kHeader(
      "# epsim (\\S+) (epsim-hw bench|bench) (\\S+) \\((measured|simulated)\\)\\s*");
  EpsimBenchHeader h;
  h.line = static_cast<int>(header) + 1;
  std::smatch m;
  if (!std::regex_match(lines[header], m, kHeader))
    return BadLine(file, h.line,
                   "an `# epsim` line above a table, not as `epsim bench` or `epsim-hw bench` "
                   "print it (want \"# epsim VERSION bench OP (simulated)\" or \"# epsim VERSION "
                   "epsim-hw bench OP (measured)\")");
  h.version = m[1].str();
  const bool hw = m[2].str() == "epsim-hw bench";
  h.op = m[3].str();
  h.source = m[4].str();
  if (hw != (h.source == "measured"))
    return BadLine(file, h.line,
                   fmt::format("`{}` with ({}): epsim-hw bench measures, epsim bench simulates",
                               m[2].str(), h.source));
  if (h.op == "alltoallv")
    return BadLine(file, h.line,
                   "alltoallv is not read (its bandwidth depends on a traffic matrix, as "
                   "nccl-tests' alltoallv)");
  bool known = false;
  for (const EpsimOp& op : kOps)
    if (h.op == op.name) {
      h.test = op.test;
      known = true;
    }
  if (!known)
    return BadLine(file, h.line,
                   fmt::format("'{}' is not an epsim bench op this parser reads (sendrecv, "
                               "alltoall, allreduce, allgather, reducescatter)",
                               h.op));

  static const std::regex kInput("#   ([a-z_ ]+): (.*\\S)\\s*");
  static const std::regex kRanks("([0-9]+)( \\(.*\\))?");
  static const std::regex kIterations("([0-9]+) warm-up, ([0-9]+) timed");
  static const std::regex kSizes("-b (\\S+) -e (\\S+) -f ([0-9]+) -i (\\S+)");
  bool inputs = false;
  int ranks_line = 0;
  for (size_t j = header + 1; j < columns; ++j) {
    const std::string& line = lines[j];
    const int number = static_cast<int>(j) + 1;
    if (line.rfind("# Inputs:", 0) == 0 || line.rfind("# Settings:", 0) == 0) {
      inputs = line.rfind("# Inputs:", 0) == 0;
      continue;
    }
    if (!inputs || !std::regex_match(line, m, kInput)) continue;
    const std::string key = m[1].str(), value = m[2].str();
    std::smatch v;
    if (key == "ranks") {
      if (ranks_line > 0)
        return BadLine(file, number, fmt::format("a second ranks line (the first: line {})",
                                                 ranks_line));
      const std::optional<uint64_t> n =
          std::regex_match(value, v, kRanks) ? ParseUnsigned(v[1].str()) : std::nullopt;
      if (!n || *n < 1 || *n > 1000000)
        return BadLine(file, number,
                       fmt::format("ranks '{}' is not a rank count as epsim prints it (want "
                                   "\"ranks: N\" or \"ranks: N (...)\")",
                                   value));
      h.num_ranks = static_cast<int>(*n);
      ranks_line = number;
    } else if (key == "iterations") {
      if (!std::regex_match(value, v, kIterations))
        return BadLine(file, number,
                       fmt::format("iterations '{}' not as epsim-hw prints them (want \"W "
                                   "warm-up, N timed\")",
                                   value));
      h.warmup_iters = static_cast<int>(ParseUnsigned(v[1].str()).value_or(0));
      h.iters = static_cast<int>(ParseUnsigned(v[2].str()).value_or(0));
    } else if (key == "sizes") {
      std::optional<uint64_t> b, e, f, i;
      if (std::regex_match(value, v, kSizes)) {
        b = ParseNcclSize(v[1].str());
        e = ParseNcclSize(v[2].str());
        f = ParseUnsigned(v[3].str());
        i = ParseNcclSize(v[4].str());
      }
      if (!b || !e || !f || !i)
        return BadLine(file, number,
                       fmt::format("sizes '{}' not as epsim bench prints them (want \"-b B -e E "
                                   "-f F -i I\")",
                                   value));
      h.min_bytes = *b;
      h.max_bytes = *e;
      h.step_is_factor = *f > 1;
      h.step = h.step_is_factor ? *f : *i;
    }
  }
  if (ranks_line == 0)
    return BadLine(file, h.line,
                   "epsim bench header with no `#   ranks: N` input line (the rank count sets "
                   "busbw and the size of a count)");
  return h;
}

const char* EpsimBenchRedop(NcclTest test) {
  return test == NcclTest::kAllReduce || test == NcclTest::kReduceScatter ? "sum" : "none";
}

}  // namespace epsim::measure::internal
