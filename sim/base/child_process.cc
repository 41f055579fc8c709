#include "sim/base/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace epsim {
namespace {

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

[[noreturn]] void RunChild(int fd, const std::function<Result<std::string>()>& work) {
  const int null = open("/dev/null", O_WRONLY);
  if (null >= 0) {
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
  std::string message;
  Result<std::string> result = work();
  if (result.ok()) {
    message.push_back(0);
    message += *result;
  } else {
    message.push_back(static_cast<char>(static_cast<int>(result.status().code()) + 1));
    message += result.status().message();
  }
  _exit(WriteAll(fd, message) ? 0 : 1);
}

Status StatusOf(Status::Code code, std::string text) {
  switch (code) {
    case Status::Code::kUsage: return Status::Usage(std::move(text));
    case Status::Code::kBadInput: return Status::BadInput(std::move(text));
    case Status::Code::kNotFound: return Status::NotFound(std::move(text));
    case Status::Code::kIoError: return Status::IoError(std::move(text));
    case Status::Code::kVerification: return Status::Verification(std::move(text));
    case Status::Code::kPeerFailure: return Status::PeerFailure(std::move(text));
    default: return Status::Internal(std::move(text));
  }
}

}  // namespace

Result<Child> Child::Start(const std::function<Result<std::string>()>& work) {
  int fds[2];
  if (pipe(fds) != 0) return Status::Internal(std::string("pipe: ") + std::strerror(errno));
  std::fflush(nullptr);  // nothing buffered is written twice
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Status::Internal(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    close(fds[0]);
    RunChild(fds[1], work);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);  // later children do not hold this pipe open
  Child child;
  child.pid_ = pid;
  child.fd_ = fds[0];
  return child;
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      fd_(std::exchange(other.fd_, -1)),
      message_(std::move(other.message_)) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    Reset();
    pid_ = std::exchange(other.pid_, -1);
    fd_ = std::exchange(other.fd_, -1);
    message_ = std::move(other.message_);
  }
  return *this;
}

Child::~Child() { Reset(); }

void Child::Reset() {
  if (fd_ >= 0) close(std::exchange(fd_, -1));
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  message_.clear();
}

bool Child::ReadSome() {
  if (fd_ < 0) return true;
  char buffer[1 << 16];
  const ssize_t n = read(fd_, buffer, sizeof buffer);
  if (n < 0) return errno != EINTR && errno != EAGAIN;
  if (n == 0) return true;
  message_.append(buffer, static_cast<size_t>(n));
  return false;
}

Result<std::string> Child::Finish() {
  while (!ReadSome()) {
  }
  if (fd_ >= 0) close(std::exchange(fd_, -1));
  int wstatus = 0;
  while (waitpid(pid_, &wstatus, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || message_.empty()) {
    return Status::Internal(
        WIFSIGNALED(wstatus)
            ? "the child process died of signal " + std::to_string(WTERMSIG(wstatus))
            : std::string("the child process exited without a result"));
  }
  std::string text = message_.substr(1);
  if (message_[0] != 0)
    return StatusOf(static_cast<Status::Code>(static_cast<unsigned char>(message_[0]) - 1),
                    std::move(text));
  return text;
}

Result<std::string> RunInChild(const std::function<Result<std::string>()>& work) {
  EPSIM_ASSIGN_OR_RETURN(Child child, Child::Start(work));
  return child.Finish();
}

}  // namespace epsim
