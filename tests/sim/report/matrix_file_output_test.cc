// Traffic matrix files: each format written exactly as documented
// (sim/plan/matrix_file.h) and read back to the same bytes.
#include "sim/report/matrix_file_output.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/plan/bench_schedule.h"
#include "sim/plan/matrix_file.h"
#include "sim/report/trace_output.h"

namespace epsim::report {
namespace {

using plan::MatrixFile;
using plan::MatrixFormat;

// Two ranks of a BF16 layer: rank 0 sends 2 rows of 512 B to rank 1, rank 1
// one row to rank 0 (the dedup matrix of tests/golden/cases/trace_matrix_formats.sh).
const std::vector<uint64_t> kLayer0 = {0, 1024, 512, 0};
const std::vector<uint64_t> kLayer1 = {0, 512, 1024, 0};

TEST(MatrixFileOutputTest, BytesRoundTrip) {
  const std::string text = TrafficMatrixText(kLayer0, 2, 1);
  EXPECT_EQ(text, "0 1024\n512 0\n");
  EXPECT_EQ(plan::DetectMatrixFormat(text), MatrixFormat::kBytes);
  const auto f = plan::ParseMatrixFile(text, MatrixFormat::kBytes);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->num_ranks, 2u);
  ASSERT_EQ(f->bytes.size(), 1u);
  EXPECT_EQ(f->bytes[0], kLayer0);
}

TEST(MatrixFileOutputTest, FractionsAreOfTheLargestRowAndRoundTrip) {
  EXPECT_EQ(LargestRowBytes(kLayer0, 2), 1024u);
  const std::string text = FractionsText(kLayer0, 2, 1024);
  EXPECT_EQ(text, "0,1\n0.5,0\n");
  EXPECT_EQ(plan::DetectMatrixFormat(text), MatrixFormat::kFractions);
  const auto f = plan::ParseMatrixFile(text, MatrixFormat::kFractions);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(plan::FractionsTimes(f->fractions, 1024, 1), kLayer0);
}

TEST(MatrixFileOutputTest, FractionsReadBackToTheByteWhenNotExact) {
  // 1/3 and 2/3 are not exact doubles: fraction x size must still round
  // back to the byte, and to whole elements of the type.
  const std::vector<uint64_t> m = {0, 1000, 2000, 0, 3000, 1, 7, 0, 0};
  const uint64_t size = LargestRowBytes(m, 3);
  ASSERT_EQ(size, 3001u);
  const auto f = plan::ParseMatrixFile(FractionsText(m, 3, size), MatrixFormat::kFractions);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(plan::FractionsTimes(f->fractions, size, 1), m);
  EXPECT_EQ(plan::FractionsTimes(f->fractions, size, 4),
            (std::vector<uint64_t>{0, 1000, 2000, 0, 3000, 0, 4, 0, 0}));
}

TEST(MatrixFileOutputTest, UccPatternFileIsUccsLayoutAndRoundTrips) {
  auto text = UccPatternText({kLayer0, kLayer1}, {"layer 0", "layer 1"}, 2, "bfloat16", 2);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text,
            "[format]\nversion = 1.0\ndescription = UCC Collective Pattern File (epsim trace "
            "matrix)\n"
            "\n# layer 0\n[collective]\ntype = ALLTOALLV\nteam_size = 2\ndatatype = BFLOAT16\n"
            "flags = COUNT_32BIT\ncounts = {\n    0,512\n    256,0\n    }\n"
            "\n# layer 1\n[collective]\ntype = ALLTOALLV\nteam_size = 2\ndatatype = BFLOAT16\n"
            "flags = COUNT_32BIT\ncounts = {\n    0,256\n    512,0\n    }\n");
  EXPECT_EQ(plan::DetectMatrixFormat(*text), MatrixFormat::kUcc);
  const auto f = plan::ParseMatrixFile(*text, MatrixFormat::kUcc);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->element_bytes, 2u);
  EXPECT_EQ(f->ucc_datatype, "BFLOAT16");
  ASSERT_EQ(f->bytes.size(), 2u);
  EXPECT_EQ(f->bytes[0], kLayer0);
  EXPECT_EQ(f->bytes[1], kLayer1);
}

TEST(MatrixFileOutputTest, UccRefusesCountsThatAreNotWholeOr32Bit) {
  EXPECT_FALSE(UccPatternText({{0, 3, 2, 0}}, {}, 2, "bfloat16", 2).ok());
  const auto big = UccPatternText({{0, 8ull << 30, 0, 0}}, {}, 2, "int8", 1);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().ToString().find("rank 0 -> 1: 8589934592 B is not a 32-bit count"),
            std::string::npos)
      << big.status().ToString();
}

}  // namespace
}  // namespace epsim::report
