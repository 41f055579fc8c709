#include "sim/cli/bench_matrix.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "sim/base/file_util.h"
#include "sim/plan/bench_schedule.h"
#include "sim/plan/matrix_file.h"

namespace epsim::cli {
namespace {

Result<double> ParseScale(const std::string& text) {
  if (text == "none") return 1.0;
  char* end = nullptr;
  const double x = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(x > 0) || !std::isfinite(x))
    return Status::Usage("--matrix-scale " + text + ": want mean, none or a positive number");
  return x;
}

}  // namespace

std::vector<uint64_t> BenchMatrix::For(uint32_t n, uint64_t size, uint64_t seed,
                                       uint64_t type_bytes) const {
  switch (mode) {
    case MatrixMode::kSkewed: return plan::SkewedMatrix(n, size, seed, type_bytes);
    case MatrixMode::kMean: return plan::ScaleMatrix(bytes, n, size, type_bytes);
    case MatrixMode::kFactor: return plan::MultiplyMatrix(bytes, factor, type_bytes);
    case MatrixMode::kFractions: return plan::FractionsTimes(fractions, size, type_bytes);
  }
  return {};
}

Result<BenchMatrix> LoadBenchMatrix(const std::string& path, const std::string& format_name,
                                    const std::string& scale, bool scale_given) {
  EPSIM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  plan::MatrixFormat format = plan::DetectMatrixFormat(text);
  if (format_name != "auto") {
    EPSIM_ASSIGN_OR_RETURN(format, plan::ParseMatrixFormat(format_name));
  }
  auto file = plan::ParseMatrixFile(text, format);
  if (!file.ok()) return file.status().WithContext(path);
  const char* name = plan::MatrixFormatName(format);
  BenchMatrix m;
  m.num_ranks = file->num_ranks;
  if (format == plan::MatrixFormat::kFractions) {
    if (scale_given)
      return Status::Usage(path + " holds fractions: each size of the sweep scales them "
                           "(entry x size); --matrix-scale is for byte and ucc files");
    m.mode = MatrixMode::kFractions;
    m.fractions = std::move(file->fractions);
    m.label = path + " (fractions): entry x size bytes";
    return m;
  }
  if (file->bytes.size() != 1)
    return Status::BadInput(fmt::format("{}: {} [collective] patterns; epsim bench replays one "
                                        "(write one layer: epsim trace matrix --layer L)",
                                        path, file->bytes.size()));
  m.bytes = std::move(file->bytes.front());
  if (scale == "mean") {
    m.mode = MatrixMode::kMean;
    m.label = fmt::format("{} ({}), scaled so the mean bytes per rank = size", path, name);
    return m;
  }
  EPSIM_ASSIGN_OR_RETURN(m.factor, ParseScale(scale));
  m.mode = MatrixMode::kFactor;
  m.label = scale == "none"
                ? fmt::format("{} ({}), its own bytes (--matrix-scale none)", path, name)
                : fmt::format("{} ({}), its bytes x {}", path, name, m.factor);
  return m;
}

}  // namespace epsim::cli
