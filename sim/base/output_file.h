// An output file named on a command line (-o FILE, --csv FILE, --json
// FILE, ...), checked before the work whose results it holds starts, so a
// mistyped directory never costs a whole simulation.
//
// Open() checks the path: its directory must exist and take a new file
// (tried, not guessed from permission bits), and the path must not be a
// directory. "-" means stdout where the flag allows it (-o), refused for a
// binary format when stdout is a terminal. Writers then write path()
// atomically (a temporary beside it renamed over it: no partial file is
// ever left); when the output is stdout or an existing device or FIFO
// (/dev/null, a pipe), path() is a scratch file that Finish() copies there.
// The scratch directory is removed with the OutputFile.
//
// A symlink is written through: its target is replaced atomically and the
// link stays. Two outputs of one run may not be the same file, and no input
// may be an output (CheckInputPath): each is refused with a usage error
// naming both, before anything is overwritten.
#ifndef EPSIM_SIM_BASE_OUTPUT_FILE_H_
#define EPSIM_SIM_BASE_OUTPUT_FILE_H_

#include <string>

#include "sim/base/status.h"

namespace epsim {

class OutputFile {
 public:
  // What "-" means for the flag: not allowed (--csv: stdout holds the
  // results), stdout for text, stdout for binary data (not a terminal).
  enum class Dash { kRefuse, kText, kBinary };

  // Errors: Usage for "-" where refused or binary to a terminal; IoError
  // (exit 2) for a path that cannot be written, naming `flag` and the path.
  // An empty `path` is an output not asked for (given() false).
  static Result<OutputFile> Open(const std::string& flag, const std::string& path, Dash dash);

  OutputFile() = default;  // no output asked for

  OutputFile(OutputFile&& other) noexcept;
  OutputFile& operator=(OutputFile&& other) noexcept;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();

  bool given() const { return !target_.empty(); }
  bool to_stdout() const { return target_ == "-"; }
  // The file to write: the output itself (through symlinks), or the scratch
  // file.
  const std::string& path() const { return scratch_.empty() ? write_path_ : scratch_; }
  // The output for messages: its path as given, or "stdout".
  std::string label() const { return to_stdout() ? "stdout" : target_; }
  // Copies the scratch file to stdout or the device; nothing to do for a
  // plain file (its writer renamed it into place).
  Status Finish();

 private:
  std::string target_;       // as given; "-" for stdout
  std::string write_path_;   // target_ with symlinks followed
  int registered_ = 0;       // this output's entry among the process's outputs, 0 none
  std::string scratch_dir_;  // mkdtemp'd, removed by the destructor
  std::string scratch_;      // scratch_dir_/out when in use
};

// An input about to be read: Usage ("PATH is also the output FLAG PATH")
// when it is the file one of this process's open outputs would replace (the
// file there when the output was opened: reading back a result already
// written is fine); Ok otherwise, also when it does not exist (its reader
// says so).
Status CheckInputPath(const std::string& path);

// Flushes std::cout and C's stdout at the end of a command: IoError (exit
// 2, "standard output: write failed: REASON") when either could not write
// everything (a full disk, /dev/full, a closed pipe), so a lost table is
// never a silent success.
Status CheckStandardOutput();

}  // namespace epsim

#endif  // EPSIM_SIM_BASE_OUTPUT_FILE_H_
