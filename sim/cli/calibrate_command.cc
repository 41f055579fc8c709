// epsim calibrate: fit a topology's model parameters to measurements and
// write the calibrated topology (sim/calibrate/calibration.h).
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "sim/base/data_paths.h"
#include "sim/base/file_util.h"
#include "sim/base/output_file.h"
#include "sim/calibrate/calibration.h"
#include "sim/calibrate/measurements.h"
#include "sim/cli/commands.h"
#include "sim/topology/topology.h"
#include "sim/topology/transport.h"

namespace epsim::cli {
namespace {

struct CalibrateCommandOptions {
  std::string topology;
  std::vector<std::string> inputs;
  std::vector<std::string> holdout = {"sizes"};
  std::vector<std::string> fit, fix;
  std::string output, csv;
  std::string p2p;
  std::string test;
  int table = 0;
  int max_iterations = 100;
};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status Run(const CalibrateCommandOptions& opt, const std::vector<std::string>& simgrid_args) {
  EPSIM_ASSIGN_OR_RETURN(OutputFile out, OutputFile::Open("-o", opt.output, OutputFile::Dash::kText));
  EPSIM_ASSIGN_OR_RETURN(OutputFile csv_out, OutputFile::Open("--csv", opt.csv, OutputFile::Dash::kRefuse));
  calibrate::CalibrateOptions options;
  for (const std::string& h : opt.holdout) {
    EPSIM_ASSIGN_OR_RETURN(calibrate::HoldoutRule rule, calibrate::ParseHoldout(h));
    options.holdout.push_back(rule);
    options.holdout_text += (options.holdout_text.empty() ? "" : ", ") + h;
  }
  options.fit = opt.fit;
  options.fix = opt.fix;
  options.max_iterations = opt.max_iterations;
  options.sim.simgrid_args = simgrid_args;
  if (!opt.p2p.empty()) {
    EPSIM_ASSIGN_OR_RETURN(proto::P2pPolicy policy, topology::ParseP2pPolicy(opt.p2p));
    options.sim.p2p = policy;
  }
  EPSIM_ASSIGN_OR_RETURN(const std::string topology_path, ResolveDataFile("topologies", opt.topology));
  EPSIM_ASSIGN_OR_RETURN(proto::Topology stock, topology::LoadTopology(topology_path));

  calibrate::MeasurementSet set;
  for (const std::string& input : opt.inputs) {
    if (EndsWith(input, ".json")) {
      EPSIM_RETURN_IF_ERROR(calibrate::AddMeasuredReport(input, opt.topology, &set));
    } else {
      EPSIM_RETURN_IF_ERROR(calibrate::AddLogFile(
          input, opt.test, static_cast<uint32_t>(topology::RankNames(stock).size()), opt.table,
          &set));
    }
  }
  EPSIM_ASSIGN_OR_RETURN(calibrate::Calibration result,
                         calibrate::Calibrate(stock, opt.topology, set, options));
  // With -o -, stdout holds the calibrated file and the report goes to stderr.
  report::WriteCalibration(out.to_stdout() ? std::cerr : std::cout, result.view);
  if (csv_out.given()) {
    std::ostringstream csv;
    report::WriteCalibrationCsv(csv, result.view);
    EPSIM_RETURN_IF_ERROR(WriteFileAtomically(csv_out.path(), csv.str()));
    EPSIM_RETURN_IF_ERROR(csv_out.Finish());
    std::cerr << "epsim: wrote " << csv_out.label() << "\n";
  }
  if (out.given()) {
    EPSIM_RETURN_IF_ERROR(WriteFileAtomically(
        out.path(), report::CalibratedTopologyText(result.view, result.calibrated)));
    EPSIM_RETURN_IF_ERROR(out.Finish());
    std::cerr << "epsim: wrote " << out.label() << "\n";
  }
  return Status::Ok();
}

}  // namespace

Runner AddCalibrateCommand(CLI::App& app, const std::vector<std::string>* simgrid_args) {
  auto opt = std::make_shared<CalibrateCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "calibrate", "Fit a topology's model parameters to measurements and write it calibrated");
  cmd->add_option("--topology", opt->topology, "Topology to calibrate (name in topologies/ or file)")
      ->required();
  cmd->add_option("measurements", opt->inputs,
                  "Measured reports (.json from epsim-hw run --json); any other file is a log as "
                  "printed: nccl-tests or epsim(-hw) bench tables, fitted, and "
                  "p2pBandwidthLatencyTest matrices, a ceiling on PCIe bandwidth")
      ->required();
  cmd->add_option("--holdout", opt->holdout,
                  "Held-out measurements: sizes (every other size of each sweep), ranks=N, "
                  "strategy=NAME or none; repeat to combine")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->capture_default_str();
  cmd->add_option("--fit", opt->fit, "Fit only these parameters (names as printed)")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--fix", opt->fix, "Keep these parameters at their stock values")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("-o,--output", opt->output, "Calibrated topology file to write ('-': stdout, the report then on stderr)");
  cmd->add_option("--csv", opt->csv, "Per-measurement errors as CSV (the plot's input)");
  cmd->add_option("--test", opt->test,
                  "nccl-tests test of log tables that do not name their binary (all_reduce, ...)");
  cmd->add_option("--table", opt->table,
                  "Use only the N-th nccl-tests table of each log (1-based; 0 = every table)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--p2p", opt->p2p, "Peer-to-peer policy: auto, on or off (default: the file's)")
      ->check(CLI::IsMember({"on", "off", "auto"}));
  cmd->add_option("--max-iterations", opt->max_iterations, "Solver iterations at most")
      ->capture_default_str();
  cmd->footer(
      "Fits by bounded least squares on relative error (simulated - measured) / measured over\n"
      "the training measurements; a parameter no training measurement responds to stays at its\n"
      "stock value (\"not measured\"). Prints each parameter before and after with its standard\n"
      "error, each measurement's error before and after, and MAPE / max |error| on the training\n"
      "and held-out splits. The calibrated file is named <stock name>-calibrated and carries\n"
      "its provenance (input SHA-256, parameters, errors) in comments.");
  return [opt, simgrid_args]() { return Run(*opt, *simgrid_args); };
}

}  // namespace epsim::cli
