#include "sim/engine/simgrid_args.h"

#include <fmt/format.h>
#include <simgrid/s4u.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <sstream>

#include "sim/base/string_util.h"

namespace epsim::engine {
namespace {

// Marks the one line the child writes itself, among whatever SimGrid prints.
constexpr char kMark[] = "epsim-simgrid-check: ";

// "Bad config key: foo\nExisting config keys:\n  bmf/precision: (double)1e-12\n..."
// (SimGrid 3.32's std::out_of_range) -> one line with the nearest key.
std::string ExplainException(const std::string& what) {
  std::istringstream in(what);
  std::string first, line;
  std::getline(in, first);
  const std::string bad_key = "Bad config key: ";
  if (first.rfind(bad_key, 0) != 0) return first;
  const std::string key = first.substr(bad_key.size());
  std::vector<std::string> keys;
  while (std::getline(in, line)) {
    const size_t start = line.find_first_not_of(' ');
    const size_t colon = line.find(':', start == std::string::npos ? 0 : start);
    if (start != std::string::npos && start > 0 && colon != std::string::npos)
      keys.push_back(line.substr(start, colon - start));
  }
  const std::string near = NearestName(key, keys);
  return fmt::format("SimGrid has no configuration key '{}'{}", key,
                     near.empty() ? "" : "; did you mean '" + near + "'?");
}

// In the child: build the Engine as Simulate() does, then leave at once.
[[noreturn]] void CheckInChild(const std::vector<std::string>& args) {
  std::vector<std::string> words = {"epsim", "--log=xbt_cfg.thres:warning"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(words.size());
  try {
    simgrid::s4u::Engine engine(&argc, argv.data());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\n%s%s\n", kMark, ExplainException(e.what()).c_str());
    std::fflush(stderr);
    _exit(1);
  }
  _exit(0);
}

// What the child printed, reduced to one line: its own line, else SimGrid's
// "[0.000000] file.cpp:179: [root/CRITICAL] Model 'foo' is invalid! ..."
// without the prefix, else the first line.
std::string Complaint(const std::string& output) {
  std::istringstream in(output);
  std::string line, first, critical;
  while (std::getline(in, line)) {
    if (line.rfind(kMark, 0) == 0) return line.substr(sizeof kMark - 1);
    if (first.empty() && !line.empty()) first = line;
    const size_t tag = line.find("CRITICAL] ");
    if (critical.empty() && tag != std::string::npos) critical = line.substr(tag + 10);
  }
  return !critical.empty() ? critical : !first.empty() ? first : "rejected without a message";
}

}  // namespace

Status CheckSimGridArgs(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    const bool cfg = arg.rfind("--cfg=", 0) == 0 && arg.find(':') != std::string::npos;
    if (!cfg && arg.rfind("--log=", 0) != 0)
      return Status::Usage(fmt::format("simgrid argument '{}': want --cfg=name:value or --log=...",
                                       arg));
  }
  if (args.empty()) return Status::Ok();
  int fds[2];
  if (pipe(fds) != 0) return Status::Internal("cannot check SimGrid's flags: pipe failed");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return Status::Internal("cannot check SimGrid's flags: fork failed");
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    CheckInChild(args);
  }
  close(fds[1]);
  std::string output;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) output.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  std::string given;
  for (const std::string& arg : args) given += (given.empty() ? "" : " ") + arg;
  return Status::Usage(fmt::format("{}: {}", given, Complaint(output)));
}

}  // namespace epsim::engine
