// The ranks of a topology as nested groups, closest first: an NVLink domain
// (a bridged pair, or GPUs on one NVSwitch), a PCIe switch, a root complex
// (host bridge), a CPU socket, a host (machine), the whole cluster. This is
// what topology-aware placement partitions along: collaborating experts go
// to one NVLink pair or PCIe switch before they are spread over sockets and
// hosts.
//
// Derivation from the topology graph (sim/proto/topology.proto), for rank r
// = the r-th rank node (GPU or PROCESS; topology.h):
//   nvlink        GPUs joined by an NVLINK link, directly or through an
//                 NVSWITCH node
//   pcie-switch   the GPU's nearest PCIE_SWITCH over PCIE links
//   root-complex  its nearest ROOT_COMPLEX over PCIE links (through switches)
//   socket        its nearest CPU over PCIE / MEMORY links (through switches
//                 and root complexes; CPU interconnect links are not crossed):
//                 for a PROCESS, the CPU its MEMORY link joins
//   host          Node.host
// Level L groups ranks related at L or any closer level (so groups nest).
// A group's children are its groups at the closest level that splits it;
// levels that split nothing are skipped, and a group no level splits has one
// child per rank.
#ifndef EPSIM_SIM_PLACEMENT_TOPOLOGY_GROUPS_H_
#define EPSIM_SIM_PLACEMENT_TOPOLOGY_GROUPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/topology.pb.h"

namespace epsim::placement {

struct RankGroup {
  std::string level;             // "cluster", "host", "socket", "root-complex", "pcie-switch",
                                 // "nvlink", or "rank" for a single rank
  std::vector<uint32_t> ranks;   // ascending
  std::vector<RankGroup> children;  // empty for a single rank; ordered by first rank
};

// The groups of the first `num_ranks` ranks of `topology`. Fewer rank nodes
// than num_ranks is bad input naming the topology.
Result<RankGroup> RankHierarchy(const proto::Topology& topology, uint32_t num_ranks);

// The host (machine) of each of the first `num_ranks` ranks, numbered densely
// in order of first appearance; all 0 without a topology.
std::vector<uint32_t> HostOfRank(const proto::Topology* topology, uint32_t num_ranks);

// "cluster{nvlink{0,1},nvlink{2,3}}": the tree in one line, for descriptions.
std::string Describe(const RankGroup& group);

}  // namespace epsim::placement

#endif  // EPSIM_SIM_PLACEMENT_TOPOLOGY_GROUPS_H_
