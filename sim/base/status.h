// Status and Result<T>: how every layer of epsim reports a failure.
//
// A Status is a code plus a message. Each layer that passes a failure up adds
// its own context in front (file name, line, layer, token), so the message a
// user reads names the place: "mixtral.trace: layer 12 token 4031: expert 300
// >= num_experts 256". Bad input is a normal event and never throws across a
// module edge; programmer errors use EPSIM_CHECK (check.h).
#ifndef EPSIM_SIM_BASE_STATUS_H_
#define EPSIM_SIM_BASE_STATUS_H_

#include <optional>
#include <string>
#include <utility>

namespace epsim {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kUsage,
    kBadInput,
    kNotFound,
    kIoError,
    kInternal,
    kVerification,  // an executed result differs from its reference (epsim-hw --check)
    kPeerFailure,   // another rank hung, died or missed a deadline (epsim-hw)
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status Usage(std::string msg) { return Status(Code::kUsage, std::move(msg)); }
  static Status BadInput(std::string msg) { return Status(Code::kBadInput, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status IoError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }
  static Status Verification(std::string msg) {
    return Status(Code::kVerification, std::move(msg));
  }
  static Status PeerFailure(std::string msg) { return Status(Code::kPeerFailure, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy with "context: " in front of the message.
  Status WithContext(const std::string& context) const;

  // "bad input: <message>" etc.; "OK" when ok().
  std::string ToString() const;

  // Process exit code by convention: 0 ok, 1 usage, 2 bad input (and
  // missing or unreadable files, a missing GPU), 3 verification failed,
  // 4 internal error, 5 a peer rank failed or timed out.
  int ExitCode() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

namespace internal {
// Prints "Result::value() on an error: <status>" and aborts.
[[noreturn]] void DieOnErrorValue(const Status& status);
}  // namespace internal

// A value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}           // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}   // NOLINT: must not be ok()

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  // Reading the value of an error is a programmer error: checked, also in
  // release builds (aborts naming the status).
  T& value() & { CheckHasValue(); return *value_; }
  const T& value() const& { CheckHasValue(); return *value_; }
  T&& value() && { CheckHasValue(); return std::move(*value_); }
  T* operator->() { CheckHasValue(); return &*value_; }
  const T* operator->() const { CheckHasValue(); return &*value_; }
  T& operator*() { CheckHasValue(); return *value_; }

 private:
  void CheckHasValue() const {
    if (!value_.has_value()) internal::DieOnErrorValue(status_);
  }
  std::optional<T> value_;
  Status status_;
};

}  // namespace epsim

// Propagate a failed Status out of the current function.
#define EPSIM_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::epsim::Status _st = (expr);            \
    if (!_st.ok()) return _st;               \
  } while (0)

#define EPSIM_CONCAT_INNER_(a, b) a##b
#define EPSIM_CONCAT_(a, b) EPSIM_CONCAT_INNER_(a, b)
#define EPSIM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

// `EPSIM_ASSIGN_OR_RETURN(auto x, MakeX());` binds x or returns the Status.
#define EPSIM_ASSIGN_OR_RETURN(lhs, expr) \
  EPSIM_ASSIGN_OR_RETURN_IMPL_(EPSIM_CONCAT_(_result_, __LINE__), lhs, expr)

#endif  // EPSIM_SIM_BASE_STATUS_H_
