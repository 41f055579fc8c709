#include "sim/topology/topology_paths.h"

#include <fmt/format.h>

#include <algorithm>

#include "sim/topology/topology.h"
#include "sim/topology/transport.h"

namespace epsim::topology {

namespace {

constexpr double kPcieGen5x16GbPerS = 64;
constexpr double kMaxNvlinkGbPerS = 900;

Finding Error(std::string where, std::string message) {
  return {Finding::Severity::kError, std::move(where), std::move(message)};
}
Finding Warning(std::string where, std::string message) {
  return {Finding::Severity::kWarning, std::move(where), std::move(message)};
}

void CheckLinkFigures(const proto::Link& link, std::vector<Finding>* out) {
  const std::string where = fmt::format("link '{}'", link.name());
  const double bw = link.bw_gb_per_s();
  for (const std::string& problem : {RangeProblem("bw_gb_per_s", bw, kLinkBwRange),
                                     RangeProblem("latency_us", link.latency_us(), kLatencyRange)})
    if (!problem.empty()) out->push_back(Error(where, problem));
  if (link.kind() == proto::PCIE && bw > kPcieGen5x16GbPerS)
    out->push_back(Warning(where, fmt::format("PCIe link at {} GB/s is faster than PCIe Gen5 "
                                              "x16 ({} GB/s)", bw, kPcieGen5x16GbPerS)));
  if (link.kind() == proto::NVLINK && bw > kMaxNvlinkGbPerS)
    out->push_back(Warning(where, fmt::format("NVLink at {} GB/s is faster than {} GB/s (the "
                                              "fastest NVLink per GPU)", bw, kMaxNvlinkGbPerS)));
}

void CheckGpuFigures(const proto::GpuSpec& gpu, std::vector<Finding>* out) {
  for (const std::string& problem :
       {RangeProblem("peak_flops", gpu.peak_flops(), kPeakFlopsRange),
        RangeProblem("mem_bw_gb_per_s", gpu.mem_bw_gb_per_s(), kMemBwRange),
        RangeProblem("compute_efficiency", gpu.compute_efficiency(), kEfficiencyRange),
        RangeProblem("memory_efficiency", gpu.memory_efficiency(), kEfficiencyRange)})
    if (!problem.empty()) out->push_back(Error("gpu", problem));
}

bool IsReverse(const std::vector<const proto::Link*>& ab,
               const std::vector<const proto::Link*>& ba) {
  return std::equal(ab.begin(), ab.end(), ba.rbegin(), ba.rend());
}

std::string LinkNames(const std::vector<const proto::Link*>& path) {
  std::string names;
  for (const proto::Link* link : path) names += (names.empty() ? "" : ", ") + link->name();
  return names;
}

// Route findings between every ordered rank pair.
void CheckRoutes(const proto::Topology& topo, CheckSummary* summary) {
  const RouteTable table(topo);
  const char* noun = RankNoun(summary->rank_kind);
  std::vector<int> ranks;
  for (const std::string& name : RankNames(topo)) ranks.push_back(table.NodeIndex(name));
  std::string first_asymmetric;
  for (size_t i = 0; i < ranks.size(); ++i) {
    for (size_t j = i + 1; j < ranks.size(); ++j) {
      const std::string& a = topo.nodes(ranks[i]).name();
      const std::string& b = topo.nodes(ranks[j]).name();
      if (!table.Reachable(ranks[i], ranks[j]) || !table.Reachable(ranks[j], ranks[i])) {
        summary->findings.push_back(Error(
            fmt::format("{} '{}', '{}'", RankNoun(summary->rank_kind, true), a, b),
            "no route between them"));
        continue;
      }
      auto ab = table.Route(ranks[i], ranks[j]), ba = table.Route(ranks[j], ranks[i]);
      if (IsReverse(ab, ba)) continue;
      if (++summary->asymmetric_pairs == 1)
        first_asymmetric = fmt::format("first: {} -> {} via {}; back via {}", a, b,
                                       LinkNames(ab), LinkNames(ba));
    }
  }
  if (summary->asymmetric_pairs > 0)
    summary->findings.push_back(Warning(
        "routes", fmt::format("{} {} pairs route over other links back than forth ({})",
                              summary->asymmetric_pairs, noun, first_asymmetric)));
}

}  // namespace

RouteTable::RouteTable(const proto::Topology& topo) : topo_(topo), n_(topo.nodes_size()) {
  for (int i = 0; i < n_; ++i) index_.emplace(topo.nodes(i).name(), i);
  cost_.assign(size_t(n_) * n_, kNone);
  pred_.assign(size_t(n_) * n_, -1);
  link_between_.assign(size_t(n_) * n_, -1);
  for (int l = 0; l < topo.links_size(); ++l) {
    const int a = index_.at(topo.links(l).a()), b = index_.at(topo.links(l).b());
    for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
      cost_[from * n_ + to] = 1;
      pred_[from * n_ + to] = from;
      link_between_[from * n_ + to] = l;
    }
  }
  // SimGrid FloydZone::do_seal: for c, for a, for b, take a -> c -> b when
  // a -> b has no route yet or is strictly longer. A node is never its own
  // intermediate here (cost a -> a is never set), as in SimGrid where the
  // loopback route only adds to a sum.
  for (int c = 0; c < n_; ++c) {
    for (int a = 0; a < n_; ++a) {
      const int ac = cost_[a * n_ + c];
      if (ac == kNone || a == c) continue;
      for (int b = 0; b < n_; ++b) {
        const int cb = cost_[c * n_ + b];
        if (cb == kNone || b == c || a == b) continue;
        int& ab = cost_[a * n_ + b];
        if (ab == kNone || ac + cb < ab) {
          ab = ac + cb;
          pred_[a * n_ + b] = pred_[c * n_ + b];
        }
      }
    }
  }
}

