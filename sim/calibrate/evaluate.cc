#include "sim/calibrate/evaluate.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace epsim::calibrate {
namespace {

// Message on the pipe: one byte (0 ok, else the Status code + 1), then for
// ok a count and length-prefixed serialized Reports, else the message.
void AppendU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<char*>(&v), 8); }

bool ReadU64(const std::string& in, size_t* pos, uint64_t* v) {
  if (*pos + 8 > in.size()) return false;
  std::memcpy(v, in.data() + *pos, 8);
  *pos += 8;
  return true;
}

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

[[noreturn]] void RunChild(int fd, const proto::Topology& topo,
                           const std::vector<proto::Schedule>& schedules,
                           const engine::SimOptions& opts) {
  const int null = open("/dev/null", O_WRONLY);
  if (null >= 0) {
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
  std::string message;
  Result<engine::SimResult> result = engine::Simulate(topo, schedules, opts);
  if (result.ok()) {
    message.push_back(0);
    AppendU64(&message, result->reports.size());
    for (const proto::Report& r : result->reports) {
      std::string bytes;
      r.SerializeToString(&bytes);
      AppendU64(&message, bytes.size());
      message += bytes;
    }
  } else {
    message.push_back(static_cast<char>(static_cast<int>(result.status().code()) + 1));
    message += result.status().message();
  }
  _exit(WriteAll(fd, message) ? 0 : 1);
}

}  // namespace

Result<std::vector<proto::Report>> SimulateInChild(const proto::Topology& topo,
                                                   const std::vector<proto::Schedule>& schedules,
                                                   const engine::SimOptions& opts) {
  int fds[2];
  if (pipe(fds) != 0) return Status::Internal(fmt::format("pipe: {}", std::strerror(errno)));
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Status::Internal(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    close(fds[0]);
    RunChild(fds[1], topo, schedules, opts);
  }
  close(fds[1]);
  std::string message;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    message.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || message.empty()) {
    return Status::Internal(
        WIFSIGNALED(wstatus)
            ? fmt::format("the simulation process died of signal {}", WTERMSIG(wstatus))
            : "the simulation process exited without a result");
  }
  if (message[0] != 0) {
    const auto code = static_cast<Status::Code>(static_cast<unsigned char>(message[0]) - 1);
    std::string text = message.substr(1);
    switch (code) {
      case Status::Code::kUsage: return Status::Usage(text);
      case Status::Code::kBadInput: return Status::BadInput(text);
      case Status::Code::kNotFound: return Status::NotFound(text);
      case Status::Code::kIoError: return Status::IoError(text);
      default: return Status::Internal(text);
    }
  }
  size_t pos = 1;
  uint64_t count = 0;
  std::vector<proto::Report> reports;
  if (!ReadU64(message, &pos, &count)) return Status::Internal("truncated simulation result");
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t length = 0;
    if (!ReadU64(message, &pos, &length) || pos + length > message.size())
      return Status::Internal("truncated simulation result");
    proto::Report r;
    if (!r.ParseFromArray(message.data() + pos, static_cast<int>(length)))
      return Status::Internal("unreadable simulation result");
    pos += length;
    reports.push_back(std::move(r));
  }
  return reports;
}

}  // namespace epsim::calibrate
