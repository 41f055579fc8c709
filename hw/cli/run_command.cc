// epsim-hw run: execute one plan on every launched rank and measure it.
// The plan comes from a plan file (`epsim plan -o`) or is made here from
// the same flags as `epsim simulate`, through the same planning libraries.
#include <fstream>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "hw/cli/commands.h"
#include "hw/common/measured_report.h"
#include "hw/common/runner.h"
#include "sim/base/file_util.h"
#include "sim/base/output_file.h"
#include "sim/cli/run_flags.h"
#include "sim/dispatch/strategy.h"
#include "sim/plan/job.h"
#include "sim/plan/plan_file.h"
#include "sim/report/report.h"

namespace epsim::hw::cli {
namespace {

struct RunCommandOptions {
  plan::RunFlags run;
  BackendFlags backend;
  std::string plan_file;
  std::string dispatch = "dedup";
  std::string placement = "contiguous";
  uint32_t warmup = 5, iterations = 20;
  bool check = false;
  uint64_t data_seed = 1;
  int inject_hang = -1;
  int inject_wrong = -1;
  std::string format = "console";
  std::string json, csv;
};

Result<proto::Plan> PlanOf(const RunCommandOptions& opt, uint32_t num_ranks) {
  if (!opt.plan_file.empty()) return plan::ReadPlan(opt.plan_file);
  plan::RunFlags flags = opt.run;
  if (flags.ep == 0) flags.ep = num_ranks;
  EPSIM_ASSIGN_OR_RETURN(auto strategy, dispatch::MakeStrategy(opt.dispatch));
  EPSIM_ASSIGN_OR_RETURN(plan::RunInputs in, plan::LoadRunInputs(flags));
  EPSIM_ASSIGN_OR_RETURN(placement::LayerPlacements placements,
                         plan::PlacementFor(flags, in, opt.placement));
  plan::ProfileCache profiles(flags, in);
  return plan::ExecPlanFor(in, placements, *strategy, &profiles);
}

// Local ranks on this host against its cores: timings of an oversubscribed
// run include time-sharing.
std::string Oversubscription() {
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const unsigned cores = std::thread::hardware_concurrency();
  const int ranks = local != nullptr ? std::atoi(local) : 1;
  if (cores > 0 && ranks > static_cast<int>(cores))
    return fmt::format("yes: {} ranks on {} cores of this host; timings include time-sharing",
                       ranks, cores);
  return fmt::format("no: {} rank(s) on {} cores", ranks, cores);
}

report::RunInfo InfoOf(const RunCommandOptions& opt, const proto::Plan& plan, Backend* backend) {
  report::RunInfo info;
  info.command = "epsim-hw run";
  if (!opt.plan_file.empty()) info.inputs.push_back({"plan", opt.plan_file});
  std::map<std::string, std::string> sorted(plan.inputs().begin(), plan.inputs().end());
  for (const auto& [k, v] : sorted) info.inputs.push_back({k, v});
  info.inputs.push_back({"data seed", std::to_string(opt.data_seed)});
  info.settings = backend->Describe();
  info.settings.push_back({"passes", fmt::format("{} warm-up, {} timed (median reported)",
                                                 opt.warmup, opt.iterations)});
  info.settings.push_back({"oversubscribed", Oversubscription()});
  info.settings.push_back({"stand-ins", "attention = one GEMM of its FLOPs; router GEMM, shared "
                                        "and dense FFNs on seeded weights, outputs unused"});
  return info;
}

// The files --json and --csv name (rank 0 writes them).
struct Outputs {
  OutputFile json, csv;
};
Result<Outputs> OpenOutputs(const RunCommandOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(OutputFile json, OutputFile::Open("--json", opt.json, OutputFile::Dash::kRefuse));
  EPSIM_ASSIGN_OR_RETURN(OutputFile csv, OutputFile::Open("--csv", opt.csv, OutputFile::Dash::kRefuse));
  return Outputs{std::move(json), std::move(csv)};
}

Status WriteOutputs(const RunCommandOptions& opt, Outputs* out, const report::RunInfo& info,
                    const proto::Report& report, const RunResult& result) {
  EPSIM_ASSIGN_OR_RETURN(report::Format format, report::ParseFormat(opt.format));
  const std::vector<proto::Report> reports = {report};
  // The CSV is staged until the JSON is written: both appear, or neither.
  StagedFile csv;
  if (out->csv.given()) {
    EPSIM_ASSIGN_OR_RETURN(csv, StagedFile::Write(out->csv.path(), report::SimulationCsv(reports)));
  }
  if (out->json.given()) {
    std::ostringstream json;
    report::WriteSimulation(json, report::Format::kJson, info, reports);
    EPSIM_RETURN_IF_ERROR(WriteFileAtomically(out->json.path(), json.str()));
    EPSIM_RETURN_IF_ERROR(out->json.Finish());
  }
  if (out->csv.given()) {
    EPSIM_RETURN_IF_ERROR(csv.Commit());
    EPSIM_RETURN_IF_ERROR(out->csv.Finish());
  }
  report::WriteSimulation(std::cout, format, info, reports);
  if (opt.check)
    std::cout << fmt::format("# check: {} of {} elements wrong (#wrong {}), largest error {:.3g} "
                             "of its tolerance\n",
                             result.wrong, result.checked, result.wrong, result.max_error);
  return Status::Ok();
}

Status Run(const RunCommandOptions& opt, MpiComm* mpi) {
  EPSIM_RETURN_IF_ERROR(report::ParseFormat(opt.format).status());
  Outputs outputs;
  Status checked;
  if (mpi->rank() == 0) {
    Result<Outputs> opened = OpenOutputs(opt);
    if (opened.ok()) outputs = std::move(opened).value();
    checked = opened.status();
  }
  EPSIM_RETURN_IF_ERROR(AgreeWithRoot(mpi, checked, opt.backend.timeout_s));
  EPSIM_ASSIGN_OR_RETURN(proto::Plan plan, PlanOf(opt, mpi->size()));
  EPSIM_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, MakeBackend(opt.backend, mpi));
  RunOptions ro;
  ro.warmup = opt.warmup;
  ro.iterations = opt.iterations;
  ro.check = opt.check;
  ro.timeout_s = opt.backend.timeout_s;
  ro.seed = opt.data_seed;
  ro.inject_hang_rank = opt.inject_hang;
  ro.inject_wrong_rank = opt.inject_wrong;
  hw::Runner runner(plan, backend.get(), ro);
  EPSIM_RETURN_IF_ERROR(runner.Setup());
  EPSIM_ASSIGN_OR_RETURN(RunResult result, runner.Run());
  if (result.wrong > 0 && !result.first_wrong.empty())
    std::cerr << fmt::format("epsim-hw: {}: first wrong element: {}\n", backend->Where(),
                             result.first_wrong);
  if (mpi->rank() == 0) {
    proto::Report report = MeasuredReport(plan, result, ro, "measured: " + mpi->host());
    for (const auto& [k, v] : backend->Describe()) (*report.mutable_settings())[k] = v;
    EPSIM_RETURN_IF_ERROR(
        WriteOutputs(opt, &outputs, InfoOf(opt, plan, backend.get()), report, result));
  }
  if (result.wrong > 0)
    return Status::Verification(fmt::format("{} of {} output elements outside tolerance",
                                            result.wrong, result.checked));
  return Status::Ok();
}

}  // namespace

