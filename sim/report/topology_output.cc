#include "sim/report/topology_output.h"

#include <fmt/format.h>

#include <map>

#include "sim/report/version.h"

namespace epsim::report {

namespace {

std::string NodeKindName(proto::NodeKind kind) { return proto::NodeKind_Name(kind); }

std::string LinkKindName(proto::LinkKind kind) { return proto::LinkKind_Name(kind); }

}  // namespace

void WriteTopologyDevices(std::ostream& out, const std::string& path,
                          const proto::Topology& topo) {
  out << fmt::format("# epsim {} topo show {}\n", kEpsimVersion, path);
  out << fmt::format("# topology {}: {}\n", topo.name(), topo.description());
  out << fmt::format("# gpu {}: {:g} TFLOP/s peak, {:g} GB/s memory\n", topo.gpu().name(),
                     topo.gpu().peak_flops() / 1e12, topo.gpu().mem_bw_gb_per_s());
  std::map<int, int> counts;  // by NodeKind, in enum order
  for (const proto::Node& node : topo.nodes()) ++counts[node.kind()];
  out << "devices:";
  for (const auto& [kind, count] : counts)
    out << fmt::format(" {} {}", count, NodeKindName(static_cast<proto::NodeKind>(kind)));
  out << fmt::format(", {} links\n", topo.links_size());
  out << fmt::format("{:>5}  {:<16} {:>4}\n", "rank", "gpu", "host");
  int rank = 0;
  for (const proto::Node& node : topo.nodes()) {
    if (node.kind() == proto::GPU)
      out << fmt::format("{:>5}  {:<16} {:>4}\n", rank++, node.name(), node.host());
  }
}

void WriteTopologyPath(std::ostream& out, const std::string& from, const std::string& to,
                       const std::vector<const proto::Link*>& path) {
  out << fmt::format("path {} -> {}: {} links\n", from, to, path.size());
  out << fmt::format("{:>4}  {:<20} {:<16} {:<30} {:>10} {:>11}\n", "hop", "link", "kind",
                     "from -> to", "bw(GB/s)", "latency(us)");
  std::string at = from;
  for (size_t i = 0; i < path.size(); ++i) {
    const proto::Link& link = *path[i];
    const std::string next = link.a() == at ? link.b() : link.a();
    out << fmt::format("{:>4}  {:<20} {:<16} {:<30} {:>10g} {:>11g}\n", i + 1, link.name(),
                       LinkKindName(link.kind()), at + " -> " + next, link.bw_gb_per_s(),
                       link.latency_us());
    at = next;
  }
  const engine::PathTotals totals = engine::Totals(path);
  out << fmt::format("total: latency {:g} us, bottleneck {:g} GB/s\n", totals.latency_us,
                     totals.bottleneck_bw_gb_per_s);
}

void WriteTopologyCheck(std::ostream& out, const std::string& path,
                        const engine::CheckSummary& summary) {
  for (const engine::Finding& f : summary.findings) {
    const char* severity = f.severity == engine::Finding::Severity::kError ? "error" : "warning";
    out << fmt::format("{}: {}: {}: {}\n", path, severity, f.where, f.message);
  }
  if (!summary.ok()) return;
  out << fmt::format("{}: ok: {} GPUs, {} links, all pairs reachable, {}\n", path,
                     summary.num_gpus, summary.num_links,
                     summary.asymmetric_pairs == 0
                         ? std::string("routes symmetric")
                         : fmt::format("{} pairs with asymmetric routes",
                                       summary.asymmetric_pairs));
}

}  // namespace epsim::report
