// epsim: what-if simulation of expert-parallel MoE dispatch.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "sim/base/data_paths.h"
#include "sim/base/string_util.h"
#include "sim/cli/commands.h"
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
  std::string out = "Data files (" + epsim::DataDir() + "; EPSIM_DATA_DIR overrides):";
  for (const char* kind : {"models", "topologies"}) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(epsim::DataDir() + "/" + kind, ec)) {
      const std::string file = entry.path().filename().string();
      const std::string ext = ".textproto";
      if (file.size() > ext.size() && file.compare(file.size() - ext.size(), ext.size(), ext) == 0 &&
          file.find(".routing.") == std::string::npos)
        names.push_back(file.substr(0, file.size() - ext.size()));
    }
    std::sort(names.begin(), names.end());
    out += std::string("\n  ") + kind + ":";
    for (const std::string& n : names) out += " " + n;
    if (names.empty()) out += " (none found)";
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
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
      {"bench", epsim::cli::AddBenchCommand(app, &simgrid_args)}};
  app.set_version_flag("--version", std::string("epsim ") + epsim::kEpsimVersion);
  app.footer(std::function<std::string()>(BuiltInData));  // listed only for --help
  // A mistyped command: name the nearest one rather than CLI11's "not expected".
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const auto& [name, run] : commands) names.push_back(name);
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      const std::string near = epsim::NearestName(argv[1], names);
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      std::cerr << "epsim: unknown command '" << argv[1] << "'"
                << (near.empty() ? "" : "; did you mean '" + near + "'?") << " (commands: " << list
                << "; epsim --help)\n";
      return 1;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  epsim::Status status;
  for (const auto& [name, run] : commands)
    if (app.got_subcommand(name)) status = run();
  if (!status.ok()) std::cerr << "epsim: " << status.ToString() << "\n";
  return status.ExitCode();
}
