#include "sim/engine/transport.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "sim/engine/topology.h"
#include "sim/engine/topology_paths.h"

namespace epsim::engine {

namespace {

// Defaults, from ../shared/reference/hardware.md (NCCL's latency model):
// base latency LL 6.6 us, Simple 8.4 us; per hop NVLink 0.6/3.4 us, PCIe
// 1.0/5.7 us, network 2.7/14.0 us (LL/Simple). The topology files put the LL
// per-hop figure on their links, so Simple adds the difference. LL carries
// 8 bytes of data per 16-byte line (half the bandwidth); p2p messages up to
// 16 KiB use LL (NCCL_P2P_LL_THRESHOLD's default), larger ones Simple.
constexpr uint64_t kLlMaxBytes = 16384;
constexpr uint32_t kDefaultPeersInFlight = 8;
// Assumption: a Skylake-class socket (the CPU interconnect figure the A6000
// files use), 6 channels of DDR4-2666: 128 GB/s datasheet.
constexpr double kDefaultHostMemoryGbPerS = 128;

proto::NcclProtocol Protocol(const char* name, uint64_t max_bytes, double base_us,
                             double efficiency, double nvlink_us, double pcie_us,
                             double network_us) {
  proto::NcclProtocol p;
  p.set_name(name);
  p.set_max_bytes(max_bytes);
  p.set_base_latency_us(base_us);
  p.set_payload_efficiency(efficiency);
  p.set_extra_hop_nvlink_us(nvlink_us);
  p.set_extra_hop_pcie_us(pcie_us);
  p.set_extra_hop_network_us(network_us);
  return p;
}

const char* KindName(proto::NodeKind kind) { return proto::NodeKind_Name(kind).c_str(); }

using LinkIndex = std::unordered_map<const proto::Link*, int>;

// The links of a route as hops, walking from node `from`.
void AppendHops(const proto::Topology& topo, const RouteTable& table, const LinkIndex& index,
                int from, const std::vector<const proto::Link*>& links, std::vector<Hop>* hops) {
  int at = from;
  for (const proto::Link* link : links) {
    Hop hop;
    hop.link = index.at(link);
    hop.forward = link->a() == topo.nodes(at).name();
    at = table.NodeIndex(hop.forward ? link->b() : link->a());
    hops->push_back(hop);
  }
}

// The node indices a route passes between its ends.
std::vector<int> Intermediates(const proto::Topology& topo, const RouteTable& table,
                               const std::vector<Hop>& hops) {
  std::vector<int> nodes;
  for (size_t i = 0; i + 1 < hops.size(); ++i) {
    const proto::Link& link = topo.links(hops[i].link);
    nodes.push_back(table.NodeIndex(hops[i].forward ? link.b() : link.a()));
  }
  return nodes;
}

}  // namespace

const char* TransportName(Transport t) {
  switch (t) {
    case Transport::kP2p: return "P2P";
    case Transport::kShm: return "SHM";
    case Transport::kNet: return "NET";
  }
  return "?";
}

Result<proto::P2pPolicy> ParseP2pPolicy(const std::string& text) {
  if (text == "auto") return proto::P2P_AUTO;
  if (text == "on") return proto::P2P_ON;
  if (text == "off") return proto::P2P_OFF;
  return Status::BadInput(fmt::format("--p2p '{}': want on, off or auto", text));
}

const char* P2pPolicyName(proto::P2pPolicy policy) {
  switch (policy) {
    case proto::P2P_ON: return "on";
    case proto::P2P_OFF: return "off";
    default: return "auto";
  }
}

proto::NcclModel EffectiveNccl(const proto::Topology& topo) {
  proto::NcclModel nccl = topo.nccl();
  if (nccl.protocols().empty()) {
    *nccl.add_protocols() = Protocol("LL", kLlMaxBytes, 6.6, 0.5, 0, 0, 0);
    *nccl.add_protocols() = Protocol("Simple", 0, 8.4, 1.0, 3.4 - 0.6, 5.7 - 1.0, 14.0 - 2.7);
  }
  if (!nccl.has_max_peers_in_flight()) nccl.set_max_peers_in_flight(kDefaultPeersInFlight);
  if (nccl.host_memory_gb_per_s() == 0) nccl.set_host_memory_gb_per_s(kDefaultHostMemoryGbPerS);
  return nccl;
}

Status ValidateNccl(const proto::Topology& topo) {
  const proto::NcclModel& nccl = topo.nccl();
  for (int i = 0; i < nccl.protocols_size(); ++i) {
    const proto::NcclProtocol& p = nccl.protocols(i);
    const std::string where = fmt::format("nccl.protocols[{}]", i);
    if (p.name().empty()) return Status::BadInput(where + ": no name");
    if (!(p.payload_efficiency() > 0 && p.payload_efficiency() <= 1))
      return Status::BadInput(fmt::format("{} ({}): payload_efficiency {} must be in (0, 1]",
                                          where, p.name(), p.payload_efficiency()));
    for (auto [field, x] : {std::pair{"base_latency_us", p.base_latency_us()},
                            std::pair{"extra_hop_nvlink_us", p.extra_hop_nvlink_us()},
                            std::pair{"extra_hop_pcie_us", p.extra_hop_pcie_us()},
                            std::pair{"extra_hop_network_us", p.extra_hop_network_us()}}) {
      if (!(x >= 0))
        return Status::BadInput(fmt::format("{} ({}): {} {} must be >= 0", where, p.name(),
                                            field, x));
    }
    const bool last = i + 1 == nccl.protocols_size();
    if (last && p.max_bytes() != 0)
      return Status::BadInput(fmt::format("{} ({}): the last protocol must have max_bytes 0 "
                                          "(any size), not {}", where, p.name(), p.max_bytes()));
    if (!last && (p.max_bytes() == 0 || (i > 0 && p.max_bytes() <= nccl.protocols(i - 1).max_bytes())))
      return Status::BadInput(fmt::format("{} ({}): max_bytes {} must be > 0 and larger than the "
                                          "previous protocol's", where, p.name(), p.max_bytes()));
  }
  if (!(nccl.host_memory_gb_per_s() >= 0))
    return Status::BadInput(fmt::format("nccl.host_memory_gb_per_s {} must be >= 0",
                                        nccl.host_memory_gb_per_s()));
  for (const proto::Node& node : topo.nodes()) {
    if (node.kind() != proto::CPU &&
        (node.cpu_vendor() != proto::CPU_VENDOR_UNSPECIFIED || node.memory_gb_per_s() != 0))
      return Status::BadInput(fmt::format("node '{}': cpu_vendor and memory_gb_per_s belong on "
                                          "CPU nodes, not {}", node.name(), KindName(node.kind())));
    if (!(node.memory_gb_per_s() >= 0))
      return Status::BadInput(fmt::format("node '{}': memory_gb_per_s {} must be >= 0",
                                          node.name(), node.memory_gb_per_s()));
  }
  return Status::Ok();
}

Result<TransportTable> TransportTable::Build(const proto::Topology& topo,
                                             proto::P2pPolicy policy) {
  EPSIM_RETURN_IF_ERROR(ValidateNccl(topo));
  TransportTable table;
  table.topo_ = &topo;
  table.nccl_ = EffectiveNccl(topo);
  table.policy_ = policy;
  const RouteTable routes(topo);
  LinkIndex link_index;
  for (int l = 0; l < topo.links_size(); ++l) link_index.emplace(&topo.links(l), l);
  std::vector<int> gpus;
  for (const std::string& name : GpuNames(topo)) gpus.push_back(routes.NodeIndex(name));
  const int n = static_cast<int>(gpus.size());
  table.num_gpus_ = n;

  // Home CPU of each GPU: the nearest CPU node on its host, -1 for none.
  std::vector<int> home(n, -1);
  for (int r = 0; r < n; ++r) {
    const uint32_t host = topo.nodes(gpus[r]).host();
    int best_hops = std::numeric_limits<int>::max();
    for (int c = 0; c < topo.nodes_size(); ++c) {
      const proto::Node& node = topo.nodes(c);
      if (node.kind() != proto::CPU || node.host() != host || !routes.Reachable(gpus[r], c))
        continue;
      if (routes.Hops(gpus[r], c) < best_hops) {
        best_hops = routes.Hops(gpus[r], c);
        home[r] = c;
      }
    }
  }

  // Nearest NIC of each GPU on its host (-1 for none), and the NICs of each host.
  std::vector<int> nic_of(n, -1);
  std::unordered_map<uint32_t, std::vector<int>> host_nics;
  for (int c = 0; c < topo.nodes_size(); ++c) {
    if (topo.nodes(c).kind() == proto::NIC) host_nics[topo.nodes(c).host()].push_back(c);
  }
  for (int r = 0; r < n; ++r) {
    int best_hops = std::numeric_limits<int>::max();
    for (int nic : host_nics[topo.nodes(gpus[r]).host()]) {
      if (routes.Reachable(gpus[r], nic) && routes.Hops(gpus[r], nic) < best_hops) {
        best_hops = routes.Hops(gpus[r], nic);
        nic_of[r] = nic;
      }
    }
  }

  table.pairs_.resize(size_t(n) * n);
  for (int s = 0; s < n; ++s) {
    const proto::Node& src = topo.nodes(gpus[s]);
    for (int d = 0; d < n; ++d) {
      if (s == d) continue;
      const proto::Node& dst = topo.nodes(gpus[d]);
      PairRoute& pair = table.pairs_[size_t(s) * n + d];
      AppendHops(topo, routes, link_index, gpus[s], routes.Route(gpus[s], gpus[d]), &pair.hops);
      bool all_nvlink = true, any_network = false;
      for (const Hop& hop : pair.hops) {
        all_nvlink &= topo.links(hop.link).kind() == proto::NVLINK;
        any_network |= topo.links(hop.link).kind() == proto::NETWORK;
      }
      if (src.host() != dst.host()) {
        pair.transport = Transport::kNet;
        pair.why = fmt::format("hosts {} and {}", src.host(), dst.host());
      } else if (policy == proto::P2P_ON) {
        pair.transport = Transport::kP2p;
        pair.why = "--p2p on";
      } else if (policy == proto::P2P_OFF) {
        pair.transport = Transport::kShm;
        pair.why = "--p2p off";
      } else if (all_nvlink) {
        pair.transport = Transport::kP2p;
        pair.why = "NVLink route";
      } else {
        // NCCL's PCIe rule: which kinds of node does the route pass?
        int through_rc = -1, through_cpu = -1;
        for (int node : Intermediates(topo, routes, pair.hops)) {
          if (topo.nodes(node).kind() == proto::CPU && through_cpu < 0) through_cpu = node;
          if (topo.nodes(node).kind() == proto::ROOT_COMPLEX && through_rc < 0) through_rc = node;
        }
        const bool amd = home[s] >= 0 && topo.nodes(home[s]).cpu_vendor() == proto::AMD;
        if (through_cpu < 0 && through_rc < 0) {
          pair.transport = Transport::kP2p;
          pair.why = "PCIe switches only (PXB)";
        } else if (amd) {
          pair.transport = Transport::kP2p;
          pair.why = fmt::format("AMD host: P2P through {} '{}'",
                                 through_cpu >= 0 ? "CPU" : "root complex",
                                 topo.nodes(through_cpu >= 0 ? through_cpu : through_rc).name());
        } else {
          pair.transport = Transport::kShm;
          pair.why = fmt::format("Intel host: no P2P through {} '{}' ({})",
                                 through_cpu >= 0 ? "CPU" : "root complex",
                                 topo.nodes(through_cpu >= 0 ? through_cpu : through_rc).name(),
                                 through_cpu >= 0 ? "SYS" : "PHB");
        }
      }
      if (pair.transport == Transport::kNet && nic_of[d] >= 0) {
        // Leave through the source host's NIC nearest to the destination's
        // NIC (fewest links, then nearest to the source), enter through the
        // destination's nearest NIC: on a rail-optimised fabric, the rail of
        // the destination, reached over NVLink through the GPU on that rail
        // (NCCL's PXN).
        int out_nic = -1, best_far = 0, best_near = 0;
        for (int nic : host_nics[src.host()]) {
          if (!routes.Reachable(nic, nic_of[d]) || !routes.Reachable(gpus[s], nic)) continue;
          const int far = routes.Hops(nic, nic_of[d]), near = routes.Hops(gpus[s], nic);
          if (out_nic < 0 || far < best_far || (far == best_far && near < best_near)) {
            out_nic = nic;
            best_far = far;
            best_near = near;
          }
        }
        if (out_nic >= 0) {
          pair.hops.clear();
          AppendHops(topo, routes, link_index, gpus[s], routes.Route(gpus[s], out_nic), &pair.hops);
          AppendHops(topo, routes, link_index, out_nic, routes.Route(out_nic, nic_of[d]),
                     &pair.hops);
          AppendHops(topo, routes, link_index, nic_of[d], routes.Route(nic_of[d], gpus[d]),
                     &pair.hops);
          pair.why += fmt::format(", out through '{}', in through '{}'", topo.nodes(out_nic).name(),
                                  topo.nodes(nic_of[d]).name());
        }
      }
      if (pair.transport == Transport::kShm) {
        const int cpu = home[s];
        if (cpu < 0)
          return Status::BadInput(fmt::format(
              "topology {}: GPUs '{}' -> '{}' need host shared memory (SHM, {}) but host {} has "
              "no CPU node reachable from '{}'", topo.name(), src.name(), dst.name(), pair.why,
              src.host(), src.name()));
        pair.hops.clear();
        AppendHops(topo, routes, link_index, gpus[s], routes.Route(gpus[s], cpu), &pair.hops);
        Hop memory;
        memory.memory_cpu = cpu;
        pair.hops.push_back(memory);
        AppendHops(topo, routes, link_index, cpu, routes.Route(cpu, gpus[d]), &pair.hops);
        pair.extra_hops = 2;
      }
      pair.path_class = any_network ? PairRoute::PathClass::kNetwork
                        : (all_nvlink && pair.transport == Transport::kP2p)
                            ? PairRoute::PathClass::kNvlink
                            : PairRoute::PathClass::kPcie;
      pair.bottleneck_gb_per_s = std::numeric_limits<double>::infinity();
      for (const Hop& hop : pair.hops) {
        double bw;
        if (hop.link < 0) {
          bw = table.MemoryGbPerS(hop.memory_cpu) / 2;
        } else {
          bw = topo.links(hop.link).bw_gb_per_s();
          pair.link_latency_us += topo.links(hop.link).latency_us();
        }
        pair.bottleneck_gb_per_s = std::min(pair.bottleneck_gb_per_s, bw);
      }
    }
  }
  return table;
}

double TransportTable::MemoryGbPerS(int cpu) const {
  const double own = topo_->nodes(cpu).memory_gb_per_s();
  return own > 0 ? own : nccl_.host_memory_gb_per_s();
}

const proto::NcclProtocol& TransportTable::ProtocolFor(uint64_t bytes) const {
  for (const proto::NcclProtocol& p : nccl_.protocols()) {
    if (p.max_bytes() == 0 || bytes <= p.max_bytes()) return p;
  }
  return nccl_.protocols(nccl_.protocols_size() - 1);
}

double TransportTable::MessageLatencyUs(int src, int dst, uint64_t bytes) const {
  const PairRoute& pair = Pair(src, dst);
  const proto::NcclProtocol& p = ProtocolFor(bytes);
  double extra = p.extra_hop_pcie_us();
  if (pair.path_class == PairRoute::PathClass::kNvlink) extra = p.extra_hop_nvlink_us();
  if (pair.path_class == PairRoute::PathClass::kNetwork) extra = p.extra_hop_network_us();
  return p.base_latency_us() + extra * pair.extra_hops + pair.link_latency_us;
}

double TransportTable::WireBytes(uint64_t bytes) const {
  return static_cast<double>(bytes) / ProtocolFor(bytes).payload_efficiency();
}

double TransportTable::LoneMessageUs(int src, int dst, uint64_t bytes) const {
  return MessageLatencyUs(src, dst, bytes) +
         WireBytes(bytes) / (Pair(src, dst).bottleneck_gb_per_s * 1e3);
}

int TransportTable::Count(Transport t) const {
  int count = 0;
  for (int s = 0; s < num_gpus_; ++s) {
    for (int d = 0; d < num_gpus_; ++d) count += s != d && Pair(s, d).transport == t;
  }
  return count;
}

}  // namespace epsim::engine
