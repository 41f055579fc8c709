// The SimGrid platform built from a Topology (internal to sim/engine).
//
// One Full zone holds the whole machine: rank nodes (GPUs, or the host
// backend's CPU processes) become SimGrid hosts; every
// topology link becomes a SimGrid link (FULL duplex: a split-duplex link,
// independent bandwidth per direction; HALF: one SHARED link), and every CPU
// that some SHM route passes gets a SHARED host-memory link of half its
// memory bandwidth (an SHM byte is written and read: two loads on one
// resource are one load on half of it, for max-min sharing among SHM flows).
// Each ordered rank pair gets the explicit route of its transport
// (transport.h), so P2P, SHM and NET pairs load exactly the links the
// transport model names.
//
// SimGrid links get latency 0: the replay waits each message's latency
// (transport.h: protocol + route) before the transfer starts, so sharing is
// pure max-min whatever a route's latency (see simulator.cc).
#ifndef EPSIM_SIM_ENGINE_PLATFORM_H_
#define EPSIM_SIM_ENGINE_PLATFORM_H_

#include <simgrid/s4u.hpp>

#include <vector>

#include "sim/base/status.h"
#include "sim/topology/transport.h"
#include "sim/proto/topology.pb.h"

namespace epsim::engine {

// Speed of every rank's host in SimGrid: an Exec of t seconds has
// t * kHostFlopsPerS flops. Compute times come from the roofline, not from
// SimGrid, so this is only a unit of account.
inline constexpr double kHostFlopsPerS = 1e12;

struct Platform {
  std::vector<simgrid::s4u::Host*> ranks;  // one per rank node, rank order; owned by SimGrid
  topology::TransportTable transports;     // routes, transports, message costs
};

// Builds the platform in the current Engine (which must exist, with its
// configuration set) from a validated topology, and seals it. Call once.
// May throw what SimGrid throws; the caller turns that into a Status.
Result<Platform> BuildPlatform(const proto::Topology& topo, proto::P2pPolicy policy);

}  // namespace epsim::engine

#endif  // EPSIM_SIM_ENGINE_PLATFORM_H_
