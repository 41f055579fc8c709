// Reading and writing placement files (sim/proto/placement.proto, text
// format): how a placement computed once from a profiling trace is reused.
#ifndef EPSIM_SIM_PLACEMENT_PLACEMENT_FILE_H_
#define EPSIM_SIM_PLACEMENT_PLACEMENT_FILE_H_

#include <cstdint>
#include <string>

#include "sim/base/status.h"
#include "sim/placement/placement.h"
#include "sim/proto/placement.pb.h"

namespace epsim::placement {

// The most ranks a placement file may have: 256 times the largest expert
// parallelism epsim models, checked before anything is sized by it.
inline constexpr uint32_t kMaxPlacementRanks = 65536;

// Checks the file (every layer lists num_experts experts, each with distinct
// ranks < num_ranks) and builds the per-layer placements, named after the
// algorithm. Errors name the file and the layer / expert.
Result<LayerPlacements> FromProto(const proto::PlacementFile& file, const std::string& where);
Result<LayerPlacements> ReadPlacementFile(const std::string& path);

// The file form of `placements`; the caller fills algorithm, profile_trace,
// topology and description.
proto::PlacementFile ToProto(const LayerPlacements& placements);
// Writes text format atomically.
Status WritePlacementFile(const std::string& path, const proto::PlacementFile& file);

}  // namespace epsim::placement

#endif  // EPSIM_SIM_PLACEMENT_PLACEMENT_FILE_H_
