// The SimGrid platform built from a Topology (internal to sim/engine).
//
// One Floyd zone holds the whole machine: GPU nodes become hosts, every
// other node (switch, root complex, socket, NIC) a router. A FULL-duplex link
// becomes a SimGrid split-duplex link (independent bandwidth per direction),
// a HALF-duplex link one SHARED link. Each link is a one-hop route; Floyd
// finds the multi-hop paths.
//
// SimGrid links get latency 0: CM02 weights each flow's share of a
// bottleneck by its route latency, which PCIe and NVLink do not do. The
// route latency (sum of the topology latencies of the links SimGrid routes
// over) is kept here instead and applied by the replay before each transfer
// (see simulator.cc).
#ifndef EPSIM_SIM_ENGINE_PLATFORM_H_
#define EPSIM_SIM_ENGINE_PLATFORM_H_

#include <simgrid/s4u.hpp>

#include <vector>

#include "sim/base/status.h"
#include "sim/proto/topology.pb.h"

namespace epsim::engine {

// Speed of every GPU host in SimGrid: an Exec of t seconds has
// t * kHostFlopsPerS flops. Compute times come from the roofline, not from
// SimGrid, so this is only a unit of account.
inline constexpr double kHostFlopsPerS = 1e12;

struct Platform {
  std::vector<simgrid::s4u::Host*> gpus;           // rank order; owned by SimGrid
  std::vector<std::vector<double>> route_latency_s;  // [src][dst], 0 on the diagonal
};

// Builds the platform in the current Engine (which must exist, with its
// configuration set) from a validated topology, and seals it. Call once.
// May throw what SimGrid throws; the caller turns that into a Status.
Result<Platform> BuildPlatform(const proto::Topology& topo);

}  // namespace epsim::engine

#endif  // EPSIM_SIM_ENGINE_PLATFORM_H_
