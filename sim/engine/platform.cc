#include "sim/engine/platform.h"

#include <fmt/format.h>

#include <string>
#include <unordered_map>

namespace epsim::engine {

namespace sg4 = simgrid::s4u;
using simgrid::kernel::routing::NetPoint;

namespace {

// Topology latency (seconds) of each SimGrid link, by SimGrid link name.
using LatencyByLink = std::unordered_map<std::string, double>;

std::unordered_map<std::string, NetPoint*> CreateNodes(const proto::Topology& topo,
                                                       sg4::NetZone* zone,
                                                       std::vector<sg4::Host*>* gpus) {
  std::unordered_map<std::string, NetPoint*> points;
  for (const proto::Node& node : topo.nodes()) {
    if (node.kind() == proto::GPU) {
      sg4::Host* host = zone->create_host(node.name(), kHostFlopsPerS);
      gpus->push_back(host);
      points[node.name()] = host->get_netpoint();
    } else {
      points[node.name()] = zone->create_router(node.name());
    }
  }
  return points;
}

// Creates the SimGrid link for `link` and records its latency under every
// name SimGrid gives it (split-duplex links are "<name>_UP" and "<name>_DOWN").
// Returns the link as a one-hop route from link.a() to link.b().
sg4::LinkInRoute CreateLink(const proto::Link& link, sg4::NetZone* zone, LatencyByLink* latency) {
  double bw_bytes_per_s = link.bw_gb_per_s() * 1e9;
  double latency_s = link.latency_us() * 1e-6;
  if (link.duplex() == proto::HALF) {
    (*latency)[link.name()] = latency_s;
    return sg4::LinkInRoute(zone->create_link(link.name(), bw_bytes_per_s)
                                ->set_sharing_policy(sg4::Link::SharingPolicy::SHARED)
                                ->set_latency(0));
  }
  (*latency)[link.name() + "_UP"] = latency_s;
  (*latency)[link.name() + "_DOWN"] = latency_s;
  return sg4::LinkInRoute(
      zone->create_split_duplex_link(link.name(), bw_bytes_per_s)->set_latency(0),
      sg4::LinkInRoute::Direction::UP);
}

// Route latencies between GPUs over the routes SimGrid chose, so that the
// latency applied and the links loaded always belong to the same path.
Result<std::vector<std::vector<double>>> RouteLatencies(const std::vector<sg4::Host*>& gpus,
                                                        const LatencyByLink& latency) {
  size_t n = gpus.size();
  std::vector<std::vector<double>> route_s(n);
  for (size_t src = 0; src < n; ++src) {
    route_s[src].assign(n, 0.0);
    for (size_t dst = 0; dst < n; ++dst) {
      if (src == dst) continue;
      std::vector<sg4::Link*> links;
      double simgrid_latency_s = 0;
      gpus[src]->route_to(gpus[dst], links, &simgrid_latency_s);
      if (links.empty())
        return Status::BadInput(fmt::format("no route from '{}' to '{}'",
                                            gpus[src]->get_name(), gpus[dst]->get_name()));
      for (const sg4::Link* link : links) route_s[src][dst] += latency.at(link->get_name());
    }
  }
  return route_s;
}

}  // namespace

Result<Platform> BuildPlatform(const proto::Topology& topo) {
  Platform platform;
  sg4::NetZone* zone = sg4::create_floyd_zone(topo.name().empty() ? "epsim" : topo.name());
  auto points = CreateNodes(topo, zone, &platform.gpus);
  LatencyByLink latency;
  for (const proto::Link& link : topo.links()) {
    sg4::LinkInRoute hop = CreateLink(link, zone, &latency);
    // Symmetrical: b -> a uses the DOWN half of a split-duplex link.
    zone->add_route(points.at(link.a()), points.at(link.b()), nullptr, nullptr, {hop}, true);
  }
  zone->seal();
  EPSIM_ASSIGN_OR_RETURN(platform.route_latency_s, RouteLatencies(platform.gpus, latency));
  return platform;
}

}  // namespace epsim::engine
