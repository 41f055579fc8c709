// Writing traffic matrix files (`epsim trace matrix`) in the formats
// sim/plan/matrix_file.h describes: bytes (nccl-tests' alltoallv_perf),
// fractions (nccl-tests PR #157) and ucc (UCC perftest's pattern file).
// `bytes` is always n x n [src * n + dst] bytes.
#ifndef EPSIM_SIM_REPORT_MATRIX_FILE_OUTPUT_H_
#define EPSIM_SIM_REPORT_MATRIX_FILE_OUTPUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::report {

// The most bytes one rank sends (largest row sum, diagonal included): the
// size a fractions file is written against.
uint64_t LargestRowBytes(const std::vector<uint64_t>& bytes, uint32_t n);

// n lines of n comma-separated fractions bytes / size_bytes, each printed
// with the fewest digits that read back to the same double (so fraction x
// size rounds back to the byte). size_bytes 0: every entry 0.
std::string FractionsText(const std::vector<uint64_t>& bytes, uint32_t n, uint64_t size_bytes);

// One UCC pattern file holding one [collective] per matrix, in order, each
// preceded by "# <label>" when labels[i] is not empty. Counts are in
// elements of `datatype` (UCC's name, lower case: "bfloat16"), written
// upper case as UCC's examples do. BadInput when an entry is not a whole
// number of elements or its count does not fit UCC's 32 bits.
Result<std::string> UccPatternText(const std::vector<std::vector<uint64_t>>& matrices,
                                   const std::vector<std::string>& labels, uint32_t n,
                                   const std::string& datatype, uint64_t element_bytes);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_MATRIX_FILE_OUTPUT_H_
