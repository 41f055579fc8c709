#include "sim/base/data_paths.h"

#include <cstdlib>
#include <filesystem>

namespace epsim {

std::string DataDir() {
  const char* env = std::getenv("EPSIM_DATA_DIR");
  return env != nullptr && *env != '\0' ? env : EPSIM_SOURCE_DIR;
}

std::string ResolveDataFile(const std::string& kind, const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos ||
      std::filesystem::exists(name_or_path))
    return name_or_path;
  return DataDir() + "/" + kind + "/" + name_or_path + ".textproto";
}

}  // namespace epsim
