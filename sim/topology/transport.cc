#include "sim/topology/transport.h"

#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "sim/topology/topology.h"
#include "sim/topology/topology_paths.h"

namespace epsim::topology {

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
// No figure yet for MPI between processes of a host (epsim-hw's host backend
// will measure it): the per-message cost is the protocol's base latency.
constexpr double kMemoryHopUs = 0;

proto::NcclProtocol Protocol(const char* name, uint64_t max_bytes, double base_us,
                             double efficiency, double nvlink_us, double pcie_us,
                             double network_us, double memory_us) {
  proto::NcclProtocol p;
  p.set_name(name);
  p.set_max_bytes(max_bytes);
  p.set_base_latency_us(base_us);
  p.set_payload_efficiency(efficiency);
  p.set_extra_hop_nvlink_us(nvlink_us);
  p.set_extra_hop_pcie_us(pcie_us);
  p.set_extra_hop_network_us(network_us);
  p.set_extra_hop_memory_us(memory_us);
  return p;
}

const char* KindName(proto::ComponentKind kind) { return proto::ComponentKind_Name(kind).c_str(); }

// What building the table needs to know about the topology, computed once.
class Graph {
 public:
  explicit Graph(const proto::Topology& topo) : topo_(topo), routes_(topo) {
    for (int l = 0; l < topo.links_size(); ++l) link_index_.emplace(&topo.links(l), l);
    for (const std::string& name : RankNames(topo)) ranks_.push_back(routes_.NodeIndex(name));
    std::unordered_map<uint32_t, std::vector<int>> cpus, nics;  // by host
    for (int c = 0; c < topo.nodes_size(); ++c) {
      if (topo.nodes(c).kind() == proto::CPU) cpus[topo.nodes(c).host()].push_back(c);
      if (topo.nodes(c).kind() == proto::NIC) host_nics_[topo.nodes(c).host()].push_back(c);
    }
    for (int node : ranks_) {
      const uint32_t host = topo.nodes(node).host();
      home_cpu_.push_back(Nearest(node, cpus[host]));
      nearest_nic_.push_back(Nearest(node, host_nics_[host]));
    }
  }

  const proto::Topology& topo() const { return topo_; }
  int num_ranks() const { return static_cast<int>(ranks_.size()); }
  const proto::Component& rank(int r) const { return topo_.nodes(ranks_[r]); }
  int rank_node(int r) const { return ranks_[r]; }
  // Nearest CPU / NIC on the rank's host (fewest links, then file order), -1 for none.
  int home_cpu(int rank) const { return home_cpu_[rank]; }
  int nearest_nic(int rank) const { return nearest_nic_[rank]; }

  // The topology route between two nodes, appended to `hops` as steps.
  void Append(int from, int to, std::vector<Hop>* hops) const {
    int at = from;
    for (const proto::Link* link : routes_.Route(from, to)) {
      Hop hop;
      hop.link = link_index_.at(link);
      hop.forward = link->a() == topo_.nodes(at).name();
      at = routes_.NodeIndex(hop.forward ? link->b() : link->a());
      hops->push_back(hop);
    }
  }
  void AppendRanks(int src, int dst, std::vector<Hop>* hops) const {
    Append(ranks_[src], ranks_[dst], hops);
  }

  // The node indices a route of links passes between its ends.
  std::vector<int> Intermediates(const std::vector<Hop>& hops) const {
    std::vector<int> nodes;
    for (size_t i = 0; i + 1 < hops.size(); ++i) {
      const proto::Link& link = topo_.links(hops[i].link);
      nodes.push_back(routes_.NodeIndex(hops[i].forward ? link.b() : link.a()));
    }
    return nodes;
  }

  // The NIC of `src`'s host nearest to `dst`'s nearest NIC (fewest links,
  // then nearest to src, then file order); -1 when either side has none.
  int OutNic(int src, int dst) const {
    const int in = nearest_nic_[dst];
    auto it = host_nics_.find(rank(src).host());
    if (in < 0 || it == host_nics_.end()) return -1;
    int best = -1, best_far = 0, best_near = 0;
    for (int nic : it->second) {
      if (!routes_.Reachable(nic, in) || !routes_.Reachable(ranks_[src], nic)) continue;
      const int far = routes_.Hops(nic, in), near = routes_.Hops(ranks_[src], nic);
      if (best < 0 || far < best_far || (far == best_far && near < best_near)) {
        best = nic;
        best_far = far;
        best_near = near;
      }
    }
    return best;
  }

