#include "sim/base/data_paths.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace epsim {
namespace {

namespace fs = std::filesystem;

// Where the running binary is (Linux: /proc/self/exe); empty if unknown.
fs::path BinaryDir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

}  // namespace

std::vector<DataDir> DataSearchPath() {
  std::vector<DataDir> candidates;
  const char* env = std::getenv("EPSIM_DATA_DIR");
  if (env != nullptr && *env != '\0') candidates.push_back({"$EPSIM_DATA_DIR", env});
  std::error_code ec;
  candidates.push_back({"the working directory", fs::current_path(ec).string()});
  const fs::path bin = BinaryDir();
  if (!bin.empty()) {
    candidates.push_back({"the binary's directory", bin.string()});
    candidates.push_back({"the install's share directory", (bin.parent_path() / "share" / "epsim").string()});
  }
  candidates.push_back({"the source tree", EPSIM_SOURCE_DIR});
  std::vector<DataDir> out;
  std::vector<fs::path> seen;
  for (const DataDir& d : candidates) {
    if (d.path.empty() || !fs::is_directory(d.path, ec)) continue;
    const fs::path canonical = fs::weakly_canonical(d.path, ec);
    bool dup = false;
    for (const fs::path& s : seen) dup = dup || s == canonical;
    if (dup) continue;
    seen.push_back(canonical);
    out.push_back(d);
  }
  return out;
}

std::string DescribeDataSearchPath() {
  std::string out;
  for (const DataDir& d : DataSearchPath())
    out += (out.empty() ? "" : ", then ") + d.label + " (" + d.path + ")";
  const char* env = std::getenv("EPSIM_DATA_DIR");
  if (env == nullptr || *env == '\0') out += "; $EPSIM_DATA_DIR is unset";
  return out;
}

Result<std::string> FindDataFile(const std::string& relative) {
  std::error_code ec;
  for (const DataDir& d : DataSearchPath()) {
    const fs::path p = fs::path(d.path) / relative;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return Status::NotFound("no " + relative + " in " + DescribeDataSearchPath());
}

Result<std::string> ResolveDataFile(const std::string& kind, const std::string& name_or_path) {
  std::error_code ec;
  if (name_or_path.find('/') != std::string::npos || fs::exists(name_or_path, ec))
    return name_or_path;
  const std::string noun = kind == "models" ? "model" : kind == "topologies" ? "topology" : kind;
  Result<std::string> found = FindDataFile(kind + "/" + name_or_path + ".textproto");
  if (!found.ok()) return found.status().WithContext(noun + " '" + name_or_path + "'");
  return found;
}

std::string DisplayPath(const std::string& path) {
  // Lexical only: a path through a symbolic link stays as the user wrote it.
  const fs::path given = fs::path(path).lexically_normal();
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  if (ec || path.empty()) return path;
  const fs::path rel = given.is_absolute() ? given.lexically_relative(cwd) : given;
  if (!rel.empty() && *rel.begin() != "..") return rel.string();
  return given.is_absolute() ? given.string() : (cwd / given).lexically_normal().string();
}

}  // namespace epsim
