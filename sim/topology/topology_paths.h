// Routes between ranks of a hardware topology, and the checks behind
// `epsim topo check`. Pure protobuf: no SimGrid here.
//
// Topology routing (the engine's routes are built from it, per transport, in
// transport.cc): every link is a hop of cost 1 in both directions,
// Floyd-Warshall runs over the nodes in file order and replaces a route only
// by a strictly shorter one, and a route is read back through the
// predecessor table (as SimGrid 3.32's Floyd zone does). So a route has the
// fewest links, and ties go to the intermediate node that comes first in the
// file. The route from b to a is computed separately and need not be the
// reverse of a to b.
//
// Routes point into the Topology they were built from: it must outlive them.
// Units as in topology.proto: GB/s per direction, microseconds.
#ifndef EPSIM_SIM_TOPOLOGY_TOPOLOGY_PATHS_H_
#define EPSIM_SIM_TOPOLOGY_TOPOLOGY_PATHS_H_

#include <string>
#include <unordered_map>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/topology.pb.h"

namespace epsim::topology {

// All-pairs routes of one topology, as the engine routes them. Building is
// O(nodes^3) (about a second for a 256-GPU cluster); queries are O(hops).
class RouteTable {
 public:
  // `topo` must have passed ValidateTopology.
  explicit RouteTable(const proto::Topology& topo);

  // Links from node `from` to node `to` in route order; empty when from == to
  // or when `to` is unreachable.
  std::vector<const proto::Link*> Route(int from, int to) const;
  bool Reachable(int from, int to) const { return from == to || Hops(from, to) > 0; }
  int Hops(int from, int to) const { return cost_[from * n_ + to]; }  // 0: none
  // Index of a node by name, -1 when absent.
  int NodeIndex(const std::string& name) const;

 private:
  static constexpr int kNone = 0;
  const proto::Topology& topo_;
  int n_;
  std::unordered_map<std::string, int> index_;
  std::vector<int> cost_;          // [from * n_ + to], link count, 0 = no route
  std::vector<int> pred_;          // node before `to` on the route from `from`
  std::vector<int> link_between_;  // [a * n_ + b], index into topo.links(), -1
};

// The topology route from rank node `from_rank` to rank node `to_rank`
// (node names). BadInput when either is not a rank node (topology.h:
// IsRankNode) or `to_rank` is unreachable. Validates `topo` first.
Result<std::vector<const proto::Link*>> RankPath(const proto::Topology& topo,
                                                 const std::string& from_rank,
                                                 const std::string& to_rank);

// One problem `CheckTopology` found. `where` names the link, node or pair.
struct Finding {
  enum class Severity { kError, kWarning };
  Severity severity;
  std::string where;
  std::string message;
};

struct CheckSummary {
  int num_ranks = 0;
  proto::ComponentKind rank_kind = proto::GPU;  // GPU or PROCESS (topology.h: RankKind)
  int num_links = 0;
  int asymmetric_pairs = 0;  // unordered rank pairs routed over other links back
  std::vector<Finding> findings;  // errors and warnings, in the order found
  bool ok() const {               // no error (warnings allowed)
    for (const Finding& f : findings)
      if (f.severity == Finding::Severity::kError) return false;
    return true;
  }
};

// Everything `epsim topo check` looks for, on a topology that may be broken:
//  errors: what ValidateTopology rejects; a link with bandwidth <= 0 or above
//    2000 GB/s, latency < 0 or above 1e5 us; GPU peak_flops <= 0 or above
//    1e16 FLOP/s, mem_bw_gb_per_s <= 0, efficiencies outside (0, 1];
//    a rank pair with no route; a pair with no transport under the file's
//    nccl.p2p (SHM on a host without a CPU node);
//  warnings: a PCIe link above PCIe Gen5 x16 (64 GB/s); an NVLink above
//    900 GB/s; rank pairs whose route b -> a is not the reverse of a -> b
//    (one finding counting them, naming the first).
CheckSummary CheckTopology(const proto::Topology& topo);

}  // namespace epsim::topology

#endif  // EPSIM_SIM_TOPOLOGY_TOPOLOGY_PATHS_H_
