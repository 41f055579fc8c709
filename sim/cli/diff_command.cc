// epsim diff: two json reports of the same plans (epsim simulate --format
// json, epsim-hw run --json) compared phase by phase on per-rank busy time.
#include <iostream>

#include "sim/cli/commands.h"
#include "sim/report/diff.h"
#include "sim/report/diff_output.h"
#include "sim/report/json_input.h"

namespace epsim::cli {
namespace {

struct DiffOptions {
  std::string a;
  std::string b;
  std::string format = "console";
  std::string by = "both";
};

Status Run(const DiffOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(report::Format format, report::ParseFormat(opt.format));
  EPSIM_ASSIGN_OR_RETURN(report::DiffRows rows, report::ParseDiffRows(opt.by));
  EPSIM_ASSIGN_OR_RETURN(report::ReportFile a, report::ReadReportJson(opt.a));
  EPSIM_ASSIGN_OR_RETURN(report::ReportFile b, report::ReadReportJson(opt.b));
  EPSIM_ASSIGN_OR_RETURN(report::ReportDiff diff, report::DiffReports(a, b));
  report::WriteDiff(std::cout, format, a, b, diff, rows);
  return Status::Ok();
}

}  // namespace

Runner AddDiffCommand(CLI::App& app) {
  auto opt = std::make_shared<DiffOptions>();
  CLI::App* cmd = app.add_subcommand(
      "diff", "Compare two json reports (e.g. simulated A, measured B) phase by phase");
  cmd->add_option("a", opt->a, "Report A (json from simulate --format json or epsim-hw --json)")
      ->required();
  cmd->add_option("b", opt->b, "Report B, the reference of the error (normally the measured one)")
      ->required();
  cmd->add_option("--format", opt->format, "console, csv or json")->check(CLI::IsMember({"console", "csv", "json"}))
      ->capture_default_str();
  cmd->add_option("--by", opt->by, "Rows per run pair: layer, kind (summed over layers) or both")
      ->check(CLI::IsMember({"layer", "kind", "both"}))
      ->capture_default_str();
  cmd->footer("Runs are matched by (strategy, placement), or the only run of each file with the\n"
              "other's; records by (layer, phase). error = (A - B) / B in percent on busy_max\n"
              "and busy_mean (per-rank end - start of a phase, max and mean over ranks) and on\n"
              "the pass time; the summary weights each phase kind's |error| by B's busy_max.");
  return [opt]() { return Run(*opt); };
}

}  // namespace epsim::cli
