#include "sim/report/placement_output.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "sim/report/version.h"

namespace epsim::report {

void WritePlacementQuality(std::ostream& out, const std::string& trace_path,
                           const std::string& topology_file, uint32_t num_ranks,
                           const std::string& algorithm, uint64_t seed,
                           const std::string& experts_per_device,
                           const std::vector<placement::PlacementQuality>& q) {
  fmt::print(out, "# epsim {} place\n# trace: {}\n", kEpsimVersion, trace_path);
  if (!topology_file.empty()) fmt::print(out, "# topology file: {}\n", topology_file);
  fmt::print(out, "# ep: {}  algorithm: {}  seed: {}\n", num_ranks, algorithm, seed);
  fmt::print(out, "# experts per device: {}\n", experts_per_device);
  fmt::print(out, "# {:>5} {:>12} {:>8} {:>8}\n", "layer", "collab_intra", "ct_mean", "dev_imb");
  for (size_t i = 0; i < q.size(); ++i) {
    const std::string layer = i + 1 < q.size() ? std::to_string(q[i].layer) : "mean";
    fmt::print(out, "  {:>5} {:>12.4f} {:>8.4f} {:>8.4f}\n", layer, q[i].collab_intra,
               q[i].ct_mean, q[i].device_imbalance);
  }
}

}  // namespace epsim::report