Command AddRunCommand(CLI::App& app) {
  auto opt = std::make_shared<RunCommandOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Execute one plan for real and measure every phase");
  epsim::cli::AddRunFlags(cmd, &opt->run);
  epsim::cli::AddLayoutFlag(cmd, &opt->run);
  AddBackendFlags(cmd, &opt->backend);
  cmd->add_option("--plan", opt->plan_file,
                  "Plan file written by `epsim plan -o` (then the planning flags are unused)");
  cmd->add_option("--dispatch", opt->dispatch, "Dispatch strategy")->capture_default_str();
  cmd->add_option("--placement", opt->placement, "Expert placement (name or file)")
      ->capture_default_str();
  cmd->add_option("-w,--warmup", opt->warmup, "Untimed passes first")->capture_default_str();
  cmd->add_option("-n,--iters", opt->iterations, "Timed passes (the median is reported)")
      ->check(CLI::Range(1u, 1000000u))
      ->capture_default_str();
  cmd->add_flag("-c,--check", opt->check,
                "Verify every output element against a reference computed without all-to-alls "
                "(exit 3 on a mismatch)");
  cmd->add_option("--data-seed", opt->data_seed, "Seed of hidden states and weights")
      ->capture_default_str();
  cmd->add_option("--format", opt->format, "Output on stdout: console, csv or json")
      ->check(CLI::IsMember({"console", "csv", "json"}))
      ->capture_default_str();
  cmd->add_option("--json", opt->json, "Also write the measured report as JSON to this file");
  cmd->add_option("--csv", opt->csv, "Also write the CSV records to this file");
  cmd->add_option("--inject-hang", opt->inject_hang,
                  "Testing: this rank stops itself (SIGSTOP) at its first timed dispatch");
  cmd->add_option("--inject-wrong", opt->inject_wrong,
                  "Testing: this rank corrupts one output element before --check");
  return [opt](MpiComm* mpi) { return Run(*opt, mpi); };
}

}  // namespace epsim::hw::cli
