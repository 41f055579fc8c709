#include "sim/cli/inputs.h"

#include <map>

namespace epsim::cli {

dispatch::ClusterMap ClusterOf(const proto::Topology& topology, uint32_t num_ranks) {
  dispatch::ClusterMap m;
  std::map<uint32_t, uint32_t> dense;
  for (const proto::Node& node : topology.nodes()) {
    if (node.kind() != proto::GPU || m.node_of_rank.size() == num_ranks) continue;
    auto [it, fresh] = dense.emplace(node.host(), static_cast<uint32_t>(dense.size()));
    m.node_of_rank.push_back(it->second);
  }
  m.num_nodes = static_cast<uint32_t>(dense.size());
  return m;
}

}  // namespace epsim::cli
