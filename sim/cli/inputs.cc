#include "sim/cli/inputs.h"

#include "sim/topology/transport.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "sim/cli/data_paths.h"
#include "sim/dispatch/profile.h"
#include "sim/dispatch/strategies.h"
#include "sim/placement/resolve.h"
#include "sim/plan/schedule_builder.h"
#include "sim/topology/topology.h"
#include "sim/plan/model.h"
#include "sim/trace/reader.h"
#include "sim/trace/synth.h"
#include "sim/trace/synth_model.h"

namespace epsim::cli {
namespace {

// The model named by --model, else by the trace header, else the default.
Result<proto::Model> LoadModelFor(const RunFlags& flags) {
  std::string name = flags.model;
  if (name.empty() && !flags.trace.empty()) {
    EPSIM_ASSIGN_OR_RETURN(auto reader, trace::TraceReader::Open(flags.trace));
    name = reader->header().model();
    if (name.empty()) return Status::Usage(flags.trace + ": trace names no model; give --model");
  }
  if (name.empty()) name = kDefaultModel;
  return plan::LoadModel(ResolveDataFile("models", name));
}

// The synthetic trace of a run without --trace: the model's fitted routing
// (models/<name>.routing.json, made by `epsim synth --save-params`) when the
// project ships one, else uniformly random routing. Either way with 2k
// candidates per token (capped at E) so pruning strategies have some.
Result<trace::Trace> GenerateFor(const RunFlags& flags, const proto::Model& model,
                                 std::string* label) {
  const uint32_t candidates = std::min(model.num_experts(), 2 * model.num_topk());
  const std::string fitted = DataDir() + "/models/" + model.name() + ".routing.json";
  if (std::filesystem::exists(fitted)) {
    EPSIM_ASSIGN_OR_RETURN(trace::RoutingModel routing, trace::LoadRoutingModel(fitted));
    *label = fmt::format("synthetic, routing fitted to real statistics (models/{}.routing.json), "
                         "{} tokens, seed {}",
                         model.name(), flags.tokens, flags.seed);
    return trace::GenerateModelTrace(routing, {flags.tokens, 2048, candidates, flags.seed});
  }
  trace::UniformTraceOptions synth;
  synth.model = model.name();
  synth.num_experts = model.num_experts();
  synth.num_topk = model.num_topk();
  for (uint32_t l = model.num_dense_layers(); l < model.num_layers(); ++l) synth.layers.push_back(l);
  synth.num_tokens = flags.tokens;
  synth.seed = flags.seed;
  *label = fmt::format("synthetic uniform routing, {} tokens, seed {}", flags.tokens, flags.seed);
  return trace::GenerateUniformTrace(synth);
}

}  // namespace

void AddRunFlags(CLI::App* cmd, RunFlags* f) {
  cmd->add_option("--trace", f->trace,
                  "Trace file; without it a seeded synthetic trace is generated");
  cmd->add_option("--model", f->model,
                  "Model name (models/) or file; default: the trace's model, or " +
                      std::string(kDefaultModel));
  cmd->add_option("--topology", f->topology, "Topology name (topologies/) or file")
      ->capture_default_str();
  cmd->add_option("--ep", f->ep, "Expert-parallel size; 0 = every GPU of the topology")
      ->capture_default_str();
  cmd->add_option("--tokens", f->tokens, "Tokens per layer of the synthetic trace")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--seed", f->seed, "Seed of the synthetic trace")->capture_default_str();
  cmd->add_option("--profile", f->profile,
                  "Trace to profile for c2r partners and pruning similarity (default: the "
                  "replayed trace)");
  cmd->add_option("--similarity", f->similarity,
                  "Expert similarity JSON for pruned:N:similarity (default: estimated from "
                  "the profile trace's scores)");
}

Result<const std::map<uint32_t, dispatch::LayerProfile>*> ProfileCache::For(
    const dispatch::Strategy& s) {
  if (!s.needs_profile()) return nullptr;
  if (built_) return &profiles_;
  const uint32_t e = in_.model.num_experts();
  if (flags_.profile.empty()) {
    profiles_ = dispatch::BuildProfiles(in_.trace);
    description_ = "profile: the replayed trace";
  } else {
    EPSIM_ASSIGN_OR_RETURN(profiles_, dispatch::BuildProfiles(flags_.profile, e));
    description_ = "profile: " + flags_.profile;
  }
  if (!flags_.similarity.empty()) {
    EPSIM_ASSIGN_OR_RETURN(dispatch::SimilarityTables tables,
                           dispatch::ReadSimilarityFile(flags_.similarity, e));
    std::vector<uint32_t> layers;
    for (const trace::LayerRouting& l : in_.trace.layers) layers.push_back(l.layer);
    EPSIM_RETURN_IF_ERROR(dispatch::ApplySimilarity(tables, layers, &profiles_));
    description_ += "; similarity: " + flags_.similarity;
  } else {
    description_ += "; similarity: " + dispatch::DescribeSimilarityEstimate(
                                           in_.trace.header.num_topk(),
                                           in_.trace.header.num_candidates());
  }
  built_ = true;
  return &profiles_;
}

Result<RunInputs> LoadRunInputs(const RunFlags& flags) {
  RunInputs in;
  EPSIM_ASSIGN_OR_RETURN(in.topology,
                         topology::LoadTopology(ResolveDataFile("topologies", flags.topology)));
  EPSIM_ASSIGN_OR_RETURN(in.model, LoadModelFor(flags));
  const uint32_t num_gpus = static_cast<uint32_t>(topology::GpuNames(in.topology).size());
  in.ep = flags.ep == 0 ? num_gpus : flags.ep;
  if (in.ep > num_gpus)
    return Status::Usage(fmt::format("--ep {} but topology {} has {} GPUs", in.ep,
                                     in.topology.name(), num_gpus));
  if (flags.trace.empty()) {
    EPSIM_ASSIGN_OR_RETURN(in.trace, GenerateFor(flags, in.model, &in.trace_label));
  } else {
    EPSIM_ASSIGN_OR_RETURN(in.trace, trace::ReadTrace(flags.trace));
    in.trace_label = flags.trace;
  }
  in.cluster = ClusterOf(in.topology, in.ep);
  return in;
}

Result<placement::LayerPlacements> PlacementFor(const RunFlags& flags, const RunInputs& in,
                                                const std::string& name_or_file) {
  if (!flags.profile.empty())
    return placement::ResolvePlacement(name_or_file, in.ep, flags.profile, &in.topology);
  return placement::ResolvePlacement(name_or_file, in.ep, in.trace, in.trace_label,
                                     &in.topology);
}

Result<proto::Schedule> PlanFor(const RunInputs& in, const placement::LayerPlacements& placements,
                                const dispatch::Strategy& strategy, ProfileCache* profiles) {
  EPSIM_RETURN_IF_ERROR(dispatch::CheckStrategyFits(strategy, in.trace.header.num_topk()));
  EPSIM_ASSIGN_OR_RETURN(const auto* layer_profiles, profiles->For(strategy));
  return plan::BuildSchedule(
      {in.trace, in.model, placements, strategy, in.cluster, layer_profiles});
}

Result<SimulatedRun> SimulateRun(const std::string& command, const InputLines& extra_inputs,
                                 const RunInputs& in, const ProfileCache& profiles,
                                 const std::vector<proto::Schedule>& schedules,
                                 const engine::SimOptions& sim_options) {
  SimulatedRun run;
  EPSIM_ASSIGN_OR_RETURN(run.result, engine::Simulate(in.topology, schedules, sim_options));
  run.info.command = command;
  run.info.inputs = DescribeInputs(in);
  run.info.inputs.insert(run.info.inputs.end(), extra_inputs.begin(), extra_inputs.end());
  if (!profiles.description().empty())
    run.info.inputs.push_back({"profiles", profiles.description()});
  run.info.settings = run.result.settings;
  return run;
}

void AddNetworkFlags(CLI::App* cmd, NetworkFlags* flags) {
  cmd->add_option("--max-inflight", flags->max_inflight,
                  "All-to-all transfers in flight per rank (NCCL-like window; pairwise order, "
                  "round k to (r+k) mod n); 0 = unlimited. Default: the topology's "
                  "nccl.max_peers_in_flight (8 unless the file says)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  cmd->add_option("--p2p", flags->p2p,
                  "on|off|auto: peer-to-peer between GPUs of a host, like NCCL_P2P_LEVEL=SYS "
                  "(on) or NCCL_P2P_DISABLE=1 (off, host shared memory); auto = NCCL's rule. "
                  "Default: the topology's nccl.p2p (auto)");
  cmd->add_option("--granularity", flags->granularity,
                  "pair|phase|auto: simulate all-to-alls as one transfer per GPU pair, or one "
                  "parallel task per phase (fluid optimum, for large EP); auto = pair up to 32 "
                  "ranks")
      ->capture_default_str();
}

Result<engine::SimOptions> SimOptionsOf(const NetworkFlags& flags,
                                        const std::vector<std::string>& simgrid_args) {
  engine::SimOptions opt;
  opt.simgrid_args = simgrid_args;
  if (flags.max_inflight >= 0) opt.max_inflight = static_cast<uint32_t>(flags.max_inflight);
  if (!flags.p2p.empty()) {
    EPSIM_ASSIGN_OR_RETURN(opt.p2p, topology::ParseP2pPolicy(flags.p2p));
  }
  EPSIM_ASSIGN_OR_RETURN(opt.granularity, engine::ParseGranularity(flags.granularity));
  return opt;
}

std::vector<std::pair<std::string, std::string>> DescribeInputs(const RunInputs& in) {
  return {{"trace", in.trace_label},
          {"model", in.model.name()},
          {"topology", in.topology.name()},
          {"ep", std::to_string(in.ep)}};
}

dispatch::ClusterMap ClusterOf(const proto::Topology& topology, uint32_t num_ranks) {
  dispatch::ClusterMap m;
  std::map<uint32_t, uint32_t> dense;
  for (const proto::Node& node : topology.nodes()) {
    if (node.kind() != proto::GPU || m.node_of_rank.size() == num_ranks) continue;
    auto [it, fresh] = dense.emplace(node.host(), static_cast<uint32_t>(dense.size()));
    m.node_of_rank.push_back(it->second);
  }
  m.num_nodes = static_cast<uint32_t>(dense.size());
  return m;
}

}  // namespace epsim::cli
