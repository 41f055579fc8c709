// Finding epsim's data files: a model or topology is given either as a path
// to a .textproto file or by name, which is looked up as
// <data dir>/models/<name>.textproto (resp. topologies/). The data dir is
// $EPSIM_DATA_DIR when set, else the source tree epsim was built from.
#ifndef EPSIM_SIM_BASE_DATA_PATHS_H_
#define EPSIM_SIM_BASE_DATA_PATHS_H_

#include <string>

namespace epsim {

std::string DataDir();
// `kind` is "models" or "topologies".
std::string ResolveDataFile(const std::string& kind, const std::string& name_or_path);

}  // namespace epsim

#endif  // EPSIM_SIM_BASE_DATA_PATHS_H_
