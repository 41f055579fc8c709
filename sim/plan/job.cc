#include "sim/plan/job.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iomanip>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "sim/base/data_paths.h"
#include "sim/dispatch/profile.h"
#include "sim/dispatch/strategies.h"
#include "sim/placement/resolve.h"
#include "sim/placement/topology_groups.h"
#include "sim/plan/model.h"
#include "sim/plan/plan_file.h"
#include "sim/plan/schedule_builder.h"
#include "sim/plan/stream_count.h"
#include "sim/topology/topology.h"
#include "sim/topology/transport.h"
#include "sim/trace/reader.h"
#include "sim/synth/uniform.h"
#include "sim/synth/model.h"

namespace epsim::plan {
namespace {

// The model named by --model, else by the trace header, else the default;
// `file` gets the file it was read from.
Result<proto::Model> LoadModelFor(const RunFlags& flags, std::string* file) {
  std::string name = flags.model;
  if (name.empty() && !flags.trace.empty()) {
    EPSIM_ASSIGN_OR_RETURN(auto reader, trace::TraceReader::Open(flags.trace));
    name = reader->header().model();
    if (name.empty()) return Status::Usage(flags.trace + ": trace names no model; give --model");
  }
  if (name.empty()) name = kDefaultModel;
  EPSIM_ASSIGN_OR_RETURN(*file, ResolveDataFile("models", name));
  return LoadModel(*file);
}

// The synthetic trace of a run without --trace: the model's fitted routing
// (models/<name>.routing.json, made by `epsim synth --save-params`, found
// along the data search path) when there is one, else uniformly random
// routing. Either way with 2k candidates per token (capped at E) so pruning
// strategies have some. `routing_file` gets the fitted file used, if any.
Result<trace::Trace> GenerateFor(const RunFlags& flags, const proto::Model& model,
                                 std::string* label, std::string* routing_file) {
  const uint32_t candidates = std::min(model.num_experts(), 2 * model.num_topk());
  Result<std::string> fitted = FindDataFile("models/" + model.name() + ".routing.json");
  if (fitted.ok()) {
    *routing_file = *fitted;
    EPSIM_ASSIGN_OR_RETURN(synth::RoutingModel routing, synth::LoadRoutingModel(*fitted));
    *label = fmt::format("synthetic, routing fitted to real statistics, "
                         "{} tokens, seed {}",
                         flags.tokens, flags.seed);
    return synth::GenerateModelTrace(routing, {flags.tokens, 2048, candidates, flags.seed});
  }
  synth::UniformTraceOptions synth;
  synth.model = model.name();
  synth.num_experts = model.num_experts();
  synth.num_topk = model.num_topk();
  for (uint32_t l = model.num_dense_layers(); l < model.num_layers(); ++l) synth.layers.push_back(l);
  synth.num_tokens = flags.tokens;
  synth.seed = flags.seed;
  *label = fmt::format("synthetic uniform routing, {} tokens, seed {}", flags.tokens, flags.seed);
  return synth::GenerateUniformTrace(synth);
}

}  // namespace

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

std::string JobArgs(const JobSpec& job) {
  const RunFlags& f = job.flags;
  std::ostringstream out;
  auto add = [&out](const char* flag, const std::string& value) {
    if (out.tellp() > 0) out << ' ';
    out << flag << ' ';
    if (value.empty() || value.find_first_of(" \t\"\\") != std::string::npos)
      out << std::quoted(value);
    else
      out << value;
  };
  if (!f.trace.empty()) add("--trace", f.trace);
  if (!f.model.empty()) add("--model", f.model);
  add("--tokens", std::to_string(f.tokens));
  add("--seed", std::to_string(f.seed));
  add("--ep", std::to_string(f.ep));
  if (!f.profile.empty()) add("--profile", f.profile);
  if (!f.similarity.empty()) add("--similarity", f.similarity);
  if (f.ranks_per_host > 0) add("--ranks-per-host", std::to_string(f.ranks_per_host));
  if (f.overlap != "none") add("--overlap", f.overlap);
  if (f.pass != "prefill") add("--pass", f.pass);
  if (f.context > 0) add("--context", std::to_string(f.context));
  if (f.recompute) add("--recompute", "on");
  add("--dispatch", job.dispatch);
  add("--placement", job.placement);
  return out.str();
}

Result<JobSpec> ParseJobArgs(const std::string& text) {
  JobSpec job;
  job.flags.topology.clear();
  std::istringstream in(text);
  std::string flag;
  auto number = [](const std::string& flag, const std::string& value) -> Result<uint64_t> {
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size())
      return Status::BadInput(fmt::format("job: {} '{}' is not a whole number", flag, value));
    return v;
  };
  while (in >> flag) {
    std::string value;
    if (!(in >> std::quoted(value)))
      return Status::BadInput(fmt::format("job: {} has no value", flag));
    if (flag == "--trace") {
      job.flags.trace = value;
    } else if (flag == "--model") {
      job.flags.model = value;
    } else if (flag == "--profile") {
      job.flags.profile = value;
    } else if (flag == "--similarity") {
      job.flags.similarity = value;
    } else if (flag == "--pass") {
      if (!PassFromName(value).ok())
        return Status::BadInput(
            fmt::format("job: --pass '{}' is not one of prefill, decode, train", value));
      job.flags.pass = value;
    } else if (flag == "--recompute") {
      if (value != "on" && value != "off")
        return Status::BadInput(fmt::format("job: --recompute '{}' is not on or off", value));
      job.flags.recompute = value == "on";
    } else if (flag == "--context") {
      EPSIM_ASSIGN_OR_RETURN(job.flags.context, number(flag, value));
    } else if (flag == "--overlap") {
      if (!OverlapFromName(value).ok())
        return Status::BadInput(fmt::format("job: --overlap '{}' is not one of none, "
                                            "shared-expert, scmoe, micro-batches", value));
      job.flags.overlap = value;
    } else if (flag == "--dispatch") {
      job.dispatch = value;
    } else if (flag == "--placement") {
      job.placement = value;
    } else if (flag == "--tokens" || flag == "--seed" || flag == "--ep" ||
               flag == "--ranks-per-host") {
      EPSIM_ASSIGN_OR_RETURN(uint64_t v, number(flag, value));
      if (flag == "--tokens") job.flags.tokens = v;
      if (flag == "--seed") job.flags.seed = v;
      if ((flag == "--ep" || flag == "--ranks-per-host") && v > UINT32_MAX)
        return Status::BadInput(fmt::format("job: {} {} is out of range", flag, v));
      if (flag == "--ep") job.flags.ep = static_cast<uint32_t>(v);
      if (flag == "--ranks-per-host") job.flags.ranks_per_host = static_cast<uint32_t>(v);
    } else {
      return Status::BadInput(fmt::format("job: unknown flag '{}'", flag));
    }
  }
  if (job.dispatch.empty() || job.placement.empty())
    return Status::BadInput("job: --dispatch and --placement are required");
  return job;
}

