// epsim place --trace PROFILE --ep D --algorithm NAME [--topology T]
//             [--replica-slots N] [--seed S] -o placement.textproto
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "sim/base/output_file.h"
#include "sim/cli/commands.h"
#include "sim/base/data_paths.h"
#include "sim/topology/topology.h"
#include "sim/placement/algorithms.h"
#include "sim/placement/placement_file.h"
#include "sim/report/placement_output.h"
#include "sim/trace/reader.h"

namespace epsim::cli {
namespace {

struct PlaceOptions {
  std::string trace;
  uint32_t ep = 4;
  std::string algorithm = "partition";
  std::string topology;  // empty: none
  uint32_t replica_slots = 0;
  uint64_t seed = 1;
  uint32_t random_starts = 8;
  uint32_t search_kicks = 40;
  std::string output;
};

constexpr char kHelpFooter[] =
    "Algorithms: contiguous (experts in order, E/D per rank), round-robin (e on e % D),\n"
    "occult (Occult's collaboration-graph greedy), partition (exact-balance Kernighan-Lin on\n"
    "co-activation from the greedy and other starts, then swap search on the profile's mean\n"
    "C_T; never worse than occult), replicate (partition plus EPLB-style copies of hot experts,\n"
    "--replica-slots extra copies per rank). With --topology, partition and replicate split\n"
    "experts along the topology's groups (hosts, sockets, PCIe switches, NVLink pairs).\n"
    "When D does not divide E, the first E mod D ranks hold one expert more (60 on 8:\n"
    "8, 8, 8, 8, 7, 7, 7, 7), for every algorithm.\n"
    "stdout, per profile layer: collab_intra = fraction of co-activated pairs on one device;\n"
    "ct_mean = mean distinct devices per token (primary copies); dev_imb = max/mean expected\n"
    "expert-token pairs per device.";

Status RunPlace(const PlaceOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(OutputFile out, OutputFile::Open("-o", opt.output, OutputFile::Dash::kText));
  std::unique_ptr<proto::Topology> topology;
  std::string topology_file;
  if (!opt.topology.empty()) {
    EPSIM_ASSIGN_OR_RETURN(topology_file, ResolveDataFile("topologies", opt.topology));
    EPSIM_ASSIGN_OR_RETURN(proto::Topology t, topology::LoadTopology(topology_file));
    topology = std::make_unique<proto::Topology>(std::move(t));
  }
  placement::PlacementSpec spec{opt.algorithm,  opt.ep,           opt.replica_slots,
                                topology.get(), opt.seed,         opt.random_starts,
                                opt.search_kicks};
  EPSIM_ASSIGN_OR_RETURN(trace::Trace trace, trace::ReadTrace(opt.trace));
  const trace::TraceStats profile = trace::ComputeTraceStats(trace);
  auto placements = placement::ComputePlacement(spec, profile, &trace);
  if (!placements.ok()) return placements.status().WithContext(opt.trace);
  const auto quality = placement::EvaluatePlacement(*placements, profile, &trace, topology.get());
  proto::PlacementFile file = placement::ToProto(*placements);
  file.set_profile_trace(opt.trace);
  if (topology) file.set_topology(topology->name());
  file.set_description(placement::DescribePlacement(spec, quality.back()));
  EPSIM_RETURN_IF_ERROR(placement::WritePlacementFile(out.path(), file));
  EPSIM_RETURN_IF_ERROR(out.Finish());
  // With -o -, stdout holds the placement file and the table goes to stderr.
  report::WritePlacementQuality(out.to_stdout() ? std::cerr : std::cout, opt.trace,
                                topology_file.empty() ? "" : DisplayPath(topology_file), opt.ep,
                                opt.algorithm, opt.seed,
                                placement::DescribeExpertsPerDevice(*placements), quality);
  std::cerr << fmt::format(
      "epsim: wrote {}: {} placement of {} experts on {} ranks, {} layers, profile mean "
      "ct_mean {:.4f}, collab_intra {:.4f}\n",
      out.label(), opt.algorithm, profile.num_experts, opt.ep, profile.layers.size(),
      quality.back().ct_mean, quality.back().collab_intra);
  return Status::Ok();
}

}  // namespace

Runner AddPlaceCommand(CLI::App& app) {
  auto opt = std::make_shared<PlaceOptions>();
  CLI::App* cmd = app.add_subcommand(
      "place", "Compute a per-layer expert placement from a profiling trace and save it");
  cmd->add_option("--trace", opt->trace, "Profiling trace")->required();
  cmd->add_option("--ep", opt->ep, "Expert-parallel size (devices)")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--algorithm", opt->algorithm, "Placement algorithm")
      ->check(CLI::IsMember(placement::AlgorithmNames()))
      ->capture_default_str();
  cmd->add_option("--topology", opt->topology,
                  "Topology name (topologies/) or file, for topology-aware placement");
  cmd->add_option("--replica-slots", opt->replica_slots,
                  "replicate: extra expert copies per rank (memory budget)")
      ->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Seed of the partitioner's random starts")
      ->capture_default_str();
  cmd->add_option("--random-starts", opt->random_starts, "partition: random starts")
      ->capture_default_str();
  cmd->add_option("--search-kicks", opt->search_kicks,
                  "partition: iterated-local-search rounds on mean C_T per start")
      ->capture_default_str();
  cmd->add_option("-o,--output", opt->output, "Placement file to write (.textproto; '-': stdout, the table then on stderr)")->required();
  cmd->footer(kHelpFooter);
  return [opt]() { return RunPlace(*opt); };
}

}  // namespace epsim::cli
