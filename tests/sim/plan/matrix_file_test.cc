// Reading traffic matrix files in the three formats of
// sim/plan/matrix_file.h, and refusing malformed ones with the line.
#include "sim/plan/matrix_file.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace epsim::plan {
namespace {

std::string ErrorOf(const std::string& text, MatrixFormat format) {
  const auto f = ParseMatrixFile(text, format);
  return f.ok() ? "ok" : f.status().ToString();
}

TEST(MatrixFileTest, DetectsTheFormatFromTheFirstLine) {
  EXPECT_EQ(DetectMatrixFormat("# comment\n0 10\n20 0\n"), MatrixFormat::kBytes);
  EXPECT_EQ(DetectMatrixFormat("\n0,0.5\n1,0\n"), MatrixFormat::kFractions);
  EXPECT_EQ(DetectMatrixFormat("; UCC\n[format]\nversion = 1.0\n"), MatrixFormat::kUcc);
}

// The layout of UCC's own example (tools/perf/generator/examples/
// alltoallv_4.ptini): no team_size check fails, `}` at column 0, INT32.
TEST(MatrixFileTest, ReadsUccsExampleLayout) {
  const std::string text =
      "[format]\nversion = 1.0\ndescription = UCC Collective Pattern File\n\n"
      "[collective]\ntype = ALLTOALLV\nteam_size = 2\ndatatype = INT32\nflags = COUNT_32BIT\n"
      "counts = {\n    1,2\n    3,4\n}\n\n"
      "[collective]\ntype = ALLTOALLV\ncounts = {\n    0,5\n    6,0\n}\n";
  const auto f = ParseMatrixFile(text, MatrixFormat::kUcc);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->num_ranks, 2u);
  EXPECT_EQ(f->element_bytes, 4u);
  ASSERT_EQ(f->bytes.size(), 2u);
  EXPECT_EQ(f->bytes[0], (std::vector<uint64_t>{4, 8, 12, 16}));
  EXPECT_EQ(f->bytes[1], (std::vector<uint64_t>{0, 20, 24, 0}));
}

TEST(MatrixFileTest, UccWithoutDatatypeIsFloat32AsUccsDefault) {
  const auto f = ParseMatrixFile("[collective]\ntype = ALLTOALLV\ncounts = {0,1,2,0}\n",
                                 MatrixFormat::kUcc);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->bytes[0], (std::vector<uint64_t>{0, 4, 8, 0}));
}

TEST(MatrixFileTest, RefusesMalformedUccFiles) {
  EXPECT_NE(ErrorOf("[format]\nversion = 1.0\n", MatrixFormat::kUcc).find("no [collective]"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[collective]\ntype = ALLGATHERV\ncounts = {0,1,2,0}\n", MatrixFormat::kUcc)
                .find("[collective] at line 1: type 'ALLGATHERV', want ALLTOALLV"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[collective]\ntype = ALLTOALLV\ndatatype = QUAD\ncounts = {0,1,2,0}\n",
                    MatrixFormat::kUcc)
                .find("unknown datatype 'QUAD'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[collective]\ntype = ALLTOALLV\ncounts = {0,1,2}\n", MatrixFormat::kUcc)
                .find("3 counts, want n x n"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[collective]\ntype = ALLTOALLV\nteam_size = 3\ncounts = {0,1,2,0}\n",
                    MatrixFormat::kUcc)
                .find("team_size 3 but 2 x 2 counts"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[collective]\ntype = ALLTOALLV\ncounts = {0,-1,2,0}\n", MatrixFormat::kUcc)
                .find("count '-1' is not a 32-bit element count"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[collective]\ntype = ALLTOALLV\ncounts = {0,4294967296,2,0}\n",
                    MatrixFormat::kUcc)
                .find("not a 32-bit"),
            std::string::npos);
  const std::string mixed =
      "[collective]\ntype = ALLTOALLV\ncounts = {0,1,2,0}\n"
      "[collective]\ntype = ALLTOALLV\ncounts = {0,1,2,0,1,2,0,1,2}\n";
  EXPECT_NE(ErrorOf(mixed, MatrixFormat::kUcc).find("the first pattern has 2"), std::string::npos);
}

TEST(MatrixFileTest, ReadsFractions) {
  const auto f = ParseMatrixFile("0, 0.25 ,0.75\n0.5,0,0.5\n1,0,0\n", MatrixFormat::kFractions);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->num_ranks, 3u);
  EXPECT_EQ(f->fractions, (std::vector<double>{0, 0.25, 0.75, 0.5, 0, 0.5, 1, 0, 0}));
}

TEST(MatrixFileTest, RefusesFractionsOutsideZeroToOneAndRagged) {
  EXPECT_NE(ErrorOf("0,1.5\n0,0\n", MatrixFormat::kFractions)
                .find("line 1: '1.5' is not a fraction in [0, 1]"),
            std::string::npos);
  EXPECT_NE(ErrorOf("0,x\n0,0\n", MatrixFormat::kFractions).find("'x' is not a fraction"),
            std::string::npos);
  EXPECT_NE(ErrorOf("0,0.5\n0,0,0\n", MatrixFormat::kFractions).find("line 2: 3 entries, want 2"),
            std::string::npos);
  EXPECT_NE(ErrorOf("0,\n0,0\n", MatrixFormat::kFractions).find("line 1: '' is not a fraction"),
            std::string::npos);
  EXPECT_NE(ErrorOf("0.5\n", MatrixFormat::kFractions).find("1 x 1"), std::string::npos);
}

TEST(MatrixFileTest, BytesAreTheByteMatrix) {
  const auto f = ParseMatrixFile("0 10\n20 0\n", MatrixFormat::kBytes);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->bytes[0], (std::vector<uint64_t>{0, 10, 20, 0}));
  EXPECT_NE(ErrorOf("0 0.5\n1 0\n", MatrixFormat::kBytes).find("not a byte count"),
            std::string::npos);
}

TEST(MatrixFileTest, FormatNames) {
  EXPECT_EQ(*ParseMatrixFormat("ucc"), MatrixFormat::kUcc);
  EXPECT_STREQ(MatrixFormatName(MatrixFormat::kFractions), "fractions");
  EXPECT_FALSE(ParseMatrixFormat("csv").ok());
  EXPECT_EQ(UccTypeBytes("bfloat16"), 2u);
  EXPECT_EQ(UccTypeBytes("float64"), 8u);
  EXPECT_EQ(UccTypeBytes("half"), 0u);  // nccl-tests' name, not UCC's
}

}  // namespace
}  // namespace epsim::plan
