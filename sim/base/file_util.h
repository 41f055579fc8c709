// Small file helpers shared by every layer that reads or writes files.
#ifndef EPSIM_SIM_BASE_FILE_UTIL_H_
#define EPSIM_SIM_BASE_FILE_UTIL_H_

#include <string>

#include "sim/base/status.h"

namespace epsim {

// Reads a whole (small) file: configs, text protos.
Result<std::string> ReadFileToString(const std::string& path);

// Writes `contents` to `path` atomically: a temporary file beside it is
// renamed over `path` only once everything is written, so a failure never
// leaves a partial output file.
Status WriteFileAtomically(const std::string& path, const std::string& contents);

// A file written in full beside `path` (PATH.tmp.PID), renamed over `path`
// by Commit(); removed if never committed, also when the process is
// interrupted (fatal_cleanup.h). For outputs that must appear together or
// not at all: stage each, then commit them.
class StagedFile {
 public:
  static Result<StagedFile> Write(const std::string& path, const std::string& contents);
  Status Commit();

  StagedFile() = default;
  StagedFile(StagedFile&& other) noexcept;
  StagedFile& operator=(StagedFile&& other) noexcept;
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  ~StagedFile();

 private:
  std::string path_, tmp_;  // tmp_ empty once committed
};

// Parses a text-format protobuf file into `msg` (any generated message type).
// Errors name the file, line and column.
template <typename Message>
Status ReadTextProto(const std::string& path, Message* msg);

// "dir/name.ext" -> "name".
std::string FileStem(const std::string& path);

}  // namespace epsim

#include "sim/base/text_proto_impl.h"

#endif  // EPSIM_SIM_BASE_FILE_UTIL_H_
