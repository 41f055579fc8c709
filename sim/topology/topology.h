// Loading and checking a hardware topology (sim/proto/topology.proto).
//
// A Topology is a graph of hardware nodes (GPUs, switches, root complexes,
// sockets, NICs) joined by links with a bandwidth in GB/s (1e9 bytes/s, per
// direction for full-duplex links) and a latency in microseconds. The GPU
// nodes are the ranks, in the order they appear in the file. This header is
// free of SimGrid: the planner and the command line use it too.
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
//  - no GPU node, or a GPU not connected to every other GPU;
//  - what ValidateNccl (transport.h) rejects in the NCCL model.
Status ValidateTopology(const proto::Topology& topo);

// Names of the GPU nodes in rank order (rank r = r-th GPU node in the file).
std::vector<std::string> GpuNames(const proto::Topology& topo);

}  // namespace epsim::topology

#endif  // EPSIM_SIM_TOPOLOGY_TOPOLOGY_H_
