// Schedules for simulated communication microbenchmarks, shaped like
// nccl-tests (sendrecv_perf, alltoall_perf, all_reduce_perf,
// all_gather_perf, reduce_scatter_perf) and traffic-matrix alltoallv.
//
// sendrecv, alltoall and alltoallv are a single all-to-all phase (kind
// DISPATCH, no compute): the engine replays it like any other plan, so a
// benchmark's time is that phase's time (latest arrival minus start). Sizes
// follow nccl-tests:
//   size   bytes per rank (the send buffer of one rank), type float (4 B)
//          unless -d names another (BenchType);
//   count  size / type bytes elements;
//   sendrecv  each rank r sends `size` to (r+1) mod n and receives the same
//             from (r-1) mod n (a ring);
//   alltoall  each rank sends size / n to every rank; the chunk to itself
//             stays local (zero diagonal), so only (n-1)/n of size crosses
//             links;
//   alltoallv a [src][dst] byte matrix, diagonal stays local; size = the
//             mean bytes per rank (row sum, diagonal included).
//
// allreduce, allgather and reducescatter are NCCL's ring algorithm, one
// phase per ring step (RingSchedule). The ring is rank order, r -> (r+1)
// mod n. A buffer of S bytes is cut into n chunks of C = S / n:
//   reducescatter  n-1 steps; in each, every rank sends one chunk to the
//                  next rank, which adds it to its own copy of that chunk
//                  and forwards the sum in the next step;
//   allgather      n-1 steps of the same shape, forwarding reduced chunks;
//   allreduce      reduce-scatter then all-gather: 2(n-1) steps.
// Step s+1 of a rank depends on step s (depends_on = {s}): by
// schedule.proto's rule a rank sends in step s+1 once its own receive of
// step s has arrived, and no earlier; there is no barrier across ranks
// (the per-pair replay walks each rank on its own; the per-phase replay
// starts a phase when every rank has issued it, which on a ring of
// identical steps is the same time). Each step is a sendrecv-like phase,
// so the engine charges it as any message: route latency (links and the
// protocol's extra hops) + C / efficiency / bandwidth, the protocol chosen
// by C, plus the protocol's base latency once, in the first step: the
// later steps are pipelined (Phase.pipelined), as NCCL's tuner charges a
// ring (base latency once per collective, a hop latency per step). The
// reduction arithmetic is not charged (NCCL fuses it into the copy, and
// device memory is many times faster than the links). On a ring of
// identical pairs that gives the closed form
//   time = base latency + steps x (route latency + (C / efficiency) / bottleneck bw),
// steps = 2(n-1) for allreduce, n-1 otherwise. Not modelled: NCCL's
// channels (several rings at once: inside a host they share the same links,
// but across hosts each leaves through its own NIC, so one rank-order ring,
// which crosses each host boundary through one NIC, understates a
// multi-NIC cluster), its pipelining of a step into slices, its own ring
// order (from the topology search, often not rank order) and its tree
// algorithm.
//
// nccl-tests' sizes for these (its *GetCollByteCount, as of 2024-12), for
// a type of T bytes (float: 4):
//   allreduce      count = size / T elements in and out; printed size =
//                  count x T. Each ring step moves ceil(count / n) elements
//                  (the largest chunk: ranks step in lockstep).
//   allgather      per-rank count = (size / T / n) rounded down to a
//                  multiple of 16 / T elements (16 B); the printed size is
//                  the output, n x per-rank bytes, and count the per-rank count.
//   reducescatter  the same numbers; the printed size is the input.
// nccl-tests never rejects a size: it rounds down like this (a size that
// rounds to 0 runs an empty collective, printed as size 0, time 0 here).
//
// Metrics (GB = 1e9 B, as nccl-tests' PERFORMANCE.md):
//   algbw = size / time (the printed size);  busbw = algbw x
//   BusBwFactor(op, n): (n-1)/n for all-to-all, all-gather and
//   reduce-scatter, 2(n-1)/n for all-reduce, 1 for sendrecv.
//   alltoallv: busbw = the bytes the most-loaded rank moves over links
//   (the larger of what it sends and what it receives, diagonal excluded:
//   MaxRankBytes) / time. That is the bytes that leave each rank / time,
//   as busbw means for alltoall: for a uniform matrix with its 1/n on the
//   diagonal it is algbw x (n-1)/n, nccl-tests' alltoall figure; for a
//   zero-diagonal matrix, where every byte crosses a link, it is algbw.
//   (nccl-tests' alltoallv_perf, src/alltoallv.cu, 2026-03, prints
//   busbw = the most-loaded rank's bytes, diagonal included, / time x
//   (n-1)/n: the same for a uniform matrix, (n-1)/n of this for a
//   zero-diagonal one.)
// Pure planning: no SimGrid here.
#ifndef EPSIM_SIM_PLAN_BENCH_SCHEDULE_H_
#define EPSIM_SIM_PLAN_BENCH_SCHEDULE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/schedule.pb.h"

