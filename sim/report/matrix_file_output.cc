#include "sim/report/matrix_file_output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace epsim::report {

uint64_t LargestRowBytes(const std::vector<uint64_t>& bytes, uint32_t n) {
  uint64_t most = 0;
  for (uint32_t s = 0; s < n; ++s) {
    uint64_t row = 0;
    for (uint32_t d = 0; d < n; ++d) row += bytes[size_t{s} * n + d];
    most = std::max(most, row);
  }
  return most;
}

std::string FractionsText(const std::vector<uint64_t>& bytes, uint32_t n, uint64_t size_bytes) {
  std::string out;
  for (uint32_t s = 0; s < n; ++s) {
    for (uint32_t d = 0; d < n; ++d) {
      const uint64_t b = bytes[size_t{s} * n + d];
      const double f = size_bytes == 0 ? 0.0 : static_cast<double>(b) / size_bytes;
      out += fmt::format("{}{}", d == 0 ? "" : ",", f);
    }
    out += "\n";
  }
  return out;
}

Result<std::string> UccPatternText(const std::vector<std::vector<uint64_t>>& matrices,
                                   const std::vector<std::string>& labels, uint32_t n,
                                   const std::string& datatype, uint64_t element_bytes) {
  std::string upper = datatype;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](char c) { return static_cast<char>(std::toupper(c)); });
  std::string out =
      "[format]\nversion = 1.0\ndescription = UCC Collective Pattern File (epsim trace matrix)\n";
  for (size_t m = 0; m < matrices.size(); ++m) {
    out += "\n";
    if (m < labels.size() && !labels[m].empty()) out += "# " + labels[m] + "\n";
    out += fmt::format(
        "[collective]\ntype = ALLTOALLV\nteam_size = {}\ndatatype = {}\nflags = COUNT_32BIT\n"
        "counts = {{\n",
        n, upper);
    for (uint32_t s = 0; s < n; ++s) {
      out += "    ";
      for (uint32_t d = 0; d < n; ++d) {
        const uint64_t b = matrices[m][size_t{s} * n + d];
        if (b % element_bytes != 0 || b / element_bytes > UINT32_MAX)
          return Status::BadInput(fmt::format(
              "{}rank {} -> {}: {} B is not a 32-bit count of {} B elements ({})",
              m < labels.size() && !labels[m].empty() ? labels[m] + ": " : "", s, d, b,
              element_bytes, datatype));
        out += fmt::format("{}{}", d == 0 ? "" : ",", b / element_bytes);
      }
      out += "\n";
    }
    out += "    }\n";
  }
  return out;
}

}  // namespace epsim::report
