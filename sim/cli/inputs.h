// Helpers the subcommands share to turn their flags into planning inputs.
#ifndef EPSIM_SIM_CLI_INPUTS_H_
#define EPSIM_SIM_CLI_INPUTS_H_

#include <cstdint>

#include "sim/dispatch/strategy.h"
#include "sim/proto/topology.pb.h"

namespace epsim::cli {

// Rank r is the r-th GPU of the topology; its node is that GPU's `host`.
// Nodes are renumbered densely in order of first appearance.
dispatch::ClusterMap ClusterOf(const proto::Topology& topology, uint32_t num_ranks);

}  // namespace epsim::cli

#endif  // EPSIM_SIM_CLI_INPUTS_H_
