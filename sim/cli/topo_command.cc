// epsim topo show|check: look inside a topology file (devices, the route
// between two ranks, GPUs or processes, as the engine routes it) and check
// it for unreachable pairs, asymmetric routes and impossible figures.
#include <iostream>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "sim/base/file_util.h"
#include "sim/cli/commands.h"
#include "sim/base/data_paths.h"
#include "sim/topology/topology.h"
#include "sim/topology/topology_paths.h"
#include "sim/report/topology_output.h"

namespace epsim::cli {
namespace {

struct TopoOptions {
  std::string path;
  std::string p2p;   // --p2p; empty: the file's
  std::string from;  // rank node name or rank number; default rank 0
  std::string to;    // rank node name or rank number; default the last rank
};

// A rank given by its node's name or by its number.
Result<std::string> ResolveRank(const std::vector<std::string>& ranks, const char* noun,
                                const std::string& arg) {
  if (std::find(ranks.begin(), ranks.end(), arg) != ranks.end()) return arg;
  if (!arg.empty() && std::all_of(arg.begin(), arg.end(), ::isdigit)) {
    const size_t rank = std::stoul(arg);
    if (rank < ranks.size()) return ranks[rank];
  }
  return Status::BadInput(fmt::format("no {} '{}' (give a {} name or a rank < {})", noun, arg,
                                      noun, ranks.size()));
}

Status Show(const TopoOptions& opt) {
  const std::string path = ResolveDataFile("topologies", opt.path);
  EPSIM_ASSIGN_OR_RETURN(proto::Topology topo, topology::LoadTopology(path));
  const std::vector<std::string> ranks = topology::RankNames(topo);
  const char* noun = topology::RankNoun(topology::RankKind(topo));
  EPSIM_ASSIGN_OR_RETURN(std::string from,
                         ResolveRank(ranks, noun, opt.from.empty() ? "0" : opt.from));
  EPSIM_ASSIGN_OR_RETURN(
      std::string to,
      ResolveRank(ranks, noun, opt.to.empty() ? std::to_string(ranks.size() - 1) : opt.to));
  proto::P2pPolicy policy = topo.nccl().p2p();
  if (!opt.p2p.empty()) {
    EPSIM_ASSIGN_OR_RETURN(policy, topology::ParseP2pPolicy(opt.p2p));
  }
  Result<topology::TransportTable> built = topology::TransportTable::Build(topo, policy);
  if (!built.ok()) return built.status().WithContext(path);
  const topology::TransportTable& table = *built;
  const auto rank_of = [&](const std::string& name) {
    return static_cast<int>(std::find(ranks.begin(), ranks.end(), name) - ranks.begin());
  };
  report::WriteTopologyDevices(std::cout, opt.path, topo);
  report::WriteNcclModel(std::cout, table);
  if (from != to) report::WriteTopologyPath(std::cout, topo, table, rank_of(from), rank_of(to));
  return Status::Ok();
}

Status Check(const TopoOptions& opt) {
  const std::string path = ResolveDataFile("topologies", opt.path);
  proto::Topology topo;
  EPSIM_RETURN_IF_ERROR(ReadTextProto(path, &topo));
  const topology::CheckSummary summary = topology::CheckTopology(topo);
  report::WriteTopologyCheck(std::cout, opt.path, summary);
  for (const topology::Finding& f : summary.findings) {
    if (f.severity == topology::Finding::Severity::kError)
      return Status::BadInput(fmt::format("{}: {}: {}", opt.path, f.where, f.message));
  }
  return Status::Ok();
}

}  // namespace

Runner AddTopoCommand(CLI::App& app) {
  auto opt = std::make_shared<TopoOptions>();
  CLI::App* cmd = app.add_subcommand("topo", "Inspect and check hardware topology files");
  cmd->require_subcommand(1);
  CLI::App* show = cmd->add_subcommand(
      "show", "Print the devices and the route between two ranks (GPUs or processes), as the "
              "engine routes it");
  show->add_option("topology", opt->path, "Topology file, or a name in topologies/")->required();
  show->add_option("--from", opt->from, "GPU or process name, or rank number; default rank 0");
  show->add_option("--to", opt->to, "GPU or process name, or rank number; default the last rank");
  show->add_option("--p2p", opt->p2p, "on|off|auto: the transport rule to show (default: the "
                                      "file's nccl.p2p, auto)");
  show->footer("Routes: fewest links, ties to the node listed first in the file; SHM pairs go\n"
               "through the source rank's nearest CPU and its memory (processes of one host\n"
               "always do). Bandwidth GB/s per direction.");
  CLI::App* check = cmd->add_subcommand(
      "check", "Find unreachable rank pairs, asymmetric routes and impossible figures; "
               "exit 2 on the first error");
  check->add_option("topology", opt->path, "Topology file, or a name in topologies/")->required();
  return [opt, show, check]() -> Status {
    if (show->parsed()) return Show(*opt);
    if (check->parsed()) return Check(*opt);
    return Status::Usage("topo: give show or check");
  };
}

}  // namespace epsim::cli
