// Printing topologies for people: `epsim topo show` and `epsim topo check`.
// Bandwidths in GB/s (1e9 B/s, per direction), latencies in microseconds.
#ifndef EPSIM_SIM_REPORT_TOPOLOGY_OUTPUT_H_
#define EPSIM_SIM_REPORT_TOPOLOGY_OUTPUT_H_

#include <ostream>
#include <string>
#include <vector>

#include "sim/engine/topology_paths.h"
#include "sim/proto/topology.pb.h"

namespace epsim::report {

// A `#` header, the device counts by kind, and the GPUs (rank, name, host).
void WriteTopologyDevices(std::ostream& out, const std::string& path,
                          const proto::Topology& topo);

// The route from `from` to `to` (node names): one line per hop with link
// name, kind, direction, bandwidth and latency, then the totals (summed
// latency, bottleneck bandwidth).
void WriteTopologyPath(std::ostream& out, const std::string& from, const std::string& to,
                       const std::vector<const proto::Link*>& path);

// "PATH: ok: N GPUs, M links, ..." or one line per finding,
// "PATH: error|warning: WHERE: MESSAGE".
void WriteTopologyCheck(std::ostream& out, const std::string& path,
                        const engine::CheckSummary& summary);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_TOPOLOGY_OUTPUT_H_
