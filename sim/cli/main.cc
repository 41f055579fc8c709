// epsim: what-if simulation of expert-parallel MoE dispatch.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "sim/base/data_paths.h"
#include "sim/base/fatal_cleanup.h"
#include "sim/base/output_file.h"
#include "sim/base/string_util.h"
#include "sim/cli/commands.h"
#include "sim/engine/simgrid_args.h"
#include "sim/report/version.h"

namespace {

// Takes SimGrid's own flags off argv (CLI11 would reject them, and the
// SimGrid Engine must never see epsim's, since it swallows --help).
std::vector<std::string> TakeSimGridArgs(int* argc, char** argv) {
  std::vector<std::string> taken;
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    if (std::strncmp(argv[i], "--cfg=", 6) == 0 || std::strncmp(argv[i], "--log=", 6) == 0)
      taken.emplace_back(argv[i]);
    else
      argv[out++] = argv[i];
  }
  *argc = out;
  return taken;
}

// The models and topologies --model and --topology find by name, for --help.
std::string BuiltInData() {
  std::string out =
      "Data files: --model NAME and --topology NAME read models/NAME.textproto and\n"
      "topologies/NAME.textproto from the first directory that has it, in this order:\n"
      "$EPSIM_DATA_DIR, the working directory, the binary's directory, its ../share/epsim,\n"
      "the source tree. Here: " + epsim::DescribeDataSearchPath() + ".";
  for (const char* kind : {"models", "topologies"}) {
    std::set<std::string> names;
    for (const epsim::DataDir& dir : epsim::DataSearchPath()) {
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(dir.path + "/" + kind, ec)) {
        const std::string file = entry.path().filename().string();
        const std::string ext = ".textproto";
        if (file.size() > ext.size() && file.compare(file.size() - ext.size(), ext.size(), ext) == 0 &&
            file.find(".routing.") == std::string::npos)
          names.insert(file.substr(0, file.size() - ext.size()));
      }
    }
    out += std::string("\n  ") + kind + ":";
    for (const std::string& n : names) out += " " + n;
    if (names.empty()) out += " (none found)";
  }
  return out;
}

// SimGrid's flags are for the commands that simulate, and checked against
// SimGrid before any work starts (a bad key is a usage error, not a dump).
epsim::Status CheckSimGridArgs(const std::string& command, const std::vector<std::string>& args) {
  if (args.empty()) return epsim::Status::Ok();
  static const std::set<std::string> kSimulating = {"simulate", "compare", "calibrate", "bench", "sweep"};
  if (kSimulating.count(command) == 0)
    return epsim::Status::Usage("--cfg=/--log= are SimGrid's flags, for simulate, compare, "
                                "sweep, bench and calibrate; '" + command + "' simulates nothing");
  return epsim::engine::CheckSimGridArgs(args);
}

// A mistyped command: name the nearest one rather than CLI11's "not expected".
bool UnknownCommand(const char* word,
                    const std::vector<std::pair<std::string, epsim::cli::Runner>>& commands) {
  if (word[0] == '-') return false;
  std::vector<std::string> names;
  for (const auto& [name, run] : commands) names.push_back(name);
  if (std::find(names.begin(), names.end(), word) != names.end()) return false;
  const std::string near = epsim::NearestName(word, names);
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  std::cerr << "epsim: unknown command '" << word << "'"
            << (near.empty() ? "" : "; did you mean '" + near + "'?") << " (commands: " << list
            << "; epsim --help)\n";
  return true;
}

int Main(int argc, char** argv) {
  const std::vector<std::string> simgrid_args = TakeSimGridArgs(&argc, argv);
  CLI::App app{"epsim: replay MoE routing traces on simulated GPU clusters under each "
               "expert-parallel dispatch strategy"};
  app.require_subcommand(1);
  app.fallthrough(false);
  const std::vector<std::pair<std::string, epsim::cli::Runner>> commands = {
      {"import", epsim::cli::AddImportCommand(app)},
      {"trace", epsim::cli::AddTraceCommand(app)},
      {"topo", epsim::cli::AddTopoCommand(app)},
      {"synth", epsim::cli::AddSynthCommand(app)},
      {"stats", epsim::cli::AddStatsCommand(app)},
      {"place", epsim::cli::AddPlaceCommand(app)},
      {"plan", epsim::cli::AddPlanCommand(app)},
      {"simulate", epsim::cli::AddSimulateCommand(app, &simgrid_args)},
      {"compare", epsim::cli::AddCompareCommand(app, &simgrid_args)},
      {"diff", epsim::cli::AddDiffCommand(app)},
      {"calibrate", epsim::cli::AddCalibrateCommand(app, &simgrid_args)},
      {"bench", epsim::cli::AddBenchCommand(app, &simgrid_args)},
      {"sweep", epsim::cli::AddSweepCommand(app, &simgrid_args)},
      {"plot", nullptr}};
  epsim::cli::AddPlotCommand(app);
  if (argc > 1 && std::strcmp(argv[1], "plot") == 0) {
    if (!simgrid_args.empty()) {
      std::cerr << "epsim: --cfg=/--log= are SimGrid's flags; 'plot' simulates nothing\n";
      return 1;
    }
    return epsim::cli::RunPlot(argc - 2, argv + 2);
  }
  app.set_version_flag("--version", std::string("epsim ") + epsim::kEpsimVersion);
  app.footer(std::function<std::string()>(BuiltInData));  // listed only for --help
  if (argc > 1 && UnknownCommand(argv[1], commands)) return 1;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  for (const auto& [name, run] : commands) {
    if (!run || !app.got_subcommand(name)) continue;
    if (epsim::Status st = CheckSimGridArgs(name, simgrid_args); !st.ok()) {
      std::cerr << "epsim: " << st.ToString() << "\n";
      return st.ExitCode();
    }
    epsim::Status status = run();
    // What went to standard output must have arrived (a full disk, /dev/full,
    // a closed pipe): a lost table is an error, never a silent success.
    if (status.ok()) status = epsim::CheckStandardOutput();
    if (!status.ok()) std::cerr << "epsim: " << status.ToString() << "\n";
    return status.ExitCode();
  }
  return 1;
}

}  // namespace

// Nothing escapes main: an exception is an internal error (exit 4), one line.
int main(int argc, char** argv) {
  epsim::InstallInterruptCleanup();  // SIGINT, SIGTERM...: no temporary left behind
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "epsim: internal error: uncaught exception: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "epsim: internal error: uncaught exception of unknown type\n";
  }
  return epsim::Status::Internal("").ExitCode();
}
