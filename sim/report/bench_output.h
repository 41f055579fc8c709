// Printing simulated microbenchmarks (`epsim bench`), nccl-tests style.
//
// console: '#' header lines (version, inputs, settings), the nccl-tests
//   out-of-place column header, one row per size, then nccl-tests' closing
//   "# Avg bus bandwidth" line. Columns (nccl-tests' names and units):
//     size(B)  count(elements)  type  redop  root  time(us)  algbw(GB/s)
//     busbw(GB/s)  #wrong
//   redop is "sum" for allreduce and reducescatter (nccl-tests' default
//   -o), else "none"; root -1 (no root); #wrong "N/A" (a simulation moves
//   no data to verify). The '#' line above the columns defines algbw and
//   busbw for the op (BenchTable::metrics). Only the out-of-place columns are
//   printed: a simulated in-place run takes the same time. alltoallv adds
//   maxrank(B), the most bytes a rank sends or receives over links.
// csv: size_bytes,count,type,redop,root,time_us,algbw_gbps,busbw_gbps,
//   max_rank_bytes
// json: {"context": {...}, "results": [{...}, ...], "avg_busbw_gbps": x}
// Metrics are defined in sim/plan/bench_schedule.h (GB = 1e9 B).
#ifndef EPSIM_SIM_REPORT_BENCH_OUTPUT_H_
#define EPSIM_SIM_REPORT_BENCH_OUTPUT_H_

#include <cstdint>
#include <ostream>
#include <vector>

#include "sim/report/report.h"

namespace epsim::report {

// One size of the sweep.
struct BenchRow {
  uint64_t bytes = 0;           // size per rank
  uint64_t count = 0;           // elements of `type`
  double time_s = 0;            // simulated time of the operation
  double algbw_gbps = 0;
  double busbw_gbps = 0;
  uint64_t max_rank_bytes = 0;  // most bytes one rank sends or receives over links
  int64_t wrong = -1;           // measured with -c: wrong elements; -1 = not checked ("N/A")
};

struct BenchTable {
  std::string source = "simulated";  // or "measured" (epsim-hw bench)
  std::string type = "float";
  std::string redop = "none";   // nccl-tests' redop column: "sum" or "none"
  // The console's metric line, e.g. "algbw = size / time, busbw = algbw x
  // 2(n-1)/n ..."; empty: the all-to-all / sendrecv definitions.
  std::string metrics;
  bool show_max_rank = false;   // alltoallv: add the maxrank(B) column
  std::vector<BenchRow> rows;
};

void WriteBench(std::ostream& out, Format format, const RunInfo& info, const BenchTable& table);

// A GEMM sweep (epsim-hw bench gemm): one SwiGLU expert FFN per row over
// `tokens` rows (tokens per expert). Columns: tokens, time(us) per FFN
// (median over passes), GFLOP (6 tokens hidden width / 1e9), achieved
// GFLOP/s, and the efficiency against the fastest row of the sweep.
struct GemmRow {
  uint64_t tokens = 0;
  double time_s = 0;
  double flops = 0;
};
void WriteGemmSweep(std::ostream& out, Format format, const RunInfo& info,
                    const std::vector<GemmRow>& rows);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_BENCH_OUTPUT_H_
