// Work run in a forked child process whose result comes back through a
// pipe. SimGrid allows one Engine per process, so whatever simulates more
// than once (a calibration's candidates, a sweep's points) runs each
// simulation in a child; the parent never starts SimGrid and may keep
// several children running at once (Child::fd() for poll()).
//
// The child runs `work`, its stdout and stderr on /dev/null, and writes one
// message: a byte (0 ok, else the Status code + 1), then the result bytes
// or the error message. Finish() waits for the child and returns what
// `work` returned: the same bytes, or a Status of the same code and message.
// A child that dies (a signal, an exit without a message) is Internal.
#ifndef EPSIM_SIM_BASE_CHILD_PROCESS_H_
#define EPSIM_SIM_BASE_CHILD_PROCESS_H_

#include <sys/types.h>

#include <functional>
#include <string>

#include "sim/base/status.h"

namespace epsim {

class Child {
 public:
  // Forks; the child runs `work` and exits without returning.
  static Result<Child> Start(const std::function<Result<std::string>()>& work);

  Child() = default;
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();  // a child never finished is killed and reaped

  // The read end of the pipe, readable when ReadSome() has something to do.
  int fd() const { return fd_; }
  // Reads what the pipe holds now; true once the child has closed it.
  bool ReadSome();
  // Reads to the end, reaps the child and decodes its message.
  Result<std::string> Finish();

 private:
  void Reset();  // kills and reaps a child not finished, closes the pipe

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string message_;
};

// Start(work) then Finish(): `work` in a child, waited for.
Result<std::string> RunInChild(const std::function<Result<std::string>()>& work);

}  // namespace epsim

#endif  // EPSIM_SIM_BASE_CHILD_PROCESS_H_
