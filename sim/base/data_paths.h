// Finding epsim's data files. A model or topology is given either as a path
// to a file or by name; a name is looked up as <dir>/models/<name>.textproto
// (resp. topologies/) in each of these directories in turn, the first that
// has it winning:
//   1. $EPSIM_DATA_DIR, when set;
//   2. the working directory;
//   3. the directory of the running binary;
//   4. <binary dir>/../share/epsim (an installed layout);
//   5. the source tree epsim was built from.
// The other data files looked up by name (models/<model>.routing.json, the
// GPU specs of topologies/) follow the same order. A name found nowhere is
// NotFound (exit 2), naming every directory searched.
#ifndef EPSIM_SIM_BASE_DATA_PATHS_H_
#define EPSIM_SIM_BASE_DATA_PATHS_H_

#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim {

// One directory of the search path, with how messages name it
// ("$EPSIM_DATA_DIR", "the working directory", ...). Directories that do
// not exist are skipped; the same directory reached twice is listed once.
struct DataDir {
  std::string label;
  std::string path;
};
std::vector<DataDir> DataSearchPath();

// "$EPSIM_DATA_DIR (/d), then the working directory (/w), ..." for --help
// and error messages.
std::string DescribeDataSearchPath();

// The first <dir>/<relative> of the search path that exists
// ("models/olmoe-1b-7b.routing.json"); NotFound naming every place looked.
Result<std::string> FindDataFile(const std::string& relative);

// `kind` is "models" or "topologies". A path (it holds a '/', or names an
// existing file) is returned as it is; a bare name is
// FindDataFile(kind + "/" + name + ".textproto").
Result<std::string> ResolveDataFile(const std::string& kind, const std::string& name_or_path);

// A path as output headers print it: relative to the working directory when
// it lies under it, else absolute.
std::string DisplayPath(const std::string& path);

}  // namespace epsim

#endif  // EPSIM_SIM_BASE_DATA_PATHS_H_
