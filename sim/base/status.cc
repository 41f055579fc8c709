#include "sim/base/status.h"

#include <cstdio>
#include <cstdlib>

namespace epsim {

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

std::string Status::ToString() const {
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kUsage: return "usage: " + message_;
    case Code::kBadInput: return "bad input: " + message_;
    case Code::kNotFound: return "not found: " + message_;
    case Code::kIoError: return "I/O error: " + message_;
    case Code::kInternal: return "internal error: " + message_;
    case Code::kVerification: return "verification failed: " + message_;
    case Code::kPeerFailure: return "peer failure: " + message_;
  }
  return message_;
}

int Status::ExitCode() const {
  switch (code_) {
    case Code::kOk: return 0;
    case Code::kUsage: return 1;
    case Code::kBadInput:
    case Code::kNotFound:
    case Code::kIoError: return 2;
    case Code::kInternal: return 4;
    case Code::kVerification: return 3;
    case Code::kPeerFailure: return 5;
  }
  return 4;
}

namespace internal {
void DieOnErrorValue(const Status& status) {
  std::fprintf(stderr, "Result::value() on an error: %s\n", status.ToString().c_str());
  std::abort();
}
}  // namespace internal

}  // namespace epsim
