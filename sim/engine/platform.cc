#include "sim/engine/platform.h"

#include <fmt/format.h>

#include <string>
#include <unordered_map>

#include "sim/topology/topology.h"

namespace epsim::engine {

namespace sg4 = simgrid::s4u;

Result<Platform> BuildPlatform(const proto::Topology& topo, proto::P2pPolicy policy) {
  EPSIM_ASSIGN_OR_RETURN(topology::TransportTable transports, topology::TransportTable::Build(topo, policy));
  Platform platform{{}, std::move(transports)};
  const topology::TransportTable& table = platform.transports;
  sg4::NetZone* zone = sg4::create_full_zone(topo.name().empty() ? "epsim" : topo.name());
  for (const proto::Component& node : topo.nodes()) {
    if (topology::IsRankNode(node))
      // Pstate 1: the speed left to compute while an all-to-all holds its SMs.
      platform.ranks.push_back(
          topo.gpu().comm_sm_share() > 0
              ? zone->create_host(node.name(), std::vector<double>{
                                                   kHostFlopsPerS,
                                                   kHostFlopsPerS * (1 - topo.gpu().comm_sm_share())})
              : zone->create_host(node.name(), kHostFlopsPerS));
  }
  // One SimGrid link per topology link; the kind of link decides how a hop
  // names it in a route.
  std::vector<sg4::Link*> shared(topo.links_size(), nullptr);
  std::vector<sg4::SplitDuplexLink*> duplex(topo.links_size(), nullptr);
  for (int l = 0; l < topo.links_size(); ++l) {
    const proto::Link& link = topo.links(l);
    const double bw = link.bw_gb_per_s() * 1e9;
    if (link.duplex() == proto::HALF) {
      shared[l] = zone->create_link(link.name(), bw)
                      ->set_sharing_policy(sg4::Link::SharingPolicy::SHARED)
                      ->set_latency(0);
    } else {
      duplex[l] = zone->create_split_duplex_link(link.name(), bw);
      duplex[l]->set_latency(0);
    }
  }
  std::unordered_map<int, sg4::Link*> memory;  // CPU node -> its host-memory link
  std::unordered_map<int, sg4::Link*> p2p;     // CPU node -> its P2P forwarding cap
  const int n = table.num_ranks();
  for (int s = 0; s < n; ++s) {
    for (int d = 0; d < n; ++d) {
      if (s == d) continue;
      std::vector<sg4::LinkInRoute> route;
      for (const topology::Hop& hop : table.Pair(s, d).hops) {
        if (hop.p2p_cpu >= 0) {
          sg4::Link*& fwd = p2p[hop.p2p_cpu];
          if (fwd == nullptr)
            fwd = zone->create_link(topo.nodes(hop.p2p_cpu).name() + "/p2p",
                                    topo.nodes(hop.p2p_cpu).p2p_gb_per_s() * 1e9)
                      ->set_sharing_policy(sg4::Link::SharingPolicy::SHARED)
                      ->set_latency(0);
          route.emplace_back(fwd);
        } else if (hop.link < 0) {
          sg4::Link*& mem = memory[hop.memory_cpu];
          if (mem == nullptr)
            mem = zone->create_link(topo.nodes(hop.memory_cpu).name() + "/memory",
                                    table.MemoryGbPerS(hop.memory_cpu) / 2 * 1e9)
                      ->set_sharing_policy(sg4::Link::SharingPolicy::SHARED)
                      ->set_latency(0);
          route.emplace_back(mem);
        } else if (shared[hop.link] != nullptr) {
          route.emplace_back(shared[hop.link]);
        } else {
          route.emplace_back(duplex[hop.link], hop.forward ? sg4::LinkInRoute::Direction::UP
                                                           : sg4::LinkInRoute::Direction::DOWN);
        }
      }
      zone->add_route(platform.ranks[s]->get_netpoint(), platform.ranks[d]->get_netpoint(), nullptr,
                      nullptr, route, false);
    }
  }
  zone->seal();
  return platform;
}

}  // namespace epsim::engine
