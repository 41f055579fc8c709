#include "sim/base/status.h"

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
  }
  return 4;
}

}  // namespace epsim
