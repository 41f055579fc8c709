#include "sim/base/output_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include "sim/base/fatal_cleanup.h"

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

// `path` with every symlink of its last component followed (a chain, or a
// link to a file not yet made); other paths as they are.
Result<std::string> FollowLinks(const std::string& flag, const std::string& path) {
  std::string at = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (lstat(at.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return at;
    std::error_code ec;
    const fs::path target = fs::read_symlink(at, ec);
    if (ec) return CannotWrite(flag, path, "cannot read the symlink: " + ec.message());
    at = target.is_absolute() ? target.string() : (fs::path(at).parent_path() / target).string();
  }
  return CannotWrite(flag, path, "too many levels of symlinks");
}

// The file a path names, for comparing paths: absolute and normalised,
// symlinks resolved where they exist.
std::string Identity(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) p = fs::absolute(path, ec).lexically_normal();
  return p.string();
}

// The process's open outputs: id, flag and path as given, identity, and
// the file that was there when the output was opened (an input it would
// replace; its own result, renamed into place later, is another file).
struct Registered {
  int id;
  std::string label, identity;
  bool existed = false;
  dev_t dev = 0;
  ino_t ino = 0;
};
std::vector<Registered>& Outputs() {
  static std::vector<Registered> outputs;
  return outputs;
}
int g_next_output = 0;

}  // namespace

Status CheckInputPath(const std::string& path) {
  if (path.empty() || path == "-") return Status::Ok();
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Status::Ok();  // the reader says why
  for (const Registered& r : Outputs())
    if (r.existed && r.dev == st.st_dev && r.ino == st.st_ino)
      return Status::Usage(path + " is also the output " + r.label +
                           ": refusing to overwrite an input; give the output another name");
  return Status::Ok();
}

Result<OutputFile> OutputFile::Open(const std::string& flag, const std::string& path, Dash dash) {
  OutputFile out;
  if (path.empty()) return out;
  out.target_ = path;
  out.write_path_ = path;
  bool scratch = false;
  if (path == "-") {
    if (dash == Dash::kRefuse)
      return Status::Usage(flag + " -: stdout holds the results here; give a file name");
    if (dash == Dash::kBinary && isatty(STDOUT_FILENO))
      return Status::Usage(flag + " -: refusing to write binary data to a terminal; redirect "
                           "stdout (> FILE, | ...) or give a file name");
    scratch = true;
  } else {
    EPSIM_ASSIGN_OR_RETURN(out.write_path_, FollowLinks(flag, path));
    const std::string identity = Identity(out.write_path_);
    for (const Registered& r : Outputs())
      if (r.identity == identity)
        return Status::Usage(flag + " " + path + " is the same file as " + r.label +
                             ": give each output its own file");
    struct stat st;
    if (stat(out.write_path_.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) return CannotWrite(flag, path, "is a directory");
      scratch = !S_ISREG(st.st_mode);  // a device or FIFO: written in place, not renamed over
      if (scratch && access(path.c_str(), W_OK) != 0)
        return CannotWrite(flag, path, std::strerror(errno));
    }
    std::string dir = fs::path(out.write_path_).parent_path().string();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    if (!fs::exists(dir, ec)) return CannotWrite(flag, path, "no directory " + dir);
    if (!fs::is_directory(dir, ec)) return CannotWrite(flag, path, dir + " is not a directory");
    if (!scratch) {
      EPSIM_RETURN_IF_ERROR(ProbeDirectory(flag, path, dir));
      // Writers make NAME.tmp2.PID beside it: that name must fit too.
      const long name_max = pathconf(dir.c_str(), _PC_NAME_MAX);
      const size_t name = fs::path(out.write_path_).filename().string().size() + 16;
      if (name_max > 0 && name > static_cast<size_t>(name_max))
        return CannotWrite(flag, path,
                           "file name too long (" + std::to_string(name) +
                               " bytes with the temporary's suffix; the file system takes " +
                               std::to_string(name_max) + ")");
    }
  }
  if (scratch) {
    EPSIM_ASSIGN_OR_RETURN(out.scratch_dir_, MakeScratchDir());
    out.scratch_ = out.scratch_dir_ + "/out";
    AddFatalCleanup(out.scratch_);
    AddFatalCleanup(out.scratch_dir_);
  }
  if (path != "-") {
    out.registered_ = ++g_next_output;
    Registered r{out.registered_, flag + " " + path, Identity(out.write_path_)};
    struct stat st;
    if (stat(out.write_path_.c_str(), &st) == 0) {
      r.existed = true;
      r.dev = st.st_dev;
      r.ino = st.st_ino;
    }
    Outputs().push_back(std::move(r));
  }
  return out;
}

OutputFile::OutputFile(OutputFile&& other) noexcept { *this = std::move(other); }

OutputFile& OutputFile::operator=(OutputFile&& other) noexcept {
  std::swap(target_, other.target_);
  std::swap(write_path_, other.write_path_);
  std::swap(registered_, other.registered_);
  std::swap(scratch_dir_, other.scratch_dir_);
  std::swap(scratch_, other.scratch_);
  return *this;
}

OutputFile::~OutputFile() {
  if (registered_ != 0) {
    std::vector<Registered>& outputs = Outputs();
    outputs.erase(std::remove_if(outputs.begin(), outputs.end(),
                                 [&](const Registered& r) { return r.id == registered_; }),
                  outputs.end());
  }
  if (scratch_dir_.empty()) return;
  std::error_code ec;
  fs::remove_all(scratch_dir_, ec);
  RemoveFatalCleanup(scratch_);
  RemoveFatalCleanup(scratch_dir_);
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
  std::ofstream out(write_path_, std::ios::binary);
  if (!empty) out << in.rdbuf();
  out.flush();
  if (!out) return Status::IoError(target_ + ": write failed: " + std::strerror(errno));
  return Status::Ok();
}

Status CheckStandardOutput() {
  errno = 0;
  std::cout.flush();
  const bool cpp_ok = static_cast<bool>(std::cout);
  const int cpp_errno = errno;
  const bool c_ok = std::fflush(stdout) == 0 && !std::ferror(stdout);
  if (cpp_ok && c_ok) return Status::Ok();
  int err = cpp_errno != 0 ? cpp_errno : errno;
  // The failing write was earlier (its errno is gone): one more byte on the
  // already incomplete output says why.
  if (err == 0 && ::write(STDOUT_FILENO, "\n", 1) < 0) err = errno;
  return Status::IoError(std::string("standard output: write failed") +
                         (err != 0 ? std::string(": ") + std::strerror(err) : std::string()) +
                         ": the output is incomplete");
}

}  // namespace epsim
