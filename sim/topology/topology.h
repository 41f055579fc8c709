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

// Returns BadInput naming the first problem found:
//  - node names empty or repeated; link names empty or repeated;
//  - a link naming an unknown node, joining a node to itself, or a second
//    link between the same two nodes;
//  - bandwidth <= 0 or latency < 0;
//  - GPU spec: peak_flops and mem_bw_gb_per_s <= 0, efficiencies outside
//    (0, 1], launch_us < 0;
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