Result<RunInputs> LoadRunInputs(const RunFlags& flags, TraceRows rows) {
  if (!flags.trace.empty() && flags.tokens_given)
    return Status::Usage(fmt::format(
        "--tokens {} sizes the synthetic trace, but --trace {} replays that trace's own tokens: "
        "give one", flags.tokens, flags.trace));
  RunInputs in;
  in.flags = flags;
  EPSIM_ASSIGN_OR_RETURN(in.topology_file, ResolveDataFile("topologies", flags.topology));
  EPSIM_ASSIGN_OR_RETURN(in.topology, topology::LoadTopology(in.topology_file));
  // Every pair needs a transport under the file's P2P policy (SHM needs a
  // CPU): said here, where the file is known.
  if (Result<topology::TransportTable> transports =
          topology::TransportTable::Build(in.topology, in.topology.nccl().p2p());
      !transports.ok())
    return transports.status().WithContext(in.topology_file);
  EPSIM_ASSIGN_OR_RETURN(in.model, LoadModelFor(flags, &in.model_file));
  const uint32_t num_gpus = static_cast<uint32_t>(topology::RankNames(in.topology).size());
  in.ep = flags.ep == 0 ? num_gpus : flags.ep;
  if (in.ep > num_gpus)
    return Status::Usage(fmt::format("--ep {} but topology {} has {} GPUs", in.ep,
                                     in.topology.name(), num_gpus));
  if (flags.trace.empty()) {
    EPSIM_ASSIGN_OR_RETURN(in.trace,
                           GenerateFor(flags, in.model, &in.trace_label, &in.routing_file));
  } else {
    // A pipe or FIFO cannot be opened twice (header, then rows): read whole.
    std::error_code ec;
    if (rows == TraceRows::kStream && std::filesystem::is_regular_file(flags.trace, ec)) {
      EPSIM_ASSIGN_OR_RETURN(in.trace, ReadTraceSkeleton(flags.trace));
      in.streamed = in.trace.header.num_steps() <= 1;
    }
    if (!in.streamed) {
      EPSIM_ASSIGN_OR_RETURN(in.trace, trace::ReadTrace(flags.trace));
    }
    in.trace_label = flags.trace;
  }
  in.cluster = ClusterOf(in.topology, in.ep);
  if (flags.ranks_per_host > 0) {
    if (in.ep % flags.ranks_per_host != 0)
      return Status::Usage(fmt::format("--ranks-per-host {} does not divide --ep {}",
                                       flags.ranks_per_host, in.ep));
    for (uint32_t r = 0; r < in.ep; ++r) in.cluster.host_of_rank[r] = r / flags.ranks_per_host;
    in.cluster.num_hosts = in.ep / flags.ranks_per_host;
  }
  return in;
}

