// Loading and checking a hardware topology (sim/proto/topology.proto).
//
// A Topology is a graph of hardware nodes (ranks, switches, root complexes,
// sockets, NICs) joined by links with a bandwidth in GB/s (1e9 bytes/s, per
// direction for full-duplex links) and a latency in microseconds. The rank
// nodes (all GPU, or all PROCESS: CPU processes of the host backend) are the
// ranks, in the order they appear in the file. This header is free of
// SimGrid: the planner and the command line use it too.
#ifndef EPSIM_SIM_TOPOLOGY_TOPOLOGY_H_
#define EPSIM_SIM_TOPOLOGY_TOPOLOGY_H_

#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/topology.pb.h"

namespace epsim::topology {

// Reads a text-format Topology from `path` and validates it. Every error
// message starts with the file name.
Result<proto::Topology> LoadTopology(const std::string& path);

// Plausible ranges of a topology's figures, in the units of their fields:
// wide enough for CPU processes as ranks (a core's MFLOP/s, a slow link's
// kB/s) and for the largest GPUs and links. Any figure outside its range,
// or not finite, is an error of ValidateTopology naming it and the range.
struct FigureRange {
  double min, max;
  bool min_exclusive;  // (min, max] rather than [min, max]
  const char* unit;
};
inline constexpr FigureRange kPeakFlopsRange{1e6, 1e16, false, "FLOP/s"};
inline constexpr FigureRange kMemBwRange{1e-3, 1e5, false, "GB/s"};
inline constexpr FigureRange kLinkBwRange{1e-6, 2000, false, "GB/s"};
inline constexpr FigureRange kLatencyRange{0, 1e5, false, "us"};    // links, protocols
inline constexpr FigureRange kLaunchRange{0, 1e5, false, "us"};
inline constexpr FigureRange kEfficiencyRange{0, 1, true, ""};
inline constexpr FigureRange kMemoryRange{0, 1e6, false, "GB"};
// "" when `x` is inside `range`, else "NAME X outside [MIN, MAX] UNIT".
std::string RangeProblem(const std::string& name, double x, const FigureRange& range);

// Returns BadInput naming the first problem found:
//  - node names empty or repeated; link names empty or repeated;
//  - a link naming an unknown node, joining a node to itself, or a second
//    link between the same two nodes;
//  - a figure outside its range above, or not finite (bandwidth, latency,
//    the GPU spec's peak_flops, mem_bw_gb_per_s, efficiencies, launch_us,
//    memory_gb and per-row costs, protocol latencies);
//  - no rank node, rank nodes of both kinds (GPU and PROCESS; the first
//    node of the other kind than the first rank is named), or a rank not
//    connected to every other rank;
//  - a PROCESS node without exactly one link, a MEMORY link to a CPU node
//    of its host;
//  - what ValidateNccl (transport.h) rejects in the NCCL model.
Status ValidateTopology(const proto::Topology& topo);

// True for the nodes that are ranks: GPU and PROCESS.
bool IsRankNode(const proto::Component& node);

// Names of the rank nodes in rank order (rank r = r-th rank node in the file).
std::vector<std::string> RankNames(const proto::Topology& topo);

// The kind of the topology's ranks: the first rank node's, GPU when there is
// none (a valid topology has one kind only).
proto::ComponentKind RankKind(const proto::Topology& topo);

// How messages name a rank of `kind`: "GPU" / "GPUs", "process" / "processes".
const char* RankNoun(proto::ComponentKind kind, bool plural = false);

// Deprecated: RankNames. Kept only until its last callers (sim/cli/inputs.cc,
// sim/plan/job.cc) move to RankNames.

}  // namespace epsim::topology

#endif  // EPSIM_SIM_TOPOLOGY_TOPOLOGY_H_
