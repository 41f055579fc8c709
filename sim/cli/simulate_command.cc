// epsim simulate: replay a routing trace (or a seeded synthetic one) on a
// simulated cluster under one or more dispatch strategies.
#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include "sim/base/file_util.h"
#include "sim/cli/commands.h"
#include "sim/cli/data_paths.h"
#include "sim/cli/inputs.h"
#include "sim/dispatch/strategy.h"
#include "sim/engine/simulator.h"
#include "sim/engine/topology.h"
#include "sim/placement/placement.h"
#include "sim/plan/model.h"
#include "sim/plan/schedule_builder.h"
#include "sim/report/report.h"
#include "sim/trace/reader.h"
#include "sim/trace/synth.h"

namespace epsim::cli {
namespace {

struct SimulateOptions {
  std::string trace;  // empty: generate a uniform synthetic trace
  std::string model;  // empty: the trace's model, or olmoe-1b-7b for synthetic
  std::string topology = "a6000-x4-pcie-gen4";
  uint32_t ep = 0;    // 0: every GPU of the topology
  std::string dispatch = "classical,dedup";
  std::string placement = "contiguous";
  std::string format = "console";
  std::string csv;
  std::string timeline;
  uint64_t tokens = 16384;
  uint64_t seed = 1;
};

constexpr char kDefaultModel[] = "olmoe-1b-7b";

Result<trace::Trace> LoadOrGenerate(const SimulateOptions& opt, const proto::Model& model) {
  if (!opt.trace.empty()) return trace::ReadTrace(opt.trace);
  trace::UniformTraceOptions synth;
  synth.model = model.name();
  synth.num_experts = model.num_experts();
  synth.num_topk = model.num_topk();
  for (uint32_t l = model.num_dense_layers(); l < model.num_layers(); ++l) synth.layers.push_back(l);
  synth.num_tokens = opt.tokens;
  synth.seed = opt.seed;
  return trace::GenerateUniformTrace(synth);
}

// The model named by --model, else by the trace header, else the default.
Result<proto::Model> LoadModelFor(const SimulateOptions& opt) {
  std::string name = opt.model;
  if (name.empty() && !opt.trace.empty()) {
    EPSIM_ASSIGN_OR_RETURN(auto reader, trace::TraceReader::Open(opt.trace));
    name = reader->header().model();
    if (name.empty()) return Status::Usage(opt.trace + ": trace names no model; give --model");
  }
  if (name.empty()) name = kDefaultModel;
  return plan::LoadModel(ResolveDataFile("models", name));
}

report::RunInfo MakeRunInfo(const SimulateOptions& opt, const proto::Model& model,
                            const proto::Topology& topo, uint32_t ep) {
  report::RunInfo info;
  info.command = "simulate";
  info.inputs = {
      {"trace", opt.trace.empty()
                    ? fmt::format("synthetic uniform routing, {} tokens, seed {}", opt.tokens,
                                  opt.seed)
                    : opt.trace},
      {"model", model.name()},
      {"topology", topo.name()},
      {"ep", std::to_string(ep)},
      {"placement", opt.placement},
      {"dispatch", opt.dispatch},
      {"pass", "prefill"}};
  return info;
}

Status WriteOutputs(const SimulateOptions& opt, const report::RunInfo& info,
                    const std::vector<proto::Report>& reports) {
  EPSIM_ASSIGN_OR_RETURN(report::Format format, report::ParseFormat(opt.format));
  if (!opt.csv.empty())
    EPSIM_RETURN_IF_ERROR(WriteFileAtomically(opt.csv, report::SimulationCsv(reports)));
  if (!opt.timeline.empty())
    EPSIM_RETURN_IF_ERROR(report::WriteChromeTrace(opt.timeline, reports));
  report::WriteSimulation(std::cout, format, info, reports);
  return Status::Ok();
}

Status Run(const SimulateOptions& opt, const std::vector<std::string>& simgrid_args) {
  const auto wall_start = std::chrono::steady_clock::now();
  EPSIM_ASSIGN_OR_RETURN(report::Format format, report::ParseFormat(opt.format));
  (void)format;  // checked before the slow part
  EPSIM_ASSIGN_OR_RETURN(proto::Topology topo,
                         engine::LoadTopology(ResolveDataFile("topologies", opt.topology)));
  EPSIM_ASSIGN_OR_RETURN(proto::Model model, LoadModelFor(opt));
  const uint32_t num_gpus = static_cast<uint32_t>(engine::GpuNames(topo).size());
  const uint32_t ep = opt.ep == 0 ? num_gpus : opt.ep;
  if (ep > num_gpus)
    return Status::Usage(fmt::format("--ep {} but topology {} has {} GPUs", ep, topo.name(),
                                     num_gpus));
  EPSIM_ASSIGN_OR_RETURN(auto strategies, dispatch::MakeStrategies(opt.dispatch));
  EPSIM_ASSIGN_OR_RETURN(placement::Placement placement,
                         placement::MakePlacement(opt.placement, model.num_experts(), ep));
  EPSIM_ASSIGN_OR_RETURN(trace::Trace trace, LoadOrGenerate(opt, model));
  const placement::LayerPlacements placements(std::move(placement));
  const dispatch::ClusterMap cluster = ClusterOf(topo, ep);
  std::vector<proto::Schedule> schedules;
  for (const auto& strategy : strategies) {
    EPSIM_ASSIGN_OR_RETURN(proto::Schedule s,
                           plan::BuildSchedule({trace, model, placements, *strategy, cluster}));
    schedules.push_back(std::move(s));
  }
  engine::SimOptions sim_opt;
  sim_opt.simgrid_args = simgrid_args;
  EPSIM_ASSIGN_OR_RETURN(engine::SimResult result, engine::Simulate(topo, schedules, sim_opt));
  report::RunInfo info = MakeRunInfo(opt, model, topo, ep);
  info.settings = result.settings;
  EPSIM_RETURN_IF_ERROR(WriteOutputs(opt, info, result.reports));
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - wall_start;
  std::cerr << fmt::format("epsim: simulated {} strategies in {:.3f} s wall time\n",
                           schedules.size(), wall.count());
  return Status::Ok();
}

}  // namespace

Runner AddSimulateCommand(CLI::App& app, const std::vector<std::string>* simgrid_args) {
  auto opt = std::make_shared<SimulateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "simulate", "Simulate one forward pass (prefill) under each dispatch strategy");
  cmd->add_option("--trace", opt->trace,
                  "Trace file; without it a seeded uniform synthetic trace is generated");
  cmd->add_option("--model", opt->model,
                  "Model name (models/) or file; default: the trace's model, or " +
                      std::string(kDefaultModel));
  cmd->add_option("--topology", opt->topology, "Topology name (topologies/) or file")
      ->capture_default_str();
  cmd->add_option("--ep", opt->ep, "Expert-parallel size; 0 = every GPU of the topology")
      ->capture_default_str();
  cmd->add_option("--dispatch", opt->dispatch, "Comma-separated dispatch strategies")
      ->capture_default_str();
  cmd->add_option("--placement", opt->placement, "Expert placement")->capture_default_str();
  cmd->add_option("--format", opt->format, "Output on stdout: console, csv or json")
      ->capture_default_str();
  cmd->add_option("--csv", opt->csv, "Also write the CSV records to this file");
  cmd->add_option("--timeline", opt->timeline, "Write a Chrome trace (Perfetto) to this file");
  cmd->add_option("--tokens", opt->tokens, "Tokens per layer of the synthetic trace")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Seed of the synthetic trace")->capture_default_str();
  cmd->footer("SimGrid flags (--cfg=..., --log=...) pass through to the simulation engine.");
  return [opt, simgrid_args]() { return Run(*opt, *simgrid_args); };
}

}  // namespace epsim::cli
