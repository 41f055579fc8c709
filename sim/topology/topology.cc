#include "sim/topology/topology.h"

#include <cmath>

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "sim/base/file_util.h"
#include "sim/topology/transport.h"

namespace epsim::topology {

namespace {

using NodeIndex = std::unordered_map<std::string, int>;

std::string KindName(proto::ComponentKind kind) { return proto::ComponentKind_Name(kind); }

Status CheckGpuSpec(const proto::GpuSpec& gpu) {
  for (const auto& [name, x, range] :
       {std::tuple{"peak_flops", gpu.peak_flops(), kPeakFlopsRange},
        std::tuple{"mem_bw_gb_per_s", gpu.mem_bw_gb_per_s(), kMemBwRange},
        std::tuple{"compute_efficiency", gpu.compute_efficiency(), kEfficiencyRange},
        std::tuple{"memory_efficiency", gpu.memory_efficiency(), kEfficiencyRange},
        std::tuple{"launch_us", gpu.launch_us(), kLaunchRange},
        std::tuple{"memory_gb", gpu.memory_gb(), kMemoryRange}}) {
    const std::string problem = RangeProblem(std::string("gpu.") + name, x, range);
    if (!problem.empty()) return Status::BadInput(problem);
  }
  for (auto [name, value] : {std::pair{"gemm_half_rows", gpu.gemm_half_rows()},
                             std::pair{"permute_row_ns", gpu.permute_row_ns()},
                             std::pair{"reduce_row_ns", gpu.reduce_row_ns()},
                             std::pair{"ffn_row_ns", gpu.ffn_row_ns()}}) {
    if (!(value >= 0 && value <= 1e9))
      return Status::BadInput(fmt::format("gpu.{} {} outside [0, 1e9]", name, value));
  }
  if (!(gpu.comm_sm_share() >= 0 && gpu.comm_sm_share() <= 0.9))
    return Status::BadInput(
        fmt::format("gpu.comm_sm_share {} must be in [0, 0.9]", gpu.comm_sm_share()));
  return Status::Ok();
}

Result<NodeIndex> IndexNodes(const proto::Topology& topo) {
  NodeIndex index;
  for (int i = 0; i < topo.nodes_size(); ++i) {
    const std::string& name = topo.nodes(i).name();
    if (name.empty()) return Status::BadInput(fmt::format("node {} has no name", i));
    if (!index.emplace(name, i).second)
      return Status::BadInput(fmt::format("node name '{}' repeated", name));
  }
  return index;
}

Status CheckLink(const proto::Link& link, const NodeIndex& nodes) {
  for (const std::string* end : {&link.a(), &link.b()}) {
    if (!nodes.count(*end))
      return Status::BadInput(fmt::format("unknown node '{}'", *end));
  }
  if (link.a() == link.b()) return Status::BadInput("joins a node to itself");
  for (const auto& [name, x, range] :
       {std::tuple{"bw_gb_per_s", link.bw_gb_per_s(), kLinkBwRange},
        std::tuple{"latency_us", link.latency_us(), kLatencyRange}}) {
    const std::string problem = RangeProblem(name, x, range);
    if (!problem.empty()) return Status::BadInput(problem);
  }
  return Status::Ok();
}

Status CheckLinks(const proto::Topology& topo, const NodeIndex& nodes) {
  std::set<std::string> names;
  std::set<std::pair<std::string, std::string>> ends;
  for (int i = 0; i < topo.links_size(); ++i) {
    const proto::Link& link = topo.links(i);
    if (link.name().empty()) return Status::BadInput(fmt::format("link {} has no name", i));
    std::string where = fmt::format("link '{}'", link.name());
    if (!names.insert(link.name()).second)
      return Status::BadInput(where + ": name repeated");
    EPSIM_RETURN_IF_ERROR(CheckLink(link, nodes).WithContext(where));
    if (!ends.insert(std::minmax(link.a(), link.b())).second)
      return Status::BadInput(fmt::format(
          "{}: a second link between '{}' and '{}' (merge parallel links into one)", where,
          link.a(), link.b()));
  }
  return Status::Ok();
}

// Nodes reachable from node `from`, by breadth-first search.
std::vector<bool> Reachable(const proto::Topology& topo, const NodeIndex& nodes, int from) {
  std::vector<std::vector<int>> adjacent(topo.nodes_size());
  for (const proto::Link& link : topo.links()) {
    int a = nodes.at(link.a()), b = nodes.at(link.b());
    adjacent[a].push_back(b);
    adjacent[b].push_back(a);
  }
  std::vector<bool> seen(topo.nodes_size(), false);
  std::vector<int> frontier = {from};
  seen[from] = true;
  while (!frontier.empty()) {
    int n = frontier.back();
    frontier.pop_back();
    for (int next : adjacent[n]) {
      if (!seen[next]) seen[next] = true, frontier.push_back(next);
    }
  }
  return seen;
}

// Rank nodes of one kind: the first node of another kind than rank 0's.
Status CheckOneRankKind(const proto::Topology& topo) {
  const proto::Component* first = nullptr;
  for (const proto::Component& node : topo.nodes()) {
    if (!IsRankNode(node)) continue;
    if (first == nullptr) first = &node;
    if (node.kind() != first->kind())
      return Status::BadInput(fmt::format(
          "node '{}' is a {} rank but rank 0 '{}' is a {}: ranks must all be of one kind",
          node.name(), KindName(node.kind()), first->name(), KindName(first->kind())));
  }
  if (first == nullptr) return Status::BadInput("no rank node (GPU or PROCESS)");
  return Status::Ok();
}

// A process is a leaf joined to a CPU socket of its host by a MEMORY link.
Status CheckProcessLinks(const proto::Topology& topo, const NodeIndex& nodes) {
  std::vector<std::vector<const proto::Link*>> links_of(topo.nodes_size());
  for (const proto::Link& link : topo.links()) {
    links_of[nodes.at(link.a())].push_back(&link);
    links_of[nodes.at(link.b())].push_back(&link);
  }
  for (int i = 0; i < topo.nodes_size(); ++i) {
    const proto::Component& node = topo.nodes(i);
    if (node.kind() != proto::PROCESS) continue;
    const std::string want = "a PROCESS node needs exactly one link, a MEMORY link to a CPU "
                             "node of its host";
    if (links_of[i].size() != 1)
      return Status::BadInput(
          fmt::format("node '{}': {} links; {}", node.name(), links_of[i].size(), want));
    const proto::Link& link = *links_of[i][0];
    const proto::Component& other = topo.nodes(nodes.at(link.a() == node.name() ? link.b() : link.a()));
    if (link.kind() != proto::MEMORY || other.kind() != proto::CPU || other.host() != node.host())
      return Status::BadInput(fmt::format("node '{}': link '{}' is {} to {} '{}' of host {}; {}",
                                          node.name(), link.name(),
                                          proto::LinkKind_Name(link.kind()), KindName(other.kind()),
                                          other.name(), other.host(), want));
  }
  return Status::Ok();
}

Status CheckRanksConnected(const proto::Topology& topo, const NodeIndex& nodes) {
  const std::vector<std::string> ranks = RankNames(topo);
  const char* noun = RankNoun(RankKind(topo));
  std::vector<bool> seen = Reachable(topo, nodes, nodes.at(ranks[0]));
  for (const std::string& rank : ranks) {
    if (!seen[nodes.at(rank)])
      return Status::BadInput(
          fmt::format("{} '{}' is not connected to {} '{}'", noun, rank, noun, ranks[0]));
  }
  return Status::Ok();
}

}  // namespace

std::string RangeProblem(const std::string& name, double x, const FigureRange& range) {
  const bool above_min = range.min_exclusive ? x > range.min : x >= range.min;
  if (above_min && x <= range.max) return "";  // false for NaN too
  return fmt::format("{} {} outside {}{:g}, {:g}]{}{}", name, x, range.min_exclusive ? "(" : "[",
                     range.min, range.max, *range.unit ? " " : "", range.unit);
}

Status ValidateTopology(const proto::Topology& topo) {
  Status st = CheckGpuSpec(topo.gpu());
  if (st.ok()) {
    auto nodes = IndexNodes(topo);
    if (!nodes.ok()) return nodes.status().WithContext(topo.name());
    st = CheckLinks(topo, *nodes);
    if (st.ok()) st = CheckOneRankKind(topo);
    if (st.ok()) st = CheckProcessLinks(topo, *nodes);
    if (st.ok()) st = CheckRanksConnected(topo, *nodes);
    if (st.ok()) st = ValidateNccl(topo);
  }
  return topo.name().empty() ? st : st.WithContext("topology " + topo.name());
}

Result<proto::Topology> LoadTopology(const std::string& path) {
  proto::Topology topo;
  EPSIM_RETURN_IF_ERROR(ReadTextProto(path, &topo));
  EPSIM_RETURN_IF_ERROR(ValidateTopology(topo).WithContext(path));
  return topo;
}

bool IsRankNode(const proto::Component& node) {
  return node.kind() == proto::GPU || node.kind() == proto::PROCESS;
}

std::vector<std::string> RankNames(const proto::Topology& topo) {
  std::vector<std::string> names;
  for (const proto::Component& node : topo.nodes()) {
    if (IsRankNode(node)) names.push_back(node.name());
  }
  return names;
}

proto::ComponentKind RankKind(const proto::Topology& topo) {
  for (const proto::Component& node : topo.nodes()) {
    if (IsRankNode(node)) return node.kind();
  }
  return proto::GPU;
}

const char* RankNoun(proto::ComponentKind kind, bool plural) {
  if (kind == proto::PROCESS) return plural ? "processes" : "process";
  return plural ? "GPUs" : "GPU";
}

}  // namespace epsim::topology
