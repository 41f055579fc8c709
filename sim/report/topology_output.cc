#include "sim/report/topology_output.h"

#include <fmt/format.h>

#include <map>

#include "sim/report/version.h"
#include "sim/topology/topology.h"
#include "sim/topology/transport.h"

namespace epsim::report {

namespace {

std::string ComponentKindName(proto::ComponentKind kind) { return proto::ComponentKind_Name(kind); }

std::string LinkKindName(proto::LinkKind kind) { return proto::LinkKind_Name(kind); }

}  // namespace

void WriteTopologyDevices(std::ostream& out, const std::string& path, const std::string& file,
                          const proto::Topology& topo) {
  out << fmt::format("# epsim {} topo show {}\n", kEpsimVersion, path);
  out << fmt::format("# topology file: {}\n", file);
  out << fmt::format("# topology {}: {}\n", topo.name(), topo.description());
  const bool processes = topology::RankKind(topo) == proto::PROCESS;
  const char* rank_label = processes ? "process" : "gpu";
  out << fmt::format("# {} {}{}: {:g} TFLOP/s peak, {:g} GB/s memory\n", rank_label,
                     topo.gpu().name(), processes ? " (one core)" : "",
                     topo.gpu().peak_flops() / 1e12, topo.gpu().mem_bw_gb_per_s());
  const proto::GpuSpec& gpu = topo.gpu();
  out << fmt::format(
      "# compute model: GEMM efficiency {:g}{}, memory efficiency {:g}, launch {:g} us, "
      "permute {:g} ns/row, reduce {:g} ns/row, FFN {:g} ns/row{}\n",
      gpu.compute_efficiency(),
      gpu.gemm_half_rows() > 0 ? fmt::format(" (half of it at {:g} rows)", gpu.gemm_half_rows())
                               : std::string(" (any shape)"),
      gpu.memory_efficiency(), gpu.launch_us(), gpu.permute_row_ns(), gpu.reduce_row_ns(),
      gpu.ffn_row_ns(),
      processes ? "" : (topology::GpuHasPcieP2p(gpu) ? ", PCIe P2P" : ", no PCIe P2P"));
  std::map<int, int> counts;  // by NodeKind, in enum order
  for (const proto::Component& node : topo.nodes()) ++counts[node.kind()];
  out << "devices:";
  for (const auto& [kind, count] : counts)
    out << fmt::format(" {} {}", count, ComponentKindName(static_cast<proto::ComponentKind>(kind)));
  out << fmt::format(", {} links\n", topo.links_size());
  out << fmt::format("{:>5}  {:<16} {:>4}\n", "rank", rank_label, "host");
  int rank = 0;
  for (const proto::Component& node : topo.nodes()) {
    if (topology::IsRankNode(node))
      out << fmt::format("{:>5}  {:<16} {:>4}\n", rank++, node.name(), node.host());
  }
}

void WriteTopologyPath(std::ostream& out, const proto::Topology& topo,
                       const topology::TransportTable& table, int from, int to) {
  const std::vector<std::string> ranks = topology::RankNames(topo);
  const topology::PairRoute& pair = table.Pair(from, to);
  out << fmt::format("path {} -> {}: {} ({}), {} hops\n", ranks[from], ranks[to],
                     topology::TransportName(pair.transport), pair.why, pair.hops.size());
  out << fmt::format("{:>4}  {:<20} {:<16} {:<30} {:>10} {:>11}\n", "hop", "link", "kind",
                     "from -> to", "bw(GB/s)", "latency(us)");
  std::string at = ranks[from];
  for (size_t i = 0; i < pair.hops.size(); ++i) {
    const topology::Hop& hop = pair.hops[i];
    if (hop.p2p_cpu >= 0) {
      const std::string& cpu = topo.nodes(hop.p2p_cpu).name();
      out << fmt::format("{:>4}  {:<20} {:<16} {:<30} {:>10g} {:>11g}\n", i + 1, cpu + "/p2p",
                         "P2P_FORWARD", "P2P through " + cpu,
                         topo.nodes(hop.p2p_cpu).p2p_gb_per_s(), 0.0);
      continue;
    }
    if (hop.link < 0) {
      const std::string& cpu = topo.nodes(hop.memory_cpu).name();
      out << fmt::format("{:>4}  {:<20} {:<16} {:<30} {:>10g} {:>11g}\n", i + 1, cpu + "/memory",
                         "HOST_MEMORY", "write + read in " + cpu,
                         table.MemoryGbPerS(hop.memory_cpu) / 2, 0.0);
      continue;
    }
    const proto::Link& link = topo.links(hop.link);
    const std::string next = hop.forward ? link.b() : link.a();
    out << fmt::format("{:>4}  {:<20} {:<16} {:<30} {:>10g} {:>11g}\n", i + 1, link.name(),
                       LinkKindName(link.kind()), at + " -> " + next, link.bw_gb_per_s(),
                       link.latency_us());
    at = next;
  }
  out << fmt::format("total: link latency {:g} us, bottleneck {:g} GB/s\n", pair.link_latency_us,
                     pair.bottleneck_gb_per_s);
  out << "lone message (protocol latency + link latency + bytes / efficiency / bottleneck):\n";
  out << fmt::format("{:>12} {:>8} {:>12} {:>10} {:>10}\n", "size(B)", "protocol", "latency(us)",
                     "time(us)", "GB/s");
  for (uint64_t bytes : {uint64_t{8}, uint64_t{16384}, uint64_t{1} << 20, uint64_t{1} << 30}) {
    const double us = table.LoneMessageUs(from, to, bytes);
    out << fmt::format("{:>12} {:>8} {:>12.2f} {:>10.2f} {:>10.2f}\n", bytes,
                       table.ProtocolFor(bytes).name(), table.MessageLatencyUs(from, to, bytes), us,
                       bytes / us / 1e3);
  }
}

void WriteNcclModel(std::ostream& out, const topology::TransportTable& table) {
  const proto::NcclModel& nccl = table.nccl();
  const char* rank = topology::RankNoun(table.rank_kind());
  out << fmt::format("nccl: p2p {} ({} P2P, {} SHM, {} NET ordered {} pairs), {} peers in flight "
                     "per {}{}, host memory {:g} GB/s unless a CPU node says\n",
                     topology::P2pPolicyName(table.policy()), table.Count(topology::Transport::kP2p),
                     table.Count(topology::Transport::kShm), table.Count(topology::Transport::kNet),
                     rank, nccl.max_peers_in_flight(), rank,
                     nccl.max_peers_in_flight() == 0 ? " (unlimited)" : "",
                     nccl.host_memory_gb_per_s());
  out << fmt::format("{:>10} {:>12} {:>10} {:>11} {:>32}\n", "protocol", "max_bytes", "base(us)",
                     "efficiency", "extra nvlink/pcie/net/memory(us)");
  for (const proto::NcclProtocol& p : nccl.protocols()) {
    out << fmt::format("{:>10} {:>12} {:>10g} {:>11g} {:>32}\n", p.name(),
                       p.max_bytes() == 0 ? std::string("any") : std::to_string(p.max_bytes()),
                       p.base_latency_us(), p.payload_efficiency(),
                       fmt::format("{:g}/{:g}/{:g}/{:g}", p.extra_hop_nvlink_us(),
                                   p.extra_hop_pcie_us(), p.extra_hop_network_us(),
                                   p.extra_hop_memory_us()));
  }
}

void WriteTopologyCheck(std::ostream& out, const std::string& path,
                        const topology::CheckSummary& summary) {
  for (const topology::Finding& f : summary.findings) {
    const char* severity = f.severity == topology::Finding::Severity::kError ? "error" : "warning";
    out << fmt::format("{}: {}: {}: {}\n", path, severity, f.where, f.message);
  }
  if (!summary.ok()) return;
  out << fmt::format("{}: ok: {} {}, {} links, all pairs reachable, {}\n", path,
                     summary.num_ranks, topology::RankNoun(summary.rank_kind, true),
                     summary.num_links,
                     summary.asymmetric_pairs == 0
                         ? std::string("routes symmetric")
                         : fmt::format("{} pairs with asymmetric routes",
                                       summary.asymmetric_pairs));
}

}  // namespace epsim::report
