#include "sim/topology/topology.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <unordered_map>
#include <utility>

#include "sim/base/file_util.h"
#include "sim/topology/transport.h"

namespace epsim::topology {

namespace {

using NodeIndex = std::unordered_map<std::string, int>;

Status CheckGpuSpec(const proto::GpuSpec& gpu) {
  if (!(gpu.peak_flops() > 0))
    return Status::BadInput(fmt::format("gpu.peak_flops {} must be > 0", gpu.peak_flops()));
  if (!(gpu.mem_bw_gb_per_s() > 0))
    return Status::BadInput(
        fmt::format("gpu.mem_bw_gb_per_s {} must be > 0", gpu.mem_bw_gb_per_s()));
  auto in_unit = [](double x) { return x > 0 && x <= 1; };
  if (!in_unit(gpu.compute_efficiency()))
    return Status::BadInput(fmt::format("gpu.compute_efficiency {} must be in (0, 1]",
                                        gpu.compute_efficiency()));
  if (!in_unit(gpu.memory_efficiency()))
    return Status::BadInput(fmt::format("gpu.memory_efficiency {} must be in (0, 1]",
                                        gpu.memory_efficiency()));
  if (!(gpu.launch_us() >= 0))
    return Status::BadInput(fmt::format("gpu.launch_us {} must be >= 0", gpu.launch_us()));
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
  if (!(link.bw_gb_per_s() > 0))
    return Status::BadInput(fmt::format("bw_gb_per_s {} must be > 0", link.bw_gb_per_s()));
  if (!(link.latency_us() >= 0))
    return Status::BadInput(fmt::format("latency_us {} must be >= 0", link.latency_us()));
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

Status CheckGpusConnected(const proto::Topology& topo, const NodeIndex& nodes) {
  std::vector<std::string> gpus = GpuNames(topo);
  if (gpus.empty()) return Status::BadInput("no GPU node");
  std::vector<bool> seen = Reachable(topo, nodes, nodes.at(gpus[0]));
  for (const std::string& gpu : gpus) {
    if (!seen[nodes.at(gpu)])
      return Status::BadInput(
          fmt::format("GPU '{}' is not connected to GPU '{}'", gpu, gpus[0]));
  }
  return Status::Ok();
}

}  // namespace

Status ValidateTopology(const proto::Topology& topo) {
  Status st = CheckGpuSpec(topo.gpu());
  if (st.ok()) {
    auto nodes = IndexNodes(topo);
    if (!nodes.ok()) return nodes.status().WithContext(topo.name());
    st = CheckLinks(topo, *nodes);
    if (st.ok()) st = CheckGpusConnected(topo, *nodes);
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

std::vector<std::string> GpuNames(const proto::Topology& topo) {
  std::vector<std::string> names;
  for (const proto::Node& node : topo.nodes()) {
    if (node.kind() == proto::GPU) names.push_back(node.name());
  }
  return names;
}

}  // namespace epsim::topology
