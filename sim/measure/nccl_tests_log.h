// Tables of nccl-tests (github.com/NVIDIA/nccl-tests) read from the logs
// people publish: the measurements epsim calibrates against. Strict: a
// table is returned only when every figure in it agrees with the others as
// nccl-tests computes them, so that a mangled copy, a wrong test name or a
// column in other units is an error naming file:line, never a silent
// misfit.
//
// The input. Each `<test>_perf` run prints one table, usually inside a
// longer log (a shell session with its prompts and commands, NCCL INFO and
// WARN lines, markdown fences, a blog's prose):
//
//   $ ./build/all_reduce_perf -b 8 -e 128M -f 2 -g 4          <- command
//   # nccl-tests version 2.17.6 nccl-headers=... (2025-10 on)   <- optional
//   # Collective test starting: all_reduce_perf   (2025-06 on)  <- optional
//   # nThread 1 nGpus 4 minBytes 8 maxBytes 134217728 step: 2(factor)
//       warmup iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 0
//   #
//   # Using devices
//   #  Rank  0 Group  0 Pid 2168673 on GENOA-01 device  0 [0x01] NVIDIA ...
//   ...                                                         <- one per rank
//   #
//   #                                    out-of-place          in-place
//   #  size  count  type  redop  root  time algbw busbw #wrong  time ...
//   #   (B) (elements)                 (us) (GB/s) (GB/s)      (us) ...
//          8      2  float   sum    -1 15.60  0.00  0.00    0 15.22 ...
//   ...                                                         <- one per size
//   # Out of bounds values : 0 OK
//   # Avg bus bandwidth    : 9.09703
//
// The `# nThread` line and the Rank lines may be missing (a copied table
// starts at the column names); the footer may be missing (a copy that
// stops, or a run that died). The column names decide the layout:
//  - since nccl-tests 2.13 (2022): size count type redop root, then for
//    out-of-place and in-place: time algbw busbw #wrong; #wrong prints N/A
//    where no check ran. `cputime` replaces `time` with -C 1; -I 1 adds
//    i_min i_max i_p99 (us) and i_cv% (%) to each half; -S 1 adds a
//    trailing `timestamp` (two tokens, "%Y-%m-%d %H:%M:%S").
//  - before (2019-2022): each test printed only its own parameters
//    (all_reduce: redop; broadcast: root; reduce: redop root; all_gather
//    and sendrecv: none) and `error` (the largest deviation, "%5.0le")
//    instead of #wrong.
// The 2017 layout (bytes N type op ... res, times in ms, no units line) is
// not read.
//
// What the figures mean (nccl-tests doc/PERFORMANCE.md and the tests'
// GetCollByteCount / GetBw): `size` is the larger of a rank's send and
// receive buffers; `count` is the element count passed to NCCL, so size =
// count x sizeof(type) x SizeCountRatio (num_ranks for all_gather,
// reduce_scatter, alltoall, gather and scatter, else 1). algbw = size /
// time (GB = 1e9 B), busbw = algbw x BusBwFactor. Before June 2020
// all_gather and reduce_scatter printed algbw = size x (n-1)/n / time and
// busbw = algbw (the same busbw); tables in the older layout may use either
// convention, and `legacy_algbw` says which.
//
// Checks, each a BadInput "file:line: ..." saying what was expected:
//  - a column-name line with an unknown column, a units line that is not
//    (B) (elements) (us) (GB/s) (GB/s) ... where nccl-tests prints them;
//  - a row whose field count differs from the column names, a field that
//    is not a finite number where one belongs, an unknown data type or
//    reduction, a negative time or bandwidth;
//  - size != count x type bytes x SizeCountRatio;
//  - algbw disagreeing with size / time, or busbw with algbw x factor, by
//    more than the printed precision allows: every printed figure stands
//    for an interval of half a unit in its last digit ("10442" for
//    [10441.5, 10442.5] us), and the intervals must meet. Not looser:
//    a time printed in ms, or a test name giving the wrong factor, fails.
//    (cputime tables: algbw comes from GPU time, so only busbw is checked.)
//  - sizes decreasing within a sweep (a sweep restarts only where type,
//    redop or root changes, or for a -N run_cycles repeat) or above
//    maxBytes;
//  - Rank lines not numbered 0, 1, ... in order, a process (Pid) with
//    other than nThread x nGpus ranks, or a count other than nThread x
//    nGpus x the processes the command launched (mpirun -np N) when known;
//  - the command's -t -g -b -e -f -w -n disagreeing with the `# nThread` line;
//  - an Avg bus bandwidth other than the mean of the printed busbw figures
//    (within their rounding);
//  - a table header with no rows (a truncated copy) unless the run printed
//    a failure (NCCL WARN, "Test ... failure") after its header: such a
//    run is returned with `failure` set and no rows;
//  - a row of a table's layout after its end (after the footer, or after
//    text that ended it);
//  - a test that cannot be told (no `*_perf` command before the table, no
//    "Collective test starting" line) when no test is given, or one the
//    log contradicts.
// Lines outside tables (NCCL INFO, prompts, other programs) are skipped.
//
// epsim's own tables. `epsim-hw bench OP` (measured on real hardware, host
// or cuda backend) and `epsim bench OP` (simulated) print the same figures
// in nccl-tests' columns (sim/report/bench_output.cc), below a '#' block:
//
//   # epsim 0.1.0 epsim-hw bench alltoall (measured)     <- or: bench OP (simulated)
//   #
//   # Inputs:
//   #   ranks: 2                                         <- "ranks: 4 (rank r = GPU r ...)"
//   #   iterations: 5 warm-up, 20 timed                  <- epsim-hw bench
//   #   sizes: -b 1K -e 16M -f 4 -i 1M                   <- epsim bench
//   # Settings:
//   #   ...
//   #
//   # algbw = size / time, busbw = ...
//   # Out-of-place columns only ...
//   #
//   #                     out-of-place
//   #  size  count  type  redop  root  time  algbw  busbw  #wrong
//   #   (B) (elements)                 (us) (GB/s) (GB/s)
//       1024    256  float  none    -1  2.82   0.36   0.18       0
//   ...
//   # Out of bounds values : 0 OK
//   # Avg bus bandwidth    : 5.1068                      <- "%.4f"
//
// Since 2026-08 both also print nccl-tests' `# nThread` line (and epsim
// bench its `# Using devices` block) between the Settings and the metric
// line; the table then starts at that line, which is read as nccl-tests'
// (nThread, nGpus, iterations, Rank lines), the `# epsim` block above it
// for the rest. A column-name line (or `# nThread` line) is read as
// epsim's when the '#' lines right above it hold a `# epsim ` line. Then the test comes from that line's op
// (sendrecv, alltoall, allreduce, allgather, reducescatter; alltoallv is
// refused, as nccl-tests' alltoallv is), the ranks from the `ranks:` input
// (required), -b -e -f -i and the iterations from their inputs when
// printed, and the columns must be exactly those nine: out-of-place only
// (nccl-tests always prints both halves, so a table with one half is
// refused anywhere else). The checks above hold, with epsim's conventions
// where they differ: alltoall's count is a rank's whole buffer (size =
// count x type bytes; alltoall_perf prints one peer's share), the redop
// is "sum" for allreduce and reducescatter and "none" otherwise, and the
// average is printed with %.4f.
#ifndef EPSIM_SIM_MEASURE_NCCL_TESTS_LOG_H_
#define EPSIM_SIM_MEASURE_NCCL_TESTS_LOG_H_

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::measure {

// The nccl-tests binaries read here (`all_reduce_perf` is kAllReduce).
// alltoallv (its bandwidth depends on a traffic matrix) and hypercube are
// not.
enum class NcclTest {
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kAllToAll,
  kSendRecv,
  kBroadcast,
  kReduce,
  kGather,
  kScatter,
};

// "all_reduce", "all_gather", "reduce_scatter", "alltoall", "sendrecv",
// "broadcast", "reduce", "gather", "scatter": the binary's name without
// "_perf".
std::string NcclTestName(NcclTest test);
// The test of a name or binary: "all_reduce", "all_reduce_perf",
// "all_reduce_perf_mpi" and "./build/all_reduce_perf" all give kAllReduce;
// nullopt for anything else.
std::optional<NcclTest> NcclTestFromName(const std::string& name);

// busbw / algbw as nccl-tests computes it for `num_ranks` >= 1 ranks:
// all_reduce 2(n-1)/n; all_gather, reduce_scatter, alltoall, gather,
// scatter (n-1)/n; sendrecv, broadcast, reduce 1.
double BusBwFactor(NcclTest test, int num_ranks);
// Whether BusBwFactor depends on num_ranks.
bool BusBwFactorDependsOnRanks(NcclTest test);

// Printed size / (count x sizeof(type)): num_ranks for the tests whose
// count is one rank's share (all_gather, reduce_scatter, alltoall, gather,
// scatter), else 1.
int SizeCountRatio(NcclTest test, int num_ranks);

// Bytes of one element of a type as nccl-tests names it ("float" 4,
// "bfloat16" 2, "int8" 1, "char" 1, ...); nullopt for an unknown name.
std::optional<int> NcclTypeBytes(const std::string& type);

// Per-iteration statistics of one half of a row (-I 1).
struct NcclTestsIterStats {
  double min_us = 0, max_us = 0, p99_us = 0;
  double cv_pct = 0;  // coefficient of variation, percent
};

// One row: one size. [0] out-of-place, [1] in-place. In a table without
// in-place columns (NcclTestsTable::in_place false: epsim's) the [1]
// figures are absent: time_us, algbw_gbps, busbw_gbps and max_error NaN,
// wrong -1, iter nullopt.
struct NcclTestsRow {
  uint64_t size_bytes = 0;        // the larger of a rank's send and receive buffers
  uint64_t count = 0;             // elements passed to NCCL
  std::string type;               // "float", "bfloat16", ...
  std::string redop;              // "sum", "none", ...; empty when the layout has no redop column
  int64_t root = -1;              // -1: no root, or the layout has no root column
  double time_us[2] = {0, 0};     // per call, averaged over ranks; CPU time when table.cpu_time
  double algbw_gbps[2] = {0, 0};  // GB/s, GB = 1e9 B
  double busbw_gbps[2] = {0, 0};
  int64_t wrong[2] = {-1, -1};  // #wrong elements; -1 when printed N/A or not printed
  // The older layout's `error` column (largest deviation); NaN otherwise.
  double max_error[2] = {NAN, NAN};
  std::optional<NcclTestsIterStats> iter[2];  // -I 1 only
  std::string timestamp;                      // -S 1 only: "2025-01-31 12:00:00"
  int line = 0;                               // 1-based
};

// One `#  Rank` line.
struct NcclTestsRank {
  int rank = 0;
  int group = 0;     // 0 when not printed
  int64_t pid = -1;  // -1 when not printed (before 2019)
  std::string host;
  int device = 0;           // CUDA device index on its host
  std::string bus_id;       // as printed inside [...]: "0x81", "0000:61:00"
  std::string device_name;  // "NVIDIA A100-PCIE-40GB"
  int line = 0;
};

struct NcclTestsTable {
  std::string file;
  // The `# nThread` line, or an epsim table's `# epsim` line; the
  // column-name line when the table has neither.
  int header_line = 0;
  int columns_line = 0;  // the `#  size  count ...` line
  NcclTest test = NcclTest::kAllReduce;
  // The line that launched the run: the nearest non-blank line above the
  // header block when it holds a `*_perf` binary; verbatim, prompt
  // included. Empty (command_line 0) when there is none.
  std::string command;
  int command_line = 0;
  std::string nccl_tests_version;  // "2.17.6" from `# nccl-tests version`; empty before 2025-10
  // An epsim table (the `# epsim VERSION ... bench OP (SOURCE)` line, which
  // is then header_line): "measured" (epsim-hw bench) or "simulated"
  // (epsim bench), and the version ("0.1.0"). Both empty for nccl-tests.
  std::string epsim_source;
  std::string epsim_version;

  // From the `# nThread` line; zeros when the table has none. An epsim
  // table: -b -e -f -i from its `sizes:` input (epsim bench), the
  // iterations from `iterations:` (epsim-hw bench), zeros when not printed.
  int num_threads = 0;                    // nThread (-t)
  int gpus_per_thread = 0;                // nGpus (-g)
  uint64_t min_bytes = 0, max_bytes = 0;  // -b, -e as given
  uint64_t reduced_max_bytes = 0;  // "# Reducing maxBytes to N due to memory limitation"; 0: none
  uint64_t step = 0;               // the factor or the increment
  bool step_is_factor = true;
  int warmup_iters = 0, iters = 0;
  int agg_iters = 1;

  // Ranks: from the Rank lines, else nThread x nGpus x processes from the
  // command (num_ranks_from_command); 0 when unknown. An epsim table: its
  // `ranks: N` input.
  int num_ranks = 0;
  bool num_ranks_from_command = false;
  int num_processes = 0;  // from the Pids, else from the command (mpirun -np); 0 unknown
  std::vector<NcclTestsRank> ranks;

  std::vector<std::string> columns;  // the column names as printed
  bool cpu_time = false;             // `cputime` columns (-C 1)
  // The rows have in-place figures ([1]): every nccl-tests table; false for
  // an epsim table (out-of-place columns only).
  bool in_place = true;
  bool legacy_algbw = false;         // all_gather / reduce_scatter before 2020-06 (see above)
  std::vector<NcclTestsRow> rows;

  // The footer, when present.
  std::optional<double> avg_busbw_gbps;
  int avg_busbw_line = 0;
  std::optional<int64_t> out_of_bounds;  // "# Out of bounds values : N OK"

  // The first failure line after the header (NCCL WARN, "Test NCCL
  // failure", ...), verbatim; empty when none. A run that failed may have
  // no rows, or fewer than its sweep.
  std::string failure;
  int failure_line = 0;
};

// Every nccl-tests table in `text` (a whole log), in file order; `file`
// names the source in messages. `test_override` gives the test when the
// log does not name its binary; when the log does name one, they must
// agree. BadInput as listed above, and when `text` holds no table.
Result<std::vector<NcclTestsTable>> ParseNcclTestsLog(
    const std::string& text, const std::string& file,
    std::optional<NcclTest> test_override = std::nullopt);

// ParseNcclTestsLog of the file at `path` (named by `path` in messages).
Result<std::vector<NcclTestsTable>> ReadNcclTestsLogFile(
    const std::string& path, std::optional<NcclTest> test_override = std::nullopt);

}  // namespace epsim::measure

#endif  // EPSIM_SIM_MEASURE_NCCL_TESTS_LOG_H_
