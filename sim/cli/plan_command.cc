// epsim plan: plan one strategy and write the plan file (schedule plus the
// routes of every token) that `epsim-hw run --plan` executes, so a plan made
// on a laptop runs unchanged on the GPU box.
#include <iostream>

#include <fmt/format.h>

#include "sim/base/output_file.h"
#include "sim/cli/commands.h"
#include "sim/cli/inputs.h"
#include "sim/plan/plan_file.h"

namespace epsim::cli {
namespace {

struct PlanOptions {
  RunFlags run;
  std::string dispatch = "dedup";
  std::string placement = "contiguous";
  std::string output;
};

Status Run(const PlanOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(OutputFile out, OutputFile::Open("-o", opt.output, OutputFile::Dash::kBinary));
  EPSIM_ASSIGN_OR_RETURN(auto strategy, dispatch::MakeStrategy(opt.dispatch));
  EPSIM_ASSIGN_OR_RETURN(RunInputs in, LoadRunInputs(opt.run));
  EPSIM_ASSIGN_OR_RETURN(const placement::LayerPlacements placements,
                         PlacementFor(opt.run, in, opt.placement));
  ProfileCache profiles(opt.run, in);
  EPSIM_ASSIGN_OR_RETURN(proto::Plan plan, plan::ExecPlanFor(in, placements, *strategy, &profiles));
  EPSIM_RETURN_IF_ERROR(plan::WritePlan(out.path(), plan));
  EPSIM_RETURN_IF_ERROR(out.Finish());
  uint64_t tokens = 0;
  for (const proto::LayerRoutes& l : plan.layers()) tokens += l.num_tokens();
  std::cerr << fmt::format("epsim: wrote {}: {} ranks, {} MoE layers, {} token rows, {} phases "
                           "({} / {} on {})\n",
                           out.label(), plan.schedule().num_ranks(), plan.layers_size(), tokens,
                           plan.schedule().phases_size(), strategy->name(), placements.name(),
                           in.topology.name());
  return Status::Ok();
}

}  // namespace

Runner AddPlanCommand(CLI::App& app) {
  auto opt = std::make_shared<PlanOptions>();
  CLI::App* cmd = app.add_subcommand(
      "plan", "Plan one strategy and write the plan file epsim-hw executes");
  AddRunFlags(cmd, &opt->run);
  AddLayoutFlag(cmd, &opt->run);
  cmd->add_option("--dispatch", opt->dispatch, "Dispatch strategy")->capture_default_str();
  cmd->add_option("--placement", opt->placement, "Expert placement (name or file)")
      ->capture_default_str();
  cmd->add_option("-o,--output", opt->output, "Plan file to write (binary protobuf; '-': stdout, not a terminal)")
      ->required();
  return [opt]() { return Run(*opt); };
}

}  // namespace epsim::cli
