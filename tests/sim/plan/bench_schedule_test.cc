#include "sim/plan/bench_schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace epsim::plan {
namespace {

uint64_t Cell(const proto::Schedule& s, uint32_t src, uint32_t dst) {
  return s.phases(0).send_bytes(src * s.num_ranks() + dst);
}

TEST(BenchScheduleTest, AllToAllSendsAQuarterPerPairAndKeepsTheSelfChunk) {
  const proto::Schedule s = AllToAllSchedule(4, 1 << 20);
  ASSERT_EQ(s.phases_size(), 1);
  EXPECT_EQ(s.phases(0).kind(), proto::DISPATCH);
  EXPECT_EQ(s.num_ranks(), 4u);
  for (uint32_t src = 0; src < 4; ++src)
    for (uint32_t dst = 0; dst < 4; ++dst)
      EXPECT_EQ(Cell(s, src, dst), src == dst ? 0u : 262144u) << src << "->" << dst;
  EXPECT_EQ(MaxRankBytes(s), 3u * 262144u);
}

TEST(BenchScheduleTest, AllToAllRoundsPairsDownToWholeFloats) {
  const proto::Schedule s = AllToAllSchedule(4, 40);  // 10 B per pair -> 2 floats
  EXPECT_EQ(Cell(s, 0, 1), 8u);
  EXPECT_EQ(Cell(AllToAllSchedule(4, 8), 0, 1), 0u);
}

TEST(BenchScheduleTest, SendRecvIsARingToTheNextRank) {
  const proto::Schedule s = SendRecvSchedule(4, 1000);
  for (uint32_t src = 0; src < 4; ++src)
    for (uint32_t dst = 0; dst < 4; ++dst)
      EXPECT_EQ(Cell(s, src, dst), dst == (src + 1) % 4 ? 1000u : 0u) << src << "->" << dst;
  EXPECT_EQ(MaxRankBytes(s), 1000u);
}

TEST(BenchScheduleTest, AllToAllvDropsTheDiagonal) {
  const proto::Schedule s = AllToAllvSchedule({5, 6, 7, 8}, 2);
  EXPECT_EQ(Cell(s, 0, 0), 0u);
  EXPECT_EQ(Cell(s, 0, 1), 6u);
  EXPECT_EQ(Cell(s, 1, 0), 7u);
  EXPECT_EQ(Cell(s, 1, 1), 0u);
}

TEST(BenchScheduleTest, ParsesBinarySizeSuffixes) {
  EXPECT_EQ(*ParseSize("8"), 8u);
  EXPECT_EQ(*ParseSize("1K"), 1024u);
  EXPECT_EQ(*ParseSize("4k"), 4096u);
  EXPECT_EQ(*ParseSize("32M"), 32u << 20);
  EXPECT_EQ(*ParseSize("1G"), 1u << 30);
  EXPECT_FALSE(ParseSize("").ok());
  EXPECT_FALSE(ParseSize("1T").ok());
  EXPECT_FALSE(ParseSize("1.5M").ok());
  EXPECT_FALSE(ParseSize("M").ok());
  EXPECT_FALSE(ParseSize("-8").ok());
}

TEST(BenchScheduleTest, FactorSweepFrom8BytesTo1GiBHas28Sizes) {
  SizeSweep sw{.min_bytes = 8, .max_bytes = 1u << 30, .step_factor = 2, .step_bytes = 0};
  const std::vector<uint64_t> sizes = *SweepSizes(sw);
  ASSERT_EQ(sizes.size(), 28u);
  EXPECT_EQ(sizes.front(), 8u);
  EXPECT_EQ(sizes[1], 16u);
  EXPECT_EQ(sizes.back(), 1u << 30);
}

TEST(BenchScheduleTest, IncrementSweepAddsStepBytes) {
  SizeSweep sw{.min_bytes = 1000, .max_bytes = 3500, .step_factor = 1, .step_bytes = 1000};
  EXPECT_EQ(*SweepSizes(sw), (std::vector<uint64_t>{1000, 2000, 3000}));
}

TEST(BenchScheduleTest, RejectsSweepsThatCannotRun) {
  EXPECT_FALSE(SweepSizes({.min_bytes = 16, .max_bytes = 8, .step_factor = 2}).ok());
  EXPECT_FALSE(SweepSizes({.min_bytes = 0, .max_bytes = 8, .step_factor = 2}).ok());
  EXPECT_FALSE(
      SweepSizes({.min_bytes = 8, .max_bytes = 16, .step_factor = 1, .step_bytes = 0}).ok());
  EXPECT_EQ(SweepSizes({.min_bytes = 8, .max_bytes = 8, .step_factor = 1, .step_bytes = 0})
                ->size(),
            1u);
}

TEST(BenchScheduleTest, BusBwFollowsNcclTests) {
  // 1 MiB per rank in 100 us: algbw = 10.48576 GB/s; 8 ranks: busbw x 7/8.
  const double algbw = AlgBwGbps(1 << 20, 100e-6);
  EXPECT_DOUBLE_EQ(algbw, 10.48576);
  EXPECT_DOUBLE_EQ(algbw * BusBwFactor(BenchOp::kAllToAll, 8), 9.17504);
  EXPECT_DOUBLE_EQ(algbw * BusBwFactor(BenchOp::kAllToAllv, 4), 7.86432);
  EXPECT_DOUBLE_EQ(BusBwFactor(BenchOp::kSendRecv, 8), 1.0);
  EXPECT_EQ(AlgBwGbps(100, 0), 0.0);
}

// ---- ring collectives ------------------------------------------------------

TEST(BenchScheduleTest, ParsesTheCollectiveNames) {
  EXPECT_EQ(*ParseBenchOp("allreduce"), BenchOp::kAllReduce);
  EXPECT_EQ(*ParseBenchOp("allgather"), BenchOp::kAllGather);
  EXPECT_EQ(*ParseBenchOp("reducescatter"), BenchOp::kReduceScatter);
  EXPECT_FALSE(ParseBenchOp("all_reduce").ok());
  for (BenchOp op : {BenchOp::kAllReduce, BenchOp::kAllGather, BenchOp::kReduceScatter}) {
    EXPECT_EQ(*ParseBenchOp(BenchOpName(op)), op);
    EXPECT_TRUE(IsRingCollective(op));
  }
  EXPECT_FALSE(IsRingCollective(BenchOp::kSendRecv));
  EXPECT_FALSE(IsRingCollective(BenchOp::kAllToAll));
}

TEST(BenchScheduleTest, RedOpIsSumOnlyWhereNcclTestsReduces) {
  EXPECT_STREQ(BenchRedOp(BenchOp::kAllReduce), "sum");
  EXPECT_STREQ(BenchRedOp(BenchOp::kReduceScatter), "sum");
  EXPECT_STREQ(BenchRedOp(BenchOp::kAllGather), "none");
  EXPECT_STREQ(BenchRedOp(BenchOp::kAllToAll), "none");
}

TEST(BenchScheduleTest, CollectiveBusBwFactorsFollowNcclTests) {
  EXPECT_DOUBLE_EQ(BusBwFactor(BenchOp::kAllReduce, 4), 1.5);    // 2 x 3/4
  EXPECT_DOUBLE_EQ(BusBwFactor(BenchOp::kAllReduce, 8), 1.75);   // 2 x 7/8
  EXPECT_DOUBLE_EQ(BusBwFactor(BenchOp::kAllReduce, 2), 1.0);
  EXPECT_DOUBLE_EQ(BusBwFactor(BenchOp::kAllGather, 8), 0.875);
  EXPECT_DOUBLE_EQ(BusBwFactor(BenchOp::kReduceScatter, 4), 0.75);
}

uint64_t RingCell(const proto::Schedule& s, int phase, uint32_t src, uint32_t dst) {
  return s.phases(phase).send_bytes(src * s.num_ranks() + dst);
}

// Every step: each rank sends one chunk to the next rank of the ring, and
// nothing else moves; step s+1 depends on step s only.
void ExpectRing(const proto::Schedule& s, uint32_t n, int steps, uint64_t chunk) {
  ASSERT_EQ(s.num_ranks(), n);
  ASSERT_EQ(s.phases_size(), steps);
  for (int p = 0; p < steps; ++p) {
    const proto::Phase& phase = s.phases(p);
    EXPECT_EQ(phase.id(), static_cast<uint32_t>(p));
    EXPECT_EQ(phase.phase_class(), proto::ALL_TO_ALL);
    ASSERT_EQ(phase.send_bytes_size(), static_cast<int>(n * n));
    if (p == 0) {
      EXPECT_EQ(phase.depends_on_size(), 0);
    } else {
      ASSERT_EQ(phase.depends_on_size(), 1);
      EXPECT_EQ(phase.depends_on(0), static_cast<uint32_t>(p - 1));
    }
    for (uint32_t src = 0; src < n; ++src)
      for (uint32_t dst = 0; dst < n; ++dst)
        EXPECT_EQ(RingCell(s, p, src, dst), dst == (src + 1) % n ? chunk : 0u)
            << "step " << p << " " << src << "->" << dst;
  }
}

TEST(BenchScheduleTest, AllReduceRingIsTwoNMinusOneStepsOfOneChunk) {
  const proto::Schedule s = RingSchedule(BenchOp::kAllReduce, 4, 1 << 20);
  ExpectRing(s, 4, 6, 262144);
  EXPECT_EQ(s.strategy(), "allreduce");
  EXPECT_EQ(MaxRankBytes(s), 6u * 262144u);  // 2(n-1)/n of the buffer per rank
  EXPECT_EQ(RingSteps(BenchOp::kAllReduce, 8), 14u);
}

TEST(BenchScheduleTest, AllGatherAndReduceScatterRingsAreNMinusOneSteps) {
  ExpectRing(RingSchedule(BenchOp::kAllGather, 8, 8 << 20), 8, 7, 1 << 20);
  ExpectRing(RingSchedule(BenchOp::kReduceScatter, 3, 3 * 4096), 3, 2, 4096);
  EXPECT_EQ(RingSteps(BenchOp::kAllGather, 2), 1u);
}

// all_reduce_perf: count = size / 4, printed size = count x 4, no rounding
// to the rank count; a step moves the largest chunk, ceil(count / n).
TEST(BenchScheduleTest, AllReduceSizeIsTheWholeBufferInWholeFloats) {
  CollectiveSize c = RingCollectiveSize(BenchOp::kAllReduce, 4, 1 << 20);
  EXPECT_EQ(c.printed_bytes, 1u << 20);
  EXPECT_EQ(c.count, 262144u);
  EXPECT_EQ(c.chunk_bytes, 262144u);
  c = RingCollectiveSize(BenchOp::kAllReduce, 4, 42);  // 10 floats (2 B dropped) over 4 ranks
  EXPECT_EQ(c.printed_bytes, 40u);
  EXPECT_EQ(c.count, 10u);
  EXPECT_EQ(c.chunk_bytes, 12u);  // 3 floats
  c = RingCollectiveSize(BenchOp::kAllReduce, 4, 8);  // fewer floats than ranks
  EXPECT_EQ(c.printed_bytes, 8u);
  EXPECT_EQ(c.chunk_bytes, 4u);
  EXPECT_EQ(RingCollectiveSize(BenchOp::kAllReduce, 4, 3).printed_bytes, 0u);
}

// all_gather_perf / reduce_scatter_perf: per-rank count = size / 4 / n
// rounded down to 4 floats (16 B); the printed size is n x that (the
// all-gather's output, the reduce-scatter's input), count the per-rank one.
TEST(BenchScheduleTest, AllGatherAndReduceScatterPrintTheWholeBufferAndTheRankCount) {
  for (BenchOp op : {BenchOp::kAllGather, BenchOp::kReduceScatter}) {
    CollectiveSize c = RingCollectiveSize(op, 4, 1 << 20);
    EXPECT_EQ(c.printed_bytes, 1u << 20);
    EXPECT_EQ(c.count, 65536u);
    EXPECT_EQ(c.chunk_bytes, 262144u);
    c = RingCollectiveSize(op, 3, 1000);  // 250 floats / 3 = 83 -> 80 per rank
    EXPECT_EQ(c.count, 80u);
    EXPECT_EQ(c.chunk_bytes, 320u);
    EXPECT_EQ(c.printed_bytes, 960u);
    c = RingCollectiveSize(op, 4, 32);  // 2 floats per rank -> 0
    EXPECT_EQ(c.printed_bytes, 0u);
    EXPECT_EQ(c.count, 0u);
  }
}

TEST(BenchScheduleTest, RingScheduleUsesTheRoundedChunk) {
  ExpectRing(RingSchedule(BenchOp::kAllGather, 3, 1000), 3, 2, 320);
  ExpectRing(RingSchedule(BenchOp::kAllReduce, 4, 42), 4, 6, 12);
}

TEST(BenchScheduleTest, ParsesTheTraceMatrixText) {
  uint32_t n = 0;
  auto m = ParseMatrixText("0 10 20\n30 0 40\n\n50 60 0\n", &n);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(*m, (std::vector<uint64_t>{0, 10, 20, 30, 0, 40, 50, 60, 0}));
  EXPECT_FALSE(ParseMatrixText("0 1\n2 0 3\n", &n).ok());
  EXPECT_FALSE(ParseMatrixText("0 1 2\n3 0 4\n", &n).ok());
  EXPECT_FALSE(ParseMatrixText("0 x\n1 0\n", &n).ok());
}

TEST(BenchScheduleTest, SkewedMatrixIsSeededAndSumsToTheRankBytes) {
  const std::vector<uint64_t> a = SkewedMatrix(8, 1 << 20, 1);
  EXPECT_EQ(a, SkewedMatrix(8, 1 << 20, 1));
  EXPECT_NE(a, SkewedMatrix(8, 1 << 20, 2));
  const uint64_t row0 = std::accumulate(a.begin(), a.begin() + 8, uint64_t{0});
  EXPECT_LE(row0, 1u << 20);
  EXPECT_GT(row0, (1u << 20) - 8 * kBenchTypeBytes);
  // Zipf(1) over 8 ranks: the hottest receiver gets 1/H(8) = 36.8% of a row.
  EXPECT_GT(*std::max_element(a.begin(), a.begin() + 8), 380000u);
}

TEST(BenchScheduleTest, ScaleMatrixSetsTheMeanRankBytes) {
  const std::vector<uint64_t> m = ScaleMatrix({0, 100, 300, 0}, 2, 400);
  EXPECT_EQ(m, (std::vector<uint64_t>{0, 200, 600, 0}));
}

TEST(BenchScheduleTest, MultiplyMatrixKeepsTheFilesBytesAtScaleOne) {
  EXPECT_EQ(MultiplyMatrix({0, 100, 302, 0}, 1.0), (std::vector<uint64_t>{0, 100, 300, 0}));
  EXPECT_EQ(MultiplyMatrix({0, 100, 302, 0}, 1.0, 1), (std::vector<uint64_t>{0, 100, 302, 0}));
  EXPECT_EQ(MultiplyMatrix({0, 100, 300, 0}, 2.5), (std::vector<uint64_t>{0, 248, 748, 0}));
}

TEST(BenchScheduleTest, FractionsTimesTheSize) {
  // nccl-tests PR #157: "at 256M, an entry of 0.5 sends 128M".
  EXPECT_EQ(FractionsTimes({0, 0.5, 1, 0}, 256 << 20),
            (std::vector<uint64_t>{0, 128 << 20, 256 << 20, 0}));
  EXPECT_EQ(FractionsTimes({0, 0.3, 0.7, 0}, 10, 1), (std::vector<uint64_t>{0, 3, 7, 0}));
}

// busbw of alltoallv: the most-loaded rank's bytes over links / time, on
// the two closed-form matrices. 4 ranks, S = 4 MiB per rank, 1 ms.
TEST(BenchScheduleTest, AllToAllvBusBwOfAUniformMatrixIsAllToAlls) {
  const uint64_t s = 4 << 20;
  const std::vector<uint64_t> uniform(16, s / 4);  // 1/n of each row on the diagonal
  const proto::Schedule sched = AllToAllvSchedule(uniform, 4);
  EXPECT_EQ(MaxRankBytes(sched), 3 * s / 4);
  const double algbw = AlgBwGbps(s, 1e-3);
  EXPECT_DOUBLE_EQ(BusBwGbps(BenchOp::kAllToAllv, 4, s, MaxRankBytes(sched), 1e-3),
                   algbw * 3 / 4);
  EXPECT_DOUBLE_EQ(BusBwGbps(BenchOp::kAllToAll, 4, s, 0, 1e-3), algbw * 3 / 4);
}

TEST(BenchScheduleTest, AllToAllvBusBwOfAZeroDiagonalMatrixIsAlgBw) {
  // Every byte crosses a link: S / 3 to each other rank, nothing local.
  const uint64_t s = 3 << 20;
  std::vector<uint64_t> m(16, s / 3);
  for (uint32_t r = 0; r < 4; ++r) m[r * 4 + r] = 0;
  const proto::Schedule sched = AllToAllvSchedule(m, 4);
  EXPECT_EQ(MaxRankBytes(sched), s);
  EXPECT_DOUBLE_EQ(BusBwGbps(BenchOp::kAllToAllv, 4, s, MaxRankBytes(sched), 1e-3),
                   AlgBwGbps(s, 1e-3));
  EXPECT_DOUBLE_EQ(AlgBwGbps(s, 1e-3), 3.145728);
}

// ---- -d: element types -------------------------------------------------------

TEST(BenchScheduleTest, ParsesNcclTestsTypeNames) {
  EXPECT_EQ(ParseBenchType("float")->bytes, 4u);
  EXPECT_EQ(ParseBenchType("half")->bytes, 2u);
  EXPECT_EQ(ParseBenchType("bfloat16")->bytes, 2u);
  EXPECT_EQ(ParseBenchType("int8")->bytes, 1u);
  EXPECT_EQ(ParseBenchType("double")->bytes, 8u);
  EXPECT_EQ(ParseBenchType("f8e4m3")->bytes, 1u);
  const auto typo = ParseBenchType("bfloat61");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().ExitCode(), 1);
  EXPECT_NE(typo.status().ToString().find("did you mean bfloat16?"), std::string::npos);
  EXPECT_NE(ParseBenchType("all").status().ToString().find("one type"), std::string::npos);
  EXPECT_FALSE(ParseBenchType("fp32").ok());
}

TEST(BenchScheduleTest, TypeSetsWholeElementRounding) {
  // 4 ranks, 40 B: 10 B per pair = 5 halves, 2 floats, 1 double.
  EXPECT_EQ(AllToAllSchedule(4, 40, 2).phases(0).send_bytes(1), 10u);
  EXPECT_EQ(AllToAllSchedule(4, 40, 4).phases(0).send_bytes(1), 8u);
  EXPECT_EQ(AllToAllSchedule(4, 40, 8).phases(0).send_bytes(1), 8u);
  // allgather trims the per-rank count to 16 B: 16 / T elements.
  const CollectiveSize half = RingCollectiveSize(BenchOp::kAllGather, 3, 1000, 2);
  EXPECT_EQ(half.count, 160u);  // 500 halves / 3 = 166 -> 160 (multiple of 8)
  EXPECT_EQ(half.printed_bytes, 960u);
  const CollectiveSize i8 = RingCollectiveSize(BenchOp::kAllReduce, 4, 10, 1);
  EXPECT_EQ(i8.count, 10u);
  EXPECT_EQ(i8.chunk_bytes, 3u);
}

}  // namespace
}  // namespace epsim::plan
