// epsim plot: figures from the tables epsim writes, drawn by the epsim_plot
// Python package (matplotlib) that ships beside the binary's data
// (sim/report/plot/epsim_plot, found on the data search path). Every
// argument after `plot` goes to `PYTHON -m epsim_plot`, which this process
// becomes (exec), so its messages and exit codes are the command's. PYTHON
// is $EPSIM_PYTHON when set, else /usr/bin/python3 (Debian's, which
// python3-matplotlib serves) when it exists, else python3 on the PATH.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "sim/base/data_paths.h"
#include "sim/cli/commands.h"

namespace epsim::cli {

inline constexpr char kPlotPackage[] = "sim/report/plot/epsim_plot/__main__.py";

int RunPlot(int argc, char** argv) {
  auto main_py = FindDataFile(kPlotPackage);
  if (!main_py.ok()) {
    std::cerr << "epsim plot: the epsim_plot package is missing: " << main_py.status().message()
              << "\n";
    return 4;
  }
  // .../sim/report/plot/epsim_plot/__main__.py -> .../sim/report/plot
  std::string root = *main_py;
  for (int i = 0; i < 2; ++i) root = root.substr(0, root.rfind('/'));
  const char* old = std::getenv("PYTHONPATH");
  const std::string path = root + (old && *old ? std::string(":") + old : "");
  setenv("PYTHONPATH", path.c_str(), 1);
  std::string python = "python3";
  if (const char* env = std::getenv("EPSIM_PYTHON"); env && *env) python = env;
  else if (access("/usr/bin/python3", X_OK) == 0) python = "/usr/bin/python3";
  std::vector<char*> args = {python.data(), const_cast<char*>("-m"),
                             const_cast<char*>("epsim_plot")};
  for (int i = 0; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  std::cout.flush();
 execvp(python.c_str(), args.data());
  std::cerr << "epsim plot: cannot run " << python << ": " << std::strerror(errno)
            << " (Debian: apt install python3 python3-matplotlib)\n";
  return 4;
}

void AddPlotCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "plot", "Draw a figure (PNG/SVG, matplotlib) from a table epsim wrote: simulate, compare, "
              "sweep, bench, diff, calibrate (epsim plot --help)");
  cmd->prefix_command();  // never parsed here: main() hands `plot` to RunPlot
}

}  // namespace epsim::cli
