// What `--placement` accepts in the commands that replay a trace: an
// algorithm name (algorithms.h), computed from a profiling trace, or the path
// of a placement file written by `epsim place`.
#ifndef EPSIM_SIM_PLACEMENT_RESOLVE_H_
#define EPSIM_SIM_PLACEMENT_RESOLVE_H_

#include <cstdint>
#include <string>

#include "sim/base/status.h"
#include "sim/placement/placement.h"
#include "sim/proto/topology.pb.h"
#include "sim/trace/trace.h"

namespace epsim::placement {

// `name_or_file` is
//   - "contiguous" or "round-robin": built for the trace's expert count;
//   - "occult", "partition", "replicate" or "replicate:N" (N extra expert
//     copies per rank, default 1): computed with seed 1 from the trace at
//     `profile_trace_path`, refined on its tokens, split along `topology`
//     when given (not owned; may be null);
//   - otherwise a placement file, which must be for `num_ranks` ranks and,
//     when `profile_trace_path` is not empty, the trace's expert count.
// Errors name the file or the algorithm. `partition`, when given, is the
// result of "partition" with the same arguments: replicate takes its primary
// copies from it instead of computing them again.
Result<LayerPlacements> ResolvePlacement(const std::string& name_or_file, uint32_t num_ranks,
                                         const std::string& profile_trace_path,
                                         const proto::Topology* topology,
                                         const LayerPlacements* partition = nullptr);

// The same with the profile already in memory; `profile_name` names it in
// errors.
Result<LayerPlacements> ResolvePlacement(const std::string& name_or_file, uint32_t num_ranks,
                                         const trace::Trace& profile,
                                         const std::string& profile_name,
                                         const proto::Topology* topology,
                                         const LayerPlacements* partition = nullptr);

// True when `name_or_file` names replicate (or replicate:N), whose primary
// copies are the partition placement: the `partition` argument above.
bool BuildsOnPartition(const std::string& name_or_file);

// True when `name_or_file` names an algorithm computed from a profile's
// tokens (occult, partition, replicate), not one built from the expert
// count alone (contiguous, round-robin) nor a file.
bool ComputedFromTokens(const std::string& name_or_file);

}  // namespace epsim::placement

#endif  // EPSIM_SIM_PLACEMENT_RESOLVE_H_