Result<placement::LayerPlacements> PlacementFor(const RunFlags& flags, const RunInputs& in,
                                                const std::string& name_or_file,
                                                const placement::LayerPlacements* partition) {
  if (!flags.profile.empty())
    return placement::ResolvePlacement(name_or_file, in.ep, flags.profile, &in.topology,
                                       partition);
  return placement::ResolvePlacement(name_or_file, in.ep, in.trace, in.trace_label,
                                     &in.topology, partition);
}

Result<proto::Schedule> PlanFor(const RunInputs& in, const placement::LayerPlacements& placements,
                                const dispatch::Strategy& strategy, ProfileCache* profiles) {
  EPSIM_RETURN_IF_ERROR(dispatch::CheckStrategyFits(strategy, in.trace.header.num_topk()));
  EPSIM_ASSIGN_OR_RETURN(const auto* layer_profiles, profiles->For(strategy));
  EPSIM_ASSIGN_OR_RETURN(const Overlap overlap, OverlapFromName(in.flags.overlap));
  EPSIM_ASSIGN_OR_RETURN(const Pass pass, PassFromName(in.flags.pass));
  return BuildSchedule({in.trace, in.model, placements, strategy, in.cluster, layer_profiles,
                        overlap, pass, in.flags.context, in.flags.recompute, &in.topology});
}

bool StreamsTrace(const RunFlags& flags, const std::string& placement,
                  const std::vector<const dispatch::Strategy*>& strategies) {
  if (flags.trace.empty() || flags.pass == "decode") return false;
  if (flags.profile.empty() && placement::ComputedFromTokens(placement)) return false;
  for (const dispatch::Strategy* s : strategies)
    if (s->luffy() != nullptr || (s->needs_profile() && flags.profile.empty())) return false;
  return true;
}

Result<std::vector<proto::Schedule>> PlanAll(const RunInputs& in,
                                             const placement::LayerPlacements& placements,
                                             const std::vector<const dispatch::Strategy*>& strategies,
                                             ProfileCache* profiles) {
  std::vector<proto::Schedule> out;
  if (!in.streamed) {
    for (const dispatch::Strategy* s : strategies) {
      EPSIM_ASSIGN_OR_RETURN(proto::Schedule schedule, PlanFor(in, placements, *s, profiles));
      out.push_back(std::move(schedule));
    }
    return out;
  }
  EPSIM_ASSIGN_OR_RETURN(const Overlap overlap, OverlapFromName(in.flags.overlap));
  EPSIM_ASSIGN_OR_RETURN(const Pass pass, PassFromName(in.flags.pass));
  std::vector<PlanInputs> plans;
  for (const dispatch::Strategy* s : strategies) {
    EPSIM_RETURN_IF_ERROR(dispatch::CheckStrategyFits(*s, in.trace.header.num_topk()));
    EPSIM_ASSIGN_OR_RETURN(const auto* layer_profiles, profiles->For(*s));
    plans.push_back({in.trace, in.model, placements, *s, in.cluster, layer_profiles, overlap, pass,
                     in.flags.context, in.flags.recompute, &in.topology});
  }
  // What BuildSchedule checks before counting, said before the file is read.
  for (PlanInputs& p : plans) {
    std::vector<CountedLayer> header_counts;
    for (const proto::LayerInfo& info : in.trace.header.layers())
      header_counts.push_back({info.layer(), info.num_tokens(), {}, {}});
    p.counted = &header_counts;
    EPSIM_RETURN_IF_ERROR(CheckCompatible(p));
    p.counted = nullptr;
  }
  EPSIM_ASSIGN_OR_RETURN(auto counted, CountStreamed(in.flags.trace, plans));
  for (size_t s = 0; s < plans.size(); ++s) {
    plans[s].counted = &counted[s];
    EPSIM_ASSIGN_OR_RETURN(proto::Schedule schedule, BuildSchedule(plans[s]));
    out.push_back(std::move(schedule));
  }
  return out;
}

