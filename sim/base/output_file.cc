#include "sim/base/output_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace epsim {
namespace {

namespace fs = std::filesystem;

Status CannotWrite(const std::string& flag, const std::string& path, const std::string& why) {
  return Status::IoError(flag + " " + path + ": " + why);
}

// Creates and removes a file in `dir`: whether a writer could create its
// temporary there (permission bits say nothing for root or read-only mounts).
Status ProbeDirectory(const std::string& flag, const std::string& path, const std::string& dir) {
  std::string probe = dir + "/.epsim-probe-XXXXXX";
  const int fd = mkstemp(probe.data());
  if (fd < 0) return CannotWrite(flag, path, "cannot create files in " + dir + ": " + std::strerror(errno));
  close(fd);
  unlink(probe.c_str());
  return Status::Ok();
}

Result<std::string> MakeScratchDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/epsim-out-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr)
    return Status::IoError(std::string("cannot create a scratch directory: ") + std::strerror(errno));
  return dir;
}

}  // namespace

Result<OutputFile> OutputFile::Open(const std::string& flag, const std::string& path, Dash dash) {
  OutputFile out;
  if (path.empty()) return out;
  out.target_ = path;
  bool scratch = false;
  if (path == "-") {
    if (dash == Dash::kRefuse)
      return Status::Usage(flag + " -: stdout holds the results here; give a file name");
    if (dash == Dash::kBinary && isatty(STDOUT_FILENO))
      return Status::Usage(flag + " -: refusing to write binary data to a terminal; redirect "
                           "stdout (> FILE, | ...) or give a file name");
    scratch = true;
  } else {
    struct stat st;
    if (stat(path.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) return CannotWrite(flag, path, "is a directory");
      scratch = !S_ISREG(st.st_mode);  // a device or FIFO: written in place, not renamed over
      if (scratch && access(path.c_str(), W_OK) != 0)
        return CannotWrite(flag, path, std::strerror(errno));
    }
    std::string dir = fs::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    if (!fs::exists(dir, ec)) return CannotWrite(flag, path, "no directory " + dir);
    if (!fs::is_directory(dir, ec)) return CannotWrite(flag, path, dir + " is not a directory");
    if (!scratch) EPSIM_RETURN_IF_ERROR(ProbeDirectory(flag, path, dir));
  }
  if (scratch) {
    EPSIM_ASSIGN_OR_RETURN(out.scratch_dir_, MakeScratchDir());
    out.scratch_ = out.scratch_dir_ + "/out";
  }
  return out;
}

OutputFile::OutputFile(OutputFile&& other) noexcept { *this = std::move(other); }

OutputFile& OutputFile::operator=(OutputFile&& other) noexcept {
  std::swap(target_, other.target_);
  std::swap(scratch_dir_, other.scratch_dir_);
  std::swap(scratch_, other.scratch_);
  return *this;
}

OutputFile::~OutputFile() {
  if (scratch_dir_.empty()) return;
  std::error_code ec;
  fs::remove_all(scratch_dir_, ec);
}

Status OutputFile::Finish() {
  if (scratch_.empty()) return Status::Ok();
  std::ifstream in(scratch_, std::ios::binary);
  if (!in) return Status::IoError(label() + ": nothing was written to " + scratch_);
  // Inserting an empty streambuf sets failbit: an empty output is written as nothing.
  const bool empty = in.peek() == std::ifstream::traits_type::eof();
  if (to_stdout()) {
    if (!empty) std::cout << in.rdbuf();
    std::cout.flush();
    if (!std::cout) return Status::IoError("stdout: write failed");
    return Status::Ok();
  }
  std::ofstream out(target_, std::ios::binary);
  if (!empty) out << in.rdbuf();
  out.flush();
  if (!out) return Status::IoError(target_ + ": write failed: " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace epsim
