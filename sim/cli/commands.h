// The subcommands of `epsim`. Each registers its flags (with defaults shown
// by --help) on the CLI11 app and runs when selected; a Status that is not
// ok becomes the exit code (status.h; the table is README.md "Exit codes": 1 usage, 2 bad input).
#ifndef EPSIM_SIM_CLI_COMMANDS_H_
#define EPSIM_SIM_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "sim/base/status.h"

namespace epsim::cli {

// A subcommand's run step, set up by the Add* functions below.
using Runner = std::function<Status()>;

// `simgrid_args` are the --cfg=/--log= arguments taken off the command line
// before CLI11 parses it (SimGrid's own flags pass through to its Engine).
Runner AddImportCommand(CLI::App& app);
Runner AddStatsCommand(CLI::App& app);
Runner AddPlaceCommand(CLI::App& app);
Runner AddPlanCommand(CLI::App& app);
Runner AddSimulateCommand(CLI::App& app, const std::vector<std::string>* simgrid_args);
Runner AddSynthCommand(CLI::App& app);
Runner AddCompareCommand(CLI::App& app, const std::vector<std::string>* simgrid_args);
Runner AddDiffCommand(CLI::App& app);
Runner AddCalibrateCommand(CLI::App& app, const std::vector<std::string>* simgrid_args);
Runner AddTraceCommand(CLI::App& app);
Runner AddTopoCommand(CLI::App& app);
Runner AddBenchCommand(CLI::App& app, const std::vector<std::string>* simgrid_args);
Runner AddSweepCommand(CLI::App& app, const std::vector<std::string>* simgrid_args);

// `epsim plot ARGS`: runs python3 -m epsim_plot ARGS in place of this
// process (plot_command.cc); returns only when python3 cannot be run (4).
// AddPlotCommand lists it in --help; main() calls RunPlot before parsing.
int RunPlot(int argc, char** argv);
void AddPlotCommand(CLI::App& app);

}  // namespace epsim::cli

#endif  // EPSIM_SIM_CLI_COMMANDS_H_
