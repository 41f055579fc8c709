// `epsim bench alltoallv`'s traffic matrix: from --matrix (any format of
// sim/plan/matrix_file.h) or seeded, and how each size of the sweep gets
// its bytes (--matrix-scale).
#ifndef EPSIM_SIM_CLI_BENCH_MATRIX_H_
#define EPSIM_SIM_CLI_BENCH_MATRIX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::cli {

// How alltoallv gets each size's matrix.
enum class MatrixMode {
  kSkewed,     // no --matrix: seeded, skewed, bytes per rank = size
  kMean,       // --matrix-scale mean: the file scaled to mean bytes per rank = size
  kFactor,     // --matrix-scale none or X: the file's bytes x X, one size (real size: X = 1)
  kFractions,  // a fractions file: entry x size (nccl-tests PR #157)
};

struct BenchMatrix {
  MatrixMode mode = MatrixMode::kSkewed;
  uint32_t num_ranks = 0;         // the file's; 0 without one
  double factor = 1;              // kFactor
  std::vector<uint64_t> bytes;    // kMean, kFactor
  std::vector<double> fractions;  // kFractions
  std::string label;              // the header's `matrix:` input

  // The [src * n + dst] bytes of size `size` (bytes per rank; unused by
  // kFactor) in whole elements of `type_bytes`.
  std::vector<uint64_t> For(uint32_t n, uint64_t size, uint64_t seed, uint64_t type_bytes) const;
};

// Reads `path` in `format` ("auto" | "bytes" | "fractions" | "ucc") with
// `scale` ("mean" | "none" | a positive factor; `scale_given` when the
// flag was). Usage for a bad scale, or one given for a fractions file;
// BadInput for a malformed file or a ucc file of more than one pattern.
Result<BenchMatrix> LoadBenchMatrix(const std::string& path, const std::string& format,
                                    const std::string& scale, bool scale_given);

}  // namespace epsim::cli

#endif  // EPSIM_SIM_CLI_BENCH_MATRIX_H_
