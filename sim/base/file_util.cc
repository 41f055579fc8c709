#include "sim/base/file_util.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/base/fatal_cleanup.h"
#include "sim/base/output_file.h"

namespace epsim {

Result<std::string> ReadFileToString(const std::string& path) {
  EPSIM_RETURN_IF_ERROR(CheckInputPath(path));
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return Status::BadInput(path + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IoError(path + ": read failed");
  return ss.str();
}

Result<StagedFile> StagedFile::Write(const std::string& path, const std::string& contents) {
  StagedFile staged;
  staged.path_ = path;
  staged.tmp_ = path + ".tmp." + std::to_string(::getpid());
  RemoveStaleTemporaries(path);
  AddFatalCleanup(staged.tmp_);
  std::ofstream out(staged.tmp_, std::ios::binary | std::ios::trunc);
  if (!out) return Status::IoError(path + ": cannot create: " + std::strerror(errno));
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.flush();
  if (!out) return Status::IoError(path + ": write failed: " + std::strerror(errno));
  return staged;
}

Status StagedFile::Commit() {
  if (tmp_.empty()) return Status::Internal(path_ + ": committed twice");
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
    return Status::IoError(path_ + ": cannot rename into place: " + std::strerror(errno));
  RemoveFatalCleanup(tmp_);
  tmp_.clear();
  return Status::Ok();
}

StagedFile::StagedFile(StagedFile&& other) noexcept { *this = std::move(other); }

StagedFile& StagedFile::operator=(StagedFile&& other) noexcept {
  std::swap(path_, other.path_);
  std::swap(tmp_, other.tmp_);
  return *this;
}

StagedFile::~StagedFile() {
  if (tmp_.empty()) return;
  std::remove(tmp_.c_str());
  RemoveFatalCleanup(tmp_);
}

Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  EPSIM_ASSIGN_OR_RETURN(StagedFile staged, StagedFile::Write(path, contents));
  return staged.Commit();
}

std::string FileStem(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = name.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

}  // namespace epsim
