// epsim topo show|check|from-smi: look inside a topology file (devices, the
// route between two ranks, GPUs or processes, as the engine routes it),
// check it for unreachable pairs, asymmetric routes and impossible figures,
// and write one from `nvidia-smi topo -m` output (sim/topology/smi_topo.h).
#include <iostream>

#include <fmt/format.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cctype>

#include "sim/base/file_util.h"
#include "sim/base/output_file.h"
#include "sim/cli/commands.h"
#include "sim/base/data_paths.h"
#include "sim/topology/smi_topo.h"
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
  EPSIM_ASSIGN_OR_RETURN(const std::string path, ResolveDataFile("topologies", opt.path));
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
  report::WriteTopologyDevices(std::cout, opt.path, DisplayPath(path), topo);
  report::WriteNcclModel(std::cout, table);
  if (from != to) report::WriteTopologyPath(std::cout, topo, table, rank_of(from), rank_of(to));
  return Status::Ok();
}

Status Check(const TopoOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(const std::string path, ResolveDataFile("topologies", opt.path));
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

struct FromSmiOptions {
  std::string input;
  std::string output;    // empty: stdout
  std::string gpu_spec;  // empty: the shipped spec of the log's GPU model
  std::string name;      // empty: the output's stem
  int pcie_gen = 4;
  double pcie_gbps = 0;
  double nvlink_gbps = topology::kSmiNvlinkGbPerS;
  std::string cpu_vendor = "intel";
  double cpu_link_gbps = 0;
  uint32_t host = 0;
  std::string p2p;  // empty: from the log
};

// --gpu-spec: a topology (a name in topologies/ or a file) whose gpu block
// to copy, or a file holding one GpuSpec in text format.
Result<proto::GpuSpec> LoadGpuSpec(const std::string& arg, std::string* from) {
  EPSIM_ASSIGN_OR_RETURN(*from, ResolveDataFile("topologies", arg));
  proto::Topology topo;
  const Status as_topology = ReadTextProto(*from, &topo);
  if (as_topology.ok() && topo.has_gpu()) return topo.gpu();
  proto::GpuSpec spec;
  const Status as_spec = ReadTextProto(*from, &spec);
  if (as_spec.ok()) return spec;
  if (as_topology.code() != Status::Code::kBadInput) return as_topology;
  return Status::BadInput(fmt::format("--gpu-spec {}: neither a topology with a gpu block ({}) "
                                      "nor a GpuSpec ({})", arg, as_topology.message(),
                                      as_spec.message()));
}

Result<proto::GpuSpec> GpuSpecFor(const FromSmiOptions& opt, const topology::SmiMatrix& m,
                                  std::string* from) {
  if (!opt.gpu_spec.empty()) return LoadGpuSpec(opt.gpu_spec, from);
  if (m.gpu_model.empty())
    return Status::Usage(fmt::format("{}: the log names no GPU model (no nvidia-smi table or "
                                     "nccl-tests device line): give --gpu-spec NAME_OR_FILE",
                                     opt.input));
  Result<proto::GpuSpec> shipped = topology::FindDataGpuSpec(m.gpu_model, from);
  if (shipped.ok()) return shipped;
  return Status::Usage(fmt::format(
      "{}:{}: the log names GPU '{}', and no topology in topologies/ has it: give --gpu-spec "
      "NAME_OR_FILE (a topology whose gpu block to copy, or a GpuSpec text file)", opt.input,
      m.gpu_model_line, m.gpu_model));
}

Status FromSmi(const FromSmiOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(OutputFile out, OutputFile::Open("-o", opt.output, OutputFile::Dash::kText));
  EPSIM_ASSIGN_OR_RETURN(std::string log, ReadFileToString(opt.input));
  EPSIM_ASSIGN_OR_RETURN(topology::SmiMatrix matrix, topology::ParseSmiTopo(log, opt.input));
  topology::SmiOptions so;
  std::string spec_from;
  EPSIM_ASSIGN_OR_RETURN(so.gpu, GpuSpecFor(opt, matrix, &spec_from));
  so.name = !opt.name.empty() || !out.given() || out.to_stdout() ? opt.name : FileStem(opt.output);
  so.pcie_gen = opt.pcie_gen;
  so.pcie_gb_per_s = opt.pcie_gbps;
  so.nvlink_gb_per_s = opt.nvlink_gbps;
  so.cpu_vendor = opt.cpu_vendor == "amd" ? proto::AMD : proto::INTEL;
  so.cpu_link_gb_per_s = opt.cpu_link_gbps;
  so.host = opt.host;
  if (!opt.p2p.empty()) {
    EPSIM_ASSIGN_OR_RETURN(so.p2p, topology::ParseP2pPolicy(opt.p2p));
  }
  std::vector<std::string> notes;
  EPSIM_ASSIGN_OR_RETURN(proto::Topology topo, topology::TopologyFromSmi(matrix, so, &notes));
  std::string text;
  google::protobuf::TextFormat::PrintToString(topo, &text);
  text = topology::SmiTopologyHeader(
             matrix, topo, notes,
             fmt::format("Written by `epsim topo from-smi` from {}; GPU spec from {}.",
                         opt.input, DisplayPath(spec_from))) + text;
  for (const std::string& note : notes) std::cerr << "epsim: note: " << note << "\n";
  if (!out.given()) {
    std::cout << text;
    return Status::Ok();
  }
  EPSIM_RETURN_IF_ERROR(WriteFileAtomically(out.path(), text));
  EPSIM_RETURN_IF_ERROR(out.Finish());
  std::cerr << "epsim: wrote " << out.label() << "\n";
  return Status::Ok();
}

CLI::App* AddFromSmi(CLI::App* cmd, FromSmiOptions* opt) {
  CLI::App* sub = cmd->add_subcommand(
      "from-smi", "Write a topology file from `nvidia-smi topo -m` output (a whole log will "
                  "do); exit 2 on a malformed matrix");
  sub->add_option("log", opt->input, "Text holding `nvidia-smi topo -m` output")->required();
  sub->add_option("-o,--output", opt->output, "Topology file to write (default or '-': stdout)");
  sub->add_option("--gpu-spec", opt->gpu_spec,
                  "Topology (name in topologies/ or file) whose gpu block to copy, or a GpuSpec "
                  "text file; default: the shipped spec of the GPU model the log names");
  sub->add_option("--name", opt->name, "Topology name (default: the output file's stem)");
  sub->add_option("--pcie-gen", opt->pcie_gen, "PCIe generation: NCCL's x16 rating, Gen3 12, "
                                               "Gen4 24, Gen5 48 GB/s")
      ->check(CLI::IsMember({3, 4, 5}))
      ->capture_default_str();
  sub->add_option("--pcie-gbps", opt->pcie_gbps, "PCIe GB/s per link and direction (overrides "
                                                 "--pcie-gen; 0: from it)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--nvlink-gbps", opt->nvlink_gbps, "GB/s per NVLink and direction (NV# "
                                                     "links get # times it)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--cpu-vendor", opt->cpu_vendor, "intel|amd: NCCL's P2P rule and the socket "
                                                   "link figure")
      ->check(CLI::IsMember({"intel", "amd"}))
      ->capture_default_str();
  sub->add_option("--cpu-link-gbps", opt->cpu_link_gbps, "CPU interconnect GB/s (0: "
                                                         "hardware.md's, Intel 10, AMD 16)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--host", opt->host, "Host index of every node (names get n<host>- when > 0)")
      ->capture_default_str();
  sub->add_option("--p2p", opt->p2p, "on|off|auto: nccl.p2p of the file (default: from the "
                                     "log's topo -p2p matrix or GPU model, else auto)")
      ->check(CLI::IsMember({"on", "off", "auto"}));
  sub->footer("Mapping and figures: sim/topology/smi_topo.h. The file opens with the matrix "
              "as read,\nthe PCIe tree built from it and what was inferred.");
  return sub;
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
                                      "file's nccl.p2p, auto)")
      ->check(CLI::IsMember({"on", "off", "auto"}));
  show->footer("Routes: fewest links, ties to the node listed first in the file; SHM pairs go\n"
               "through the source rank's nearest CPU and its memory (processes of one host\n"
               "always do). Bandwidth GB/s per direction.");
  CLI::App* check = cmd->add_subcommand(
      "check", "Find unreachable rank pairs, asymmetric routes and impossible figures; "
               "exit 2 on the first error");
  check->add_option("topology", opt->path, "Topology file, or a name in topologies/")->required();
  auto smi = std::make_shared<FromSmiOptions>();
  CLI::App* from_smi = AddFromSmi(cmd, smi.get());
  return [opt, show, check, smi, from_smi]() -> Status {
    if (show->parsed()) return Show(*opt);
    if (check->parsed()) return Check(*opt);
    if (from_smi->parsed()) return FromSmi(*smi);
    return Status::Usage("topo: give show, check or from-smi");
  };
}

}  // namespace epsim::cli