std::vector<const proto::Link*> RouteTable::Route(int from, int to) const {
  std::vector<const proto::Link*> path;
  if (from == to || cost_[from * n_ + to] == kNone) return path;
  for (int cur = to; cur != from;) {
    const int prev = pred_[from * n_ + cur];
    path.push_back(&topo_.links(link_between_[prev * n_ + cur]));
    cur = prev;
  }
  std::reverse(path.begin(), path.end());
  return path;
}

int RouteTable::NodeIndex(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

Result<std::vector<const proto::Link*>> RankPath(const proto::Topology& topo,
                                                 const std::string& from_rank,
                                                 const std::string& to_rank) {
  EPSIM_RETURN_IF_ERROR(ValidateTopology(topo));
  const std::vector<std::string> ranks = RankNames(topo);
  for (const std::string* rank : {&from_rank, &to_rank}) {
    if (std::find(ranks.begin(), ranks.end(), *rank) == ranks.end())
      return Status::BadInput(fmt::format("no {} named '{}'", RankNoun(RankKind(topo)), *rank));
  }
  const RouteTable table(topo);
  const int from = table.NodeIndex(from_rank), to = table.NodeIndex(to_rank);
  if (!table.Reachable(from, to))
    return Status::BadInput(fmt::format("no route from '{}' to '{}'", from_rank, to_rank));
  return table.Route(from, to);
}

CheckSummary CheckTopology(const proto::Topology& topo) {
  CheckSummary summary;
  summary.num_ranks = static_cast<int>(RankNames(topo).size());
  summary.rank_kind = RankKind(topo);
  summary.num_links = topo.links_size();
  CheckGpuFigures(topo.gpu(), &summary.findings);
  for (const proto::Link& link : topo.links()) CheckLinkFigures(link, &summary.findings);
  // Structure (names, ends, connectivity): routes are only defined on a
  // topology that passes. Figure errors were reported above already.
  const Status valid = ValidateTopology(topo);
  if (!valid.ok()) {
    if (summary.ok()) summary.findings.push_back(Error("topology", valid.message()));
    return summary;
  }
  CheckRoutes(topo, &summary);
  // Every pair needs a transport under the file's P2P policy (SHM needs a CPU).
  if (summary.ok()) {
    const Result<TransportTable> transports = TransportTable::Build(topo, topo.nccl().p2p());
    if (!transports.ok()) summary.findings.push_back(Error("transport", transports.status().message()));
  }
  return summary;
}

}  // namespace epsim::topology