Result<proto::Plan> ExecPlanFor(const RunInputs& in, const placement::LayerPlacements& placements,
                                const dispatch::Strategy& strategy, ProfileCache* profiles) {
  EPSIM_RETURN_IF_ERROR(dispatch::CheckStrategyFits(strategy, in.trace.header.num_topk()));
  EPSIM_ASSIGN_OR_RETURN(const auto* layer_profiles, profiles->For(strategy));
  EPSIM_ASSIGN_OR_RETURN(const Overlap overlap, OverlapFromName(in.flags.overlap));
  EPSIM_ASSIGN_OR_RETURN(const Pass pass, PassFromName(in.flags.pass));
  EPSIM_ASSIGN_OR_RETURN(proto::Plan plan,
                         BuildPlan({in.trace, in.model, placements, strategy, in.cluster,
                                    layer_profiles, overlap, pass, in.flags.context,
                                    in.flags.recompute, &in.topology}));
  plan.set_topology(in.topology.name());
  for (const auto& [key, value] : DescribeInputs(in)) (*plan.mutable_inputs())[key] = value;
  (*plan.mutable_inputs())["placement"] = placements.name();
  (*plan.mutable_inputs())["experts per device"] =
      placement::DescribeExpertsPerDevice(placements);
  (*plan.mutable_inputs())["dispatch"] = strategy.name();
  (*plan.mutable_inputs())["hosts"] = std::to_string(in.cluster.num_hosts);
  JobSpec job{in.flags, strategy.name(), placements.name()};
  job.flags.ep = in.ep;
  (*plan.mutable_inputs())["job"] = JobArgs(job);
  if (!profiles->description().empty())
    (*plan.mutable_inputs())["profiles"] = profiles->description();
  return plan;
}

std::vector<std::pair<std::string, std::string>> DescribeInputs(const RunInputs& in) {
  std::vector<std::pair<std::string, std::string>> lines = {
      {"trace", in.trace_label},
      {"model", in.model.name()},
      {"model file", DisplayPath(in.model_file)}};
  if (!in.routing_file.empty()) lines.push_back({"routing fit file", DisplayPath(in.routing_file)});
  lines.push_back({"topology", in.topology.name()});
  lines.push_back({"topology file", DisplayPath(in.topology_file)});
  lines.push_back({"ep", std::to_string(in.ep)});
  if (in.flags.overlap != "none") lines.push_back({"overlap", in.flags.overlap});
  if (in.flags.pass == "decode")
    lines.push_back({"pass", fmt::format("decode, KV cache of {} tokens per sequence before the "
                                         "first step", in.flags.context)});
  if (in.flags.pass == "train")
    lines.push_back({"pass", in.flags.recompute
                                 ? "train (forward, backward with activation recomputation, "
                                   "gradient all-reduce)"
                                 : "train (forward, backward, gradient all-reduce)"});
  return lines;
}

dispatch::ClusterMap ClusterOf(const proto::Topology& topology, uint32_t num_ranks) {
  dispatch::ClusterMap m;
  m.host_of_rank = placement::HostOfRank(&topology, num_ranks);
  m.num_hosts = m.host_of_rank.empty()
                    ? 1
                    : *std::max_element(m.host_of_rank.begin(), m.host_of_rank.end()) + 1;
  return m;
}

}  // namespace epsim::plan
