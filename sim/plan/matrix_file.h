// Traffic matrix files: what each rank sends each other rank in one
// all-to-all-v, row = sending rank, column = receiving rank. `epsim trace
// matrix` writes them (sim/report/matrix_file_output.h), `epsim bench
// alltoallv --matrix` and `epsim-hw bench alltoallv --matrix` read them.
// Three formats, each the input of a public benchmark:
//
// bytes (epsim's own, and nccl-tests' alltoallv_perf): n lines of n
//   whitespace-separated byte counts, nothing else. nccl-tests reads it
//   from NCCL_TESTS_ALLTOALLV_MATRIX_FILE (src/alltoallv.cu, added
//   2026-03-11): cell [i][j] = bytes rank i sends rank j, multiplied by
//   NCCL_TESTS_ALLTOALLV_MATRIX_SCALE (default 1: the file's own bytes),
//   each rounded down to 16 B; run it with -b = -e >= the largest row or
//   column sum. epsim also skips blank lines and lines starting with '#'
//   (nccl-tests does not: epsim writes none in a file it is to read), and
//   reads whole numbers only (nccl-tests takes decimals too).
//
// fractions (nccl-tests pull request #157, "New AlltoAllV (Imbalanced
//   AlltoAll) benchmark", open since 2023-07): "a parameterization CSV
//   file which contains a square matrix of dimension NxN ... Each entry
//   ... a fraction between 0 and 1 (inclusive). Entry I,J determines the
//   amount of data sent from Rank I to Rank J ... the fraction times the
//   data size specified for the test." That prose is all that is public
//   (the branch's parser could not be read), so epsim writes the plainest
//   CSV it describes: n lines of n comma-separated fractions, no header.
//   Entry x size = bytes; epsim writes fractions of the largest row sum,
//   so that size = that sum replays the layer at its real size.
//
// ucc (UCC perftest, openucx/ucc tools/perf, `ucc_perftest -c alltoallv
//   --gen file:name=FILE[@nrep=N]`, generator/ucc_pt_generator_file.cc,
//   added 2025-07): an INI file, one [collective] section per pattern,
//   run one after another:
//       [format]
//       version = 1.0
//       [collective]
//       type = ALLTOALLV
//       team_size = 4
//       datatype = BFLOAT16
//       flags = COUNT_32BIT
//       counts = {
//           0,8192,0,16384
//           ...
//           }
//   counts are n x n element counts, comma-separated (row = sender, as
//   above), in elements of the perftest's datatype (-d, float32 by
//   default): UCC reads only `type` and `counts` and stores counts as
//   32-bit. epsim writes the other keys as UCC's examples do
//   (generator/examples/alltoallv_4.ptini) and reads `datatype` back
//   (float32 when absent) to turn counts into bytes.
#ifndef EPSIM_SIM_PLAN_MATRIX_FILE_H_
#define EPSIM_SIM_PLAN_MATRIX_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::plan {

enum class MatrixFormat { kBytes, kFractions, kUcc };

// "bytes" | "fractions" | "ucc"; Usage otherwise.
Result<MatrixFormat> ParseMatrixFormat(const std::string& name);
const char* MatrixFormatName(MatrixFormat format);
// The format a file's text is in: ucc when its first line that is not
// blank or a comment opens an INI section ('['), fractions when that line
// holds a comma, else bytes.
MatrixFormat DetectMatrixFormat(const std::string& text);

// UCC perftest's datatype names (ucc_pt_config.cc), lower case; the
// element bytes of one, 0 when unknown.
uint64_t UccTypeBytes(const std::string& name);

// What a file holds: matrices of n x n entries [src * n + dst].
struct MatrixFile {
  MatrixFormat format = MatrixFormat::kBytes;
  uint32_t num_ranks = 0;
  // bytes: one matrix; ucc: one per [collective] section, counts x
  // element_bytes.
  std::vector<std::vector<uint64_t>> bytes;
  std::vector<double> fractions;  // fractions: the one matrix
  std::string ucc_datatype;       // ucc: as written ("BFLOAT16"), "" when absent
  uint64_t element_bytes = 1;     // ucc: bytes per count
};

// Reads `text` in `format`. BadInput "line L: ..." for a matrix that is not
// square with >= 2 ranks, a malformed entry, a fraction outside [0, 1], a
// UCC section of another collective, an unknown datatype, counts that are
// not n x n, or UCC patterns of different sizes.
Result<MatrixFile> ParseMatrixFile(const std::string& text, MatrixFormat format);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_MATRIX_FILE_H_