 private:
  int Nearest(int from, const std::vector<int>& candidates) const {
    int best = -1;
    for (int c : candidates) {
      if (routes_.Reachable(from, c) && (best < 0 || routes_.Hops(from, c) < routes_.Hops(from, best)))
        best = c;
    }
    return best;
  }

  const proto::Topology& topo_;
  const RouteTable routes_;
  std::unordered_map<const proto::Link*, int> link_index_;
  std::vector<int> ranks_;  // node index of each rank
  std::vector<int> home_cpu_, nearest_nic_;
  std::unordered_map<uint32_t, std::vector<int>> host_nics_;
};

}  // namespace

bool GpuHasPcieP2p(const proto::GpuSpec& gpu) {
  if (gpu.pcie_p2p() == proto::PCIE_P2P_SUPPORTED) return true;
  if (gpu.pcie_p2p() == proto::PCIE_P2P_UNSUPPORTED) return false;
  std::string name = gpu.name();
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name.find("geforce") == std::string::npos && name.find("titan") == std::string::npos;
}

namespace {

// Transport of a pair on one host, with why, from its P2P route (`pair.hops`).
void ChooseIntraHost(const Graph& g, int src, proto::P2pPolicy policy, PairRoute* pair) {
  const proto::Topology& topo = g.topo();
  bool all_nvlink = true;
  for (const Hop& hop : pair->hops) all_nvlink &= topo.links(hop.link).kind() == proto::NVLINK;
  pair->transport = Transport::kP2p;
  if (policy == proto::P2P_ON) {
    pair->why = "--p2p on";
  } else if (policy == proto::P2P_OFF) {
    pair->transport = Transport::kShm;
    pair->why = "--p2p off";
  } else if (all_nvlink) {
    pair->why = "NVLink route";
  } else if (!GpuHasPcieP2p(topo.gpu())) {
    pair->transport = Transport::kShm;
    pair->why = fmt::format("no PCIe P2P on '{}' (stock driver; gpu.pcie_p2p)", topo.gpu().name());
  } else {
    // NCCL's PCIe rule: which kinds of node does the route pass?
    int through = -1;  // the first CPU, else the first root complex
    for (int node : g.Intermediates(pair->hops)) {
      const proto::ComponentKind kind = topo.nodes(node).kind();
      if (kind == proto::CPU && (through < 0 || topo.nodes(through).kind() != proto::CPU))
        through = node;
      if (kind == proto::ROOT_COMPLEX && through < 0) through = node;
    }
    const bool via_cpu = through >= 0 && topo.nodes(through).kind() == proto::CPU;
    const std::string what =
        through < 0 ? "" : fmt::format("{} '{}'", via_cpu ? "CPU" : "root complex",
                                       topo.nodes(through).name());
    const int home = g.home_cpu(src);
    if (through < 0) {
      pair->why = "PCIe switches only (PXB)";
    } else if (home >= 0 && topo.nodes(home).cpu_vendor() == proto::AMD) {
      pair->why = "AMD host: P2P through " + what;
    } else {
      pair->transport = Transport::kShm;
      pair->why = fmt::format("Intel host: no P2P through {} ({})", what, via_cpu ? "SYS" : "PHB");
    }
  }
  pair->path_class = all_nvlink && pair->transport == Transport::kP2p
                         ? PairRoute::PathClass::kNvlink
                         : PairRoute::PathClass::kPcie;
  if (pair->transport != Transport::kP2p || all_nvlink) return;
  // P2P through root complexes or CPUs: each CPU's forwarding cap, where set
  // (a route through a root complex only uses the source's home socket).
  std::vector<int> cpus;
  bool via_rc = false;
  for (int node : g.Intermediates(pair->hops)) {
    if (topo.nodes(node).kind() == proto::CPU) cpus.push_back(node);
    via_rc |= topo.nodes(node).kind() == proto::ROOT_COMPLEX;
  }
  if (cpus.empty() && via_rc && g.home_cpu(src) >= 0) cpus.push_back(g.home_cpu(src));
  for (int cpu : cpus) {
    if (topo.nodes(cpu).p2p_gb_per_s() <= 0) continue;
    Hop cap;
    cap.p2p_cpu = cpu;
    pair->hops.push_back(cap);
  }
}

// SHM: up to the source's home CPU, through its memory, down to dst.
Status RouteThroughHostMemory(const Graph& g, int src, int dst, PairRoute* pair) {
  const int cpu = g.home_cpu(src);
  if (cpu < 0)
    return Status::BadInput(fmt::format(
        "topology {}: {} '{}' -> '{}' need host shared memory (SHM, {}) but host {} has no CPU "
        "node reachable from '{}'", g.topo().name(), RankNoun(g.rank(src).kind(), true),
        g.rank(src).name(), g.rank(dst).name(),
        pair->why, g.rank(src).host(), g.rank(src).name()));
  pair->hops.clear();
  g.Append(g.rank_node(src), cpu, &pair->hops);
  Hop memory;
  memory.memory_cpu = cpu;
  pair->hops.push_back(memory);
  g.Append(cpu, g.rank_node(dst), &pair->hops);
  pair->extra_hops = 2;
  return Status::Ok();
}

// Processes of one host: MPI copies through host shared memory, whatever
// the P2P policy; no PCIe on the way, so the protocol charges memory hops.
Status RouteBetweenProcesses(const Graph& g, int src, int dst, PairRoute* pair) {
  pair->transport = Transport::kShm;
  pair->why = "processes of one host: MPI through host shared memory";
  pair->path_class = PairRoute::PathClass::kMemory;
  return RouteThroughHostMemory(g, src, dst, pair);
}

// NET (transport.h): out through the NIC nearest the destination's NIC.
void RouteBetweenHosts(const Graph& g, int src, int dst, PairRoute* pair) {
  pair->transport = Transport::kNet;
  pair->why = fmt::format("hosts {} and {}", g.rank(src).host(), g.rank(dst).host());
  const int out = g.OutNic(src, dst);
  if (out < 0) {
    g.AppendRanks(src, dst, &pair->hops);
    return;
  }
  const int in = g.nearest_nic(dst);
  g.Append(g.rank_node(src), out, &pair->hops);
  g.Append(out, in, &pair->hops);
  g.Append(in, g.rank_node(dst), &pair->hops);
  pair->why += fmt::format(", out through '{}', in through '{}'", g.topo().nodes(out).name(),
                           g.topo().nodes(in).name());
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
  return Status::Usage(fmt::format("--p2p '{}': want on, off or auto", text));
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
    *nccl.add_protocols() = Protocol("LL", kLlMaxBytes, 6.6, 0.5, 0, 0, 0, 0);
    *nccl.add_protocols() =
        Protocol("Simple", 0, 8.4, 1.0, 3.4 - 0.6, 5.7 - 1.0, 14.0 - 2.7, kMemoryHopUs);
  }
  if (!nccl.has_max_peers_in_flight()) nccl.set_max_peers_in_flight(kDefaultPeersInFlight);
  if (nccl.host_memory_gb_per_s() == 0) nccl.set_host_memory_gb_per_s(kDefaultHostMemoryGbPerS);
  if (!nccl.has_shm_efficiency()) nccl.set_shm_efficiency(1);
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
                            std::pair{"extra_hop_network_us", p.extra_hop_network_us()},
                            std::pair{"extra_hop_memory_us", p.extra_hop_memory_us()}}) {
      const std::string problem = RangeProblem(field, x, kLatencyRange);
      if (!problem.empty())
        return Status::BadInput(fmt::format("{} ({}): {}", where, p.name(), problem));
    }
    const bool last = i + 1 == nccl.protocols_size();
    if (last && p.max_bytes() != 0)
      return Status::BadInput(fmt::format("{} ({}): the last protocol must have max_bytes 0 "
                                          "(any size), not {}", where, p.name(), p.max_bytes()));
    if (!last && (p.max_bytes() == 0 || (i > 0 && p.max_bytes() <= nccl.protocols(i - 1).max_bytes())))
      return Status::BadInput(fmt::format("{} ({}): max_bytes {} must be > 0 and larger than the "
                                          "previous protocol's", where, p.name(), p.max_bytes()));
  }
  if (nccl.has_shm_efficiency() && !(nccl.shm_efficiency() > 0 && nccl.shm_efficiency() <= 1))
    return Status::BadInput(
        fmt::format("nccl.shm_efficiency {} must be in (0, 1]", nccl.shm_efficiency()));
  // Bandwidths of 0 are unset (a default applies); others must be plausible.
  const auto bandwidth = [](const std::string& name, double x) {
    return x == 0 ? std::string() : RangeProblem(name, x, kLinkBwRange);
  };
  if (const std::string problem = bandwidth("nccl.host_memory_gb_per_s", nccl.host_memory_gb_per_s());
      !problem.empty())
    return Status::BadInput(problem);
  for (const proto::Component& node : topo.nodes()) {
    if (node.kind() != proto::CPU &&
        (node.cpu_vendor() != proto::CPU_VENDOR_UNSPECIFIED || node.memory_gb_per_s() != 0 ||
         node.p2p_gb_per_s() != 0))
      return Status::BadInput(fmt::format("node '{}': cpu_vendor, memory_gb_per_s and p2p_gb_per_s belong on "
                                          "CPU nodes, not {}", node.name(), KindName(node.kind())));
    for (const auto& [field, x] : {std::pair{"p2p_gb_per_s", node.p2p_gb_per_s()},
                                   std::pair{"memory_gb_per_s", node.memory_gb_per_s()}}) {
      const std::string problem = bandwidth(field, x);
      if (!problem.empty())
        return Status::BadInput(fmt::format("node '{}': {}", node.name(), problem));
    }
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
  const Graph g(topo);
  const int n = g.num_ranks();
  table.num_ranks_ = n;
  table.rank_kind_ = RankKind(topo);
  table.pairs_.resize(size_t(n) * n);
  for (int s = 0; s < n; ++s) {
    for (int d = 0; d < n; ++d) {
      if (s == d) continue;
      PairRoute& pair = table.pairs_[size_t(s) * n + d];
      if (g.rank(s).host() != g.rank(d).host()) {
        RouteBetweenHosts(g, s, d, &pair);
      } else if (g.rank(s).kind() == proto::PROCESS) {
        EPSIM_RETURN_IF_ERROR(RouteBetweenProcesses(g, s, d, &pair));
      } else {
        g.AppendRanks(s, d, &pair.hops);
        ChooseIntraHost(g, s, policy, &pair);
        if (pair.transport == Transport::kShm)
          EPSIM_RETURN_IF_ERROR(RouteThroughHostMemory(g, s, d, &pair));
      }
      table.AddTotals(&pair);
    }
  }
  return table;
}

