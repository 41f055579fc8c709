// Schedules for simulated communication microbenchmarks, shaped like
// nccl-tests (sendrecv_perf, alltoall_perf) and traffic-matrix alltoallv.
//
// Each schedule is a single all-to-all phase (kind DISPATCH, no compute):
// the engine replays it like any other plan, so a benchmark's time is that
// phase's time (latest arrival minus start). Sizes follow nccl-tests:
//   size   bytes per rank (the send buffer of one rank), type float (4 B);
//   count  size / 4 elements;
//   sendrecv  each rank r sends `size` to (r+1) mod n and receives the same
//             from (r-1) mod n (a ring);
//   alltoall  each rank sends size / n to every rank; the chunk to itself
//             stays local (zero diagonal), so only (n-1)/n of size crosses
//             links;
//   alltoallv a [src][dst] byte matrix, diagonal stays local.
// Metrics (GB = 1e9 B, as nccl-tests' PERFORMANCE.md):
//   algbw = size / time;  busbw = algbw x BusBwFactor(op, n), where the
//   factor is (n-1)/n for all-to-all(v) and 1 for sendrecv.
// Pure planning: no SimGrid here.
#ifndef EPSIM_SIM_PLAN_BENCH_SCHEDULE_H_
#define EPSIM_SIM_PLAN_BENCH_SCHEDULE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/schedule.pb.h"

namespace epsim::plan {

enum class BenchOp { kSendRecv, kAllToAll, kAllToAllv };

// Bytes of one element of the benchmarks' type (float, as nccl-tests' default).
inline constexpr uint64_t kBenchTypeBytes = 4;

// "sendrecv" | "alltoall" | "alltoallv"; else Usage.
Result<BenchOp> ParseBenchOp(const std::string& name);
const char* BenchOpName(BenchOp op);

// nccl-tests size syntax: a number with an optional K, M or G suffix (binary:
// K = 1024, case-insensitive). "1G" -> 1073741824. Errors on anything else.
Result<uint64_t> ParseSize(const std::string& text);

// nccl-tests' sweep: from min_bytes to max_bytes inclusive, multiplying by
// step_factor when it is > 1, else adding step_bytes (nccl-tests -b -e -f -i).
struct SizeSweep {
  uint64_t min_bytes = 32 * 1024 * 1024;
  uint64_t max_bytes = 32 * 1024 * 1024;
  uint64_t step_factor = 1;
  uint64_t step_bytes = 1024 * 1024;
};
// Usage error when min > max, min is 0, or the sweep would not advance.
Result<std::vector<uint64_t>> SweepSizes(const SizeSweep& sweep);

// (n-1)/n for all-to-all and all-to-allv, 1 for sendrecv.
double BusBwFactor(BenchOp op, uint32_t num_ranks);
// size / time in GB/s; 0 when time_s is not positive.
double AlgBwGbps(uint64_t bytes, double time_s);

// One-phase schedules (model "bench", strategy the op's name). num_ranks >= 2.
proto::Schedule SendRecvSchedule(uint32_t num_ranks, uint64_t bytes);
// Per pair: (bytes / n) rounded down to whole elements.
proto::Schedule AllToAllSchedule(uint32_t num_ranks, uint64_t bytes);
// `matrix` is n x n bytes, [src * n + dst]; the diagonal is dropped (local).
proto::Schedule AllToAllvSchedule(const std::vector<uint64_t>& matrix, uint32_t num_ranks);

// A rank x rank byte matrix in the whitespace text `epsim trace matrix`
// writes (one line per sending rank; blank lines and '#' lines ignored).
// Sets *num_ranks. BadInput when it is not square or holds a non-number.
Result<std::vector<uint64_t>> ParseMatrixText(const std::string& text, uint32_t* num_ranks);

// A seeded skewed matrix for alltoallv without a file: every rank sends
// `bytes_per_rank` in total, split over destinations with Zipf(1) weights
// over a seeded permutation of ranks (a few hot receivers), in whole elements.
std::vector<uint64_t> SkewedMatrix(uint32_t num_ranks, uint64_t bytes_per_rank, uint64_t seed);

// `matrix` scaled so that the mean row sum (bytes per rank, diagonal
// included) is `bytes_per_rank`; entries rounded down to whole elements.
std::vector<uint64_t> ScaleMatrix(const std::vector<uint64_t>& matrix, uint32_t num_ranks,
                                  uint64_t bytes_per_rank);

// The most bytes any rank sends or receives over links (diagonal excluded).
uint64_t MaxRankBytes(const proto::Schedule& schedule);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_BENCH_SCHEDULE_H_
