// Printing topologies for people: `epsim topo show` and `epsim topo check`.
// Bandwidths in GB/s (1e9 B/s, per direction), latencies in microseconds.
#ifndef EPSIM_SIM_REPORT_TOPOLOGY_OUTPUT_H_
#define EPSIM_SIM_REPORT_TOPOLOGY_OUTPUT_H_

#include <ostream>
#include <string>
#include <vector>

#include "sim/topology/topology_paths.h"
#include "sim/topology/transport.h"
#include "sim/proto/topology.pb.h"

namespace epsim::report {

// A `#` header (the topology as named, the file it was read from, the
// ranks' compute spec), the device counts by kind, and the ranks (rank,
// name, host), labelled GPUs or processes as the topology's rank nodes are.
void WriteTopologyDevices(std::ostream& out, const std::string& path, const std::string& file,
                          const proto::Topology& topo);

// The route the engine uses from rank `from` to rank `to` under `table`'s
// P2P policy: the transport and why, one line per hop (link name, kind,
// direction, bandwidth, latency; host memory for SHM), the totals, and the
// closed-form time of a lone message at a few sizes.
void WriteTopologyPath(std::ostream& out, const proto::Topology& topo,
                       const topology::TransportTable& table, int from, int to);

// The NCCL model in force (file values and defaults): P2P policy, peers in
// flight, host memory, protocols; and how many rank pairs use each transport.
void WriteNcclModel(std::ostream& out, const topology::TransportTable& table);

// "PATH: ok: N GPUs (or processes), M links, ..." or one line per finding,
// "PATH: error|warning: WHERE: MESSAGE".
void WriteTopologyCheck(std::ostream& out, const std::string& path,
                        const topology::CheckSummary& summary);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_TOPOLOGY_OUTPUT_H_
