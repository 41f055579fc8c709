// Printing simulated microbenchmarks (`epsim bench`), nccl-tests style.
//
// console: '#' header lines (version, inputs, settings), then nccl-tests'
//   own header lines when BenchTable::launch is set (src/util.cu's
//   writeDeviceReport, as of 2026-07):
//     # nThread 1 nGpus 4 minBytes 1024 maxBytes 67108864 step: 8(factor) warmup iters: 1 iters: 20 agg iters: 1 validation: 0 graph: 0 unalign: 0
//     #
//     # Using devices
//     #  Rank  0 Group  0 Pid      0 on      host0 device  0 [gpu0] NVIDIA RTX A6000
//   (simulated ranks: Pid is the process index of the launch shape, host
//   the topology's host, device the rank's index on it, [..] its node
//   name where nccl-tests prints the PCI bus id), the nccl-tests
//   out-of-place column header, one row per size, then nccl-tests' closing
//   "# Out of bounds values" and "# Avg bus bandwidth" lines. Columns
//   (nccl-tests' names and units):
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
#include <optional>
#include <ostream>
#include <string>
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

// nccl-tests' launch header: what its `# nThread` line and `# Using
// devices` block print. Ranks may be empty (epsim-hw bench prints no
// device block).
struct BenchLaunch {
  uint32_t threads = 1;          // nThread (-t)
  uint32_t gpus_per_thread = 1;  // nGpus (-g)
  uint64_t min_bytes = 0, max_bytes = 0;
  uint64_t step = 1;             // the factor when step_is_factor, else the increment
  bool step_is_factor = true;
  uint32_t warmup_iters = 1, iters = 20, agg_iters = 1;
  uint32_t validation = 0;       // -c as run: 0 when nothing is verified
  struct Rank {
    uint32_t rank = 0;
    uint32_t process = 0;  // printed as Pid
    std::string host;
    uint32_t device = 0;   // index on its host
    std::string bus;       // printed inside [...]
    std::string name;
  };
  std::vector<Rank> ranks;
};

struct BenchTable {
  std::optional<BenchLaunch> launch;  // print nccl-tests' header lines
  std::string source = "simulated";  // or "measured" (epsim-hw bench)
  std::string type = "float";
  std::string redop = "none";   // nccl-tests' redop column: "sum" or "none"
  // The console's metric line, e.g. "algbw = size / time, busbw = algbw x
  // 2(n-1)/n ..."; empty: the all-to-all / sendrecv definitions, or
  // alltoallv's (busbw = maxrank / time) when show_max_rank.
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
