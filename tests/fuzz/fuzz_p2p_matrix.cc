// The p2pBandwidthLatencyTest log reader on any text. Properties: parsing
// is a function of the text; every matrix returned is whole (n rows of n
// finite, non-negative values, n the same in one run and equal to its
// Device lines when it has them); a connectivity matrix holds 0 and 1 with
// 1 on its diagonal.
#include <cmath>
#include <string>

#include "sim/measure/p2p_matrix.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using epsim::measure::P2pMatrixKind;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto runs = epsim::measure::ParseP2pBandwidthLatencyLog(text, "fuzz.txt");
  const auto again = epsim::measure::ParseP2pBandwidthLatencyLog(text, "fuzz.txt");
  if (runs.ok() != again.ok()) epsim::fuzz::PropertyFailed("parse is not deterministic", "");
  if (!runs.ok()) {
    if (runs.status().ToString() != again.status().ToString())
      epsim::fuzz::PropertyFailed("two messages for one text", runs.status().ToString());
    return 0;
  }
  if (runs->empty()) epsim::fuzz::PropertyFailed("a log without a matrix parsed", "");
  for (const auto& run : runs.value()) {
    const int n = run.num_devices();
    if (n <= 0) epsim::fuzz::PropertyFailed("a run without devices", "");
    if (!run.devices.empty() && static_cast<int>(run.devices.size()) != n)
      epsim::fuzz::PropertyFailed("Device lines disagree with the matrices", "");
    for (const auto& m : run.matrices) {
      if (m.num_devices != n || static_cast<int>(m.values.size()) != n)
        epsim::fuzz::PropertyFailed("matrices of one run differ in size", m.title);
      for (int i = 0; i < n; ++i) {
        if (static_cast<int>(m.values[i].size()) != n)
          epsim::fuzz::PropertyFailed("a row of other length", m.title);
        for (int j = 0; j < n; ++j) {
          const double v = m.At(i, j);
          if (!std::isfinite(v) || v < 0)
            epsim::fuzz::PropertyFailed("a value not finite and >= 0", m.title);
          if (m.kind == P2pMatrixKind::kConnectivity &&
              ((v != 0 && v != 1) || (i == j && v != 1)))
            epsim::fuzz::PropertyFailed("connectivity other than 0/1 or 0 on the diagonal",
                                        m.title);
        }
      }
    }
  }
  return 0;
}
