// Printing placement quality (`epsim place`): per profile layer and the mean.
#ifndef EPSIM_SIM_REPORT_PLACEMENT_OUTPUT_H_
#define EPSIM_SIM_REPORT_PLACEMENT_OUTPUT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "sim/placement/algorithms.h"

namespace epsim::report {

// A '#' header naming the trace, the topology file (when not empty), EP
// size, algorithm, seed and the experts per device
// (placement::DescribeExpertsPerDevice), then one row per layer
// (collab_intra, ct_mean, dev_imb) and the mean, which `quality` holds last
// (placement/algorithms.h EvaluatePlacement).
void WritePlacementQuality(std::ostream& out, const std::string& trace_path,
                           const std::string& topology_file, uint32_t num_ranks,
                           const std::string& algorithm, uint64_t seed,
                           const std::string& experts_per_device,
                           const std::vector<placement::PlacementQuality>& quality);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_PLACEMENT_OUTPUT_H_