namespace epsim::plan {

enum class BenchOp { kSendRecv, kAllToAll, kAllToAllv, kAllReduce, kAllGather, kReduceScatter };

// Bytes of one element of the benchmarks' default type (float, as nccl-tests' default).
inline constexpr uint64_t kBenchTypeBytes = 4;

// An element type as nccl-tests' -d names it, and its size.
struct BenchType {
  std::string name = "float";
  uint64_t bytes = kBenchTypeBytes;
};
// nccl-tests' names (src/common.cu): int8 uint8 int32 uint32 int64 uint64
// half float double bfloat16 f8e4m3 f8e5m2. Usage for anything else,
// naming the nearest; "all" (nccl-tests runs every type) is refused: give
// one type per run.
Result<BenchType> ParseBenchType(const std::string& name);

// "sendrecv" | "alltoall" | "alltoallv" | "allreduce" | "allgather" |
// "reducescatter"; else Usage.
Result<BenchOp> ParseBenchOp(const std::string& name);
const char* BenchOpName(BenchOp op);
// allreduce, allgather, reducescatter: the ring collectives.
bool IsRingCollective(BenchOp op);
// The redop column nccl-tests prints with its default -o: "sum" for
// allreduce and reducescatter, "none" for the others.
const char* BenchRedOp(BenchOp op);

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

// nccl-tests' busbw factors: 2(n-1)/n for all-reduce; (n-1)/n for
// all-to-all(v), all-gather and reduce-scatter; 1 for sendrecv.
double BusBwFactor(BenchOp op, uint32_t num_ranks);
// size / time in GB/s; 0 when time_s is not positive.
double AlgBwGbps(uint64_t bytes, double time_s);
// busbw in GB/s as defined above: alltoallv from `max_rank_bytes` (the
// most-loaded rank's bytes over links, MaxRankBytes), every other op
// AlgBwGbps(size_bytes, time_s) x BusBwFactor(op, num_ranks).
double BusBwGbps(BenchOp op, uint32_t num_ranks, uint64_t size_bytes, uint64_t max_rank_bytes,
                 double time_s);

// One-phase schedules (model "bench", strategy the op's name). num_ranks >= 2.
proto::Schedule SendRecvSchedule(uint32_t num_ranks, uint64_t bytes);
// Per pair: (bytes / n) rounded down to whole elements of `type_bytes`.
proto::Schedule AllToAllSchedule(uint32_t num_ranks, uint64_t bytes,
                                 uint64_t type_bytes = kBenchTypeBytes);
// `matrix` is n x n bytes, [src * n + dst]; the diagonal is dropped (local).
proto::Schedule AllToAllvSchedule(const std::vector<uint64_t>& matrix, uint32_t num_ranks);

// How nccl-tests sizes a ring collective for `-b/-e` size `bytes` on
// `num_ranks` ranks (see the top of this file).
struct CollectiveSize {
  uint64_t printed_bytes = 0;  // the size column: the buffer nccl-tests prints
  uint64_t count = 0;          // the count column (allgather/reducescatter: per rank)
  uint64_t chunk_bytes = 0;    // what each rank sends in each ring step
};
CollectiveSize RingCollectiveSize(BenchOp op, uint32_t num_ranks, uint64_t bytes,
                                  uint64_t type_bytes = kBenchTypeBytes);

// Ring steps: 2(n-1) for allreduce, n-1 for allgather and reducescatter.
uint32_t RingSteps(BenchOp op, uint32_t num_ranks);

// The ring schedule of a collective op (IsRingCollective) of nccl-tests
// size `bytes`: RingSteps phases (model "bench", strategy the op's name),
// phase s with cells r -> (r+1) mod n of chunk_bytes, depending on phase
// s-1. num_ranks >= 2.
proto::Schedule RingSchedule(BenchOp op, uint32_t num_ranks, uint64_t bytes,
                             uint64_t type_bytes = kBenchTypeBytes);

// A rank x rank byte matrix in the whitespace text `epsim trace matrix`
// writes (one line per sending rank; blank lines and '#' lines ignored).
// Sets *num_ranks. BadInput when it is not square or holds a non-number.
Result<std::vector<uint64_t>> ParseMatrixText(const std::string& text, uint32_t* num_ranks);

// A seeded skewed matrix for alltoallv without a file: every rank sends
// `bytes_per_rank` in total, split over destinations with Zipf(1) weights
// over a seeded permutation of ranks (a few hot receivers), in whole elements.
std::vector<uint64_t> SkewedMatrix(uint32_t num_ranks, uint64_t bytes_per_rank, uint64_t seed,
                                   uint64_t type_bytes = kBenchTypeBytes);

// `matrix` scaled so that the mean row sum (bytes per rank, diagonal
// included) is `bytes_per_rank`; entries rounded down to whole elements.
std::vector<uint64_t> ScaleMatrix(const std::vector<uint64_t>& matrix, uint32_t num_ranks,
                                  uint64_t bytes_per_rank, uint64_t type_bytes = kBenchTypeBytes);

// Every entry x `factor` (nccl-tests' NCCL_TESTS_ALLTOALLV_MATRIX_SCALE;
// 1 = the file's own bytes), rounded down to whole elements.
std::vector<uint64_t> MultiplyMatrix(const std::vector<uint64_t>& matrix, double factor,
                                     uint64_t type_bytes = kBenchTypeBytes);

// A matrix of fractions times `bytes` (nccl-tests PR #157's meaning: entry
// [src][dst] x the size of the test = bytes from src to dst), each entry
// rounded to the nearest byte, then down to whole elements.
std::vector<uint64_t> FractionsTimes(const std::vector<double>& fractions, uint64_t bytes,
                                     uint64_t type_bytes = kBenchTypeBytes);

// The most bytes any rank sends or receives over links (diagonal excluded).
uint64_t MaxRankBytes(const proto::Schedule& schedule);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_BENCH_SCHEDULE_H_
