// Inside nccl_tests_log.cc: the '#' header block above the table that
// `epsim bench OP` (simulated) and `epsim-hw bench OP` (measured) print
// (sim/report/bench_output.cc; nccl_tests_log.h describes the format).
// Not an API for other layers.
#ifndef EPSIM_SIM_MEASURE_EPSIM_BENCH_HEADER_H_
#define EPSIM_SIM_MEASURE_EPSIM_BENCH_HEADER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/measure/nccl_tests_log.h"

namespace epsim::measure::internal {

struct EpsimBenchHeader {
  int line = 0;         // the `# epsim VERSION ... bench OP (SOURCE)` line, 1-based
  std::string version;  // "0.1.0"
  std::string source;   // "measured" (epsim-hw bench) or "simulated" (epsim bench)
  std::string op;       // epsim's name: "allreduce", "alltoall", ...
  NcclTest test = NcclTest::kAllReduce;
  int num_ranks = 0;  // `#   ranks: N`
  // `#   iterations: W warm-up, N timed` (epsim-hw bench); 0 when absent.
  int warmup_iters = 0, iters = 0;
  // `#   sizes: -b B -e E -f F -i I` (epsim bench); zeros when absent.
  uint64_t min_bytes = 0, max_bytes = 0, step = 0;
  bool step_is_factor = true;
};

// The index of the `# epsim ` line of the '#' block that ends at
// lines[columns - 1] (the line above the column names), when there is one.
std::optional<size_t> FindEpsimBenchHeader(const std::vector<std::string>& lines, size_t columns);

// Reads lines[header] .. lines[columns - 1]; BadInput "file:line: ..." for
// a header not as epsim prints it, an op this parser does not read, or no
// (or a second) ranks line.
Result<EpsimBenchHeader> ParseEpsimBenchHeader(const std::vector<std::string>& lines,
                                               size_t header, size_t columns,
                                               const std::string& file);

// The redop column epsim prints for a test: "sum" for all_reduce and
// reduce_scatter, else "none".
const char* EpsimBenchRedop(NcclTest test);

}  // namespace epsim::measure::internal

#endif  // EPSIM_SIM_MEASURE_EPSIM_BENCH_HEADER_H_
