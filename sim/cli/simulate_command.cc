// epsim simulate: replay a routing trace (or a seeded synthetic one) on a
// simulated cluster under one or more dispatch strategies.
#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include "sim/base/file_util.h"
#include "sim/base/output_file.h"
#include "sim/cli/commands.h"
#include "sim/cli/inputs.h"
#include "sim/dispatch/strategy.h"
#include "sim/placement/placement.h"
#include "sim/report/report.h"

namespace epsim::cli {
namespace {

struct SimulateOptions {
  NetworkFlags network;  // --max-inflight, --p2p, --granularity
  RunFlags run;
  std::string dispatch = "classical,dedup";
  std::string placement = "contiguous";
  std::string format = "console";
  std::string csv;
  std::string timeline;
};

// The files --csv and --timeline name, checked before the simulation.
struct Outputs {
  OutputFile csv, timeline;
};
Result<Outputs> OpenOutputs(const SimulateOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(OutputFile csv, OutputFile::Open("--csv", opt.csv, OutputFile::Dash::kRefuse));
  EPSIM_ASSIGN_OR_RETURN(OutputFile timeline,
                         OutputFile::Open("--timeline", opt.timeline, OutputFile::Dash::kRefuse));
  return Outputs{std::move(csv), std::move(timeline)};
}

Status WriteOutputs(const SimulateOptions& opt, Outputs* out, const report::RunInfo& info,
                    const std::vector<proto::Report>& reports,
                    const std::vector<proto::Schedule>& schedules) {
  EPSIM_ASSIGN_OR_RETURN(report::Format format, report::ParseFormat(opt.format));
  // Both files or neither: the CSV is staged until the timeline is written.
  StagedFile csv;
  if (out->csv.given()) {
    EPSIM_ASSIGN_OR_RETURN(csv, StagedFile::Write(out->csv.path(), report::SimulationCsv(reports)));
  }
  if (out->timeline.given()) {
    EPSIM_RETURN_IF_ERROR(report::WriteChromeTrace(out->timeline.path(), reports, &schedules));
    EPSIM_RETURN_IF_ERROR(out->timeline.Finish());
  }
  if (out->csv.given()) {
    EPSIM_RETURN_IF_ERROR(csv.Commit());
    EPSIM_RETURN_IF_ERROR(out->csv.Finish());
  }
  // CSV has no header to carry the notes: they go with the progress lines.
  if (format == report::Format::kCsv)
    for (const std::string& note : info.notes) std::cerr << "epsim: note: " << note << "\n";
  report::WriteSimulation(std::cout, format, info, reports);
  return Status::Ok();
}

Status Run(const SimulateOptions& opt, const std::vector<std::string>& simgrid_args) {
  const auto wall_start = std::chrono::steady_clock::now();
  EPSIM_RETURN_IF_ERROR(report::ParseFormat(opt.format).status());  // before the slow part
  EPSIM_ASSIGN_OR_RETURN(Outputs outputs, OpenOutputs(opt));
  std::vector<std::string> repeated;
  EPSIM_ASSIGN_OR_RETURN(auto strategies, dispatch::MakeStrategies(opt.dispatch, &repeated));
  std::vector<const dispatch::Strategy*> planned;
  for (const auto& strategy : strategies) planned.push_back(strategy.get());
  // A trace file is read a layer at a time where the run allows it.
  const plan::TraceRows rows = plan::StreamsTrace(opt.run, opt.placement, planned)
                                   ? plan::TraceRows::kStream
                                   : plan::TraceRows::kInMemory;
  EPSIM_ASSIGN_OR_RETURN(RunInputs in, LoadRunInputs(opt.run, rows));
  EPSIM_ASSIGN_OR_RETURN(const placement::LayerPlacements placements,
                         PlacementFor(opt.run, in, opt.placement));
  ProfileCache profiles(opt.run, in);
  EPSIM_ASSIGN_OR_RETURN(std::vector<proto::Schedule> schedules,
                         plan::PlanAll(in, placements, planned, &profiles));
  InputLines extra = {
      {"placement", opt.placement},
      {"experts per device", placement::DescribeExpertsPerDevice(placements)},
      {"dispatch", opt.dispatch}};
  // A decode pass is described with the inputs (its KV-cache length).
  if (opt.run.pass == "prefill") extra.push_back({"pass", "prefill"});
  EPSIM_ASSIGN_OR_RETURN(engine::SimOptions sim_options, SimOptionsOf(opt.network, simgrid_args));
  EPSIM_ASSIGN_OR_RETURN(SimulatedRun run, SimulateRun("simulate", extra, in, profiles, schedules,
                                                        sim_options));
  run.info.notes = RunNotes(in, planned, "--dispatch", repeated);
  EPSIM_RETURN_IF_ERROR(WriteOutputs(opt, &outputs, run.info, run.result.reports, schedules));
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - wall_start;
  std::cerr << fmt::format("epsim: simulated {} strategies in {:.3f} s wall time\n",
                           schedules.size(), wall.count());
  return Status::Ok();
}

}  // namespace

Runner AddSimulateCommand(CLI::App& app, const std::vector<std::string>* simgrid_args) {
  auto opt = std::make_shared<SimulateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "simulate", "Simulate one pass (prefill, or decode with --pass) under each dispatch strategy");
  AddRunFlags(cmd, &opt->run);
  AddLayoutFlag(cmd, &opt->run);
  AddNetworkFlags(cmd, &opt->network);
  cmd->add_option("--dispatch", opt->dispatch,
                  "Comma-separated dispatch strategies (one listed twice runs once)")
      ->capture_default_str();
  cmd->add_option("--placement", opt->placement,
                  "Expert placement: contiguous, round-robin, occult, partition, replicate[:N] "
                  "(computed from the profile trace) or a placement file")
      ->capture_default_str();
  cmd->add_option("--format", opt->format, "Output on stdout: console, csv or json")
      ->check(CLI::IsMember({"console", "csv", "json"}))
      ->capture_default_str();
  cmd->add_option("--csv", opt->csv, "Also write the CSV records to this file");
  cmd->add_option("--timeline", opt->timeline, "Write a Chrome trace (Perfetto) to this file");
  cmd->footer("SimGrid flags (--cfg=..., --log=...) pass through to the simulation engine.");
  return [opt, simgrid_args]() { return Run(*opt, *simgrid_args); };
}

}  // namespace epsim::cli