void TransportTable::AddTotals(PairRoute* pair) const {
  pair->bottleneck_gb_per_s = std::numeric_limits<double>::infinity();
  for (const Hop& hop : pair->hops) {
    double bw;
    if (hop.p2p_cpu >= 0) {
      bw = topo_->nodes(hop.p2p_cpu).p2p_gb_per_s();
    } else if (hop.link < 0) {
      bw = MemoryGbPerS(hop.memory_cpu) / 2;
    } else {
      const proto::Link& link = topo_->links(hop.link);
      bw = link.bw_gb_per_s();
      pair->link_latency_us += link.latency_us();
      if (link.kind() == proto::NETWORK) pair->path_class = PairRoute::PathClass::kNetwork;
    }
    pair->bottleneck_gb_per_s = std::min(pair->bottleneck_gb_per_s, bw);
  }
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

double TransportTable::MessageLatencyUs(int src, int dst, uint64_t bytes, bool with_base) const {
  const PairRoute& pair = Pair(src, dst);
  const proto::NcclProtocol& p = ProtocolFor(bytes);
  double extra = p.extra_hop_pcie_us();
  if (pair.path_class == PairRoute::PathClass::kNvlink) extra = p.extra_hop_nvlink_us();
  if (pair.path_class == PairRoute::PathClass::kNetwork) extra = p.extra_hop_network_us();
  if (pair.path_class == PairRoute::PathClass::kMemory) extra = p.extra_hop_memory_us();
  return (with_base ? p.base_latency_us() : 0.0) + extra * pair.extra_hops + pair.link_latency_us;
}

double TransportTable::WireBytes(int src, int dst, uint64_t bytes) const {
  const double shm = Pair(src, dst).transport == Transport::kShm ? nccl_.shm_efficiency() : 1.0;
  return static_cast<double>(bytes) / ProtocolFor(bytes).payload_efficiency() / shm;
}

double TransportTable::LoneMessageUs(int src, int dst, uint64_t bytes) const {
  return MessageLatencyUs(src, dst, bytes) +
         WireBytes(src, dst, bytes) / (Pair(src, dst).bottleneck_gb_per_s * 1e3);
}

int TransportTable::Count(Transport t) const {
  int count = 0;
  for (int s = 0; s < num_ranks_; ++s) {
    for (int d = 0; d < num_ranks_; ++d) count += s != d && Pair(s, d).transport == t;
  }
  return count;
}

}  // namespace epsim::topology
