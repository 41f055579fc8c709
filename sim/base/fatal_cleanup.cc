#include "sim/base/fatal_cleanup.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>

namespace epsim {

namespace {

constexpr int kSlots = 64;
constexpr size_t kPathBytes = 4096;

// A slot's path is written while it is free, then published by `used`
// (release); the handler reads only published slots (acquire).
struct Slot {
  std::atomic<bool> used{false};
  char path[kPathBytes];
};

Slot g_slots[kSlots];
std::mutex g_mu;  // serializes Add/Remove (never taken by the handler)

}  // namespace

bool AddFatalCleanup(const std::string& path) {
  if (path.size() >= kPathBytes) return false;
  std::lock_guard<std::mutex> lock(g_mu);
  for (Slot& s : g_slots) {
    if (s.used.load(std::memory_order_relaxed)) continue;
    std::memcpy(s.path, path.c_str(), path.size() + 1);
    s.used.store(true, std::memory_order_release);
    return true;
  }
  return false;
}

void RemoveFatalCleanup(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mu);
  for (Slot& s : g_slots) {
    if (s.used.load(std::memory_order_relaxed) && path == s.path) {
      s.used.store(false, std::memory_order_release);
      return;
    }
  }
}

void RemoveFatalCleanupFiles() {
  for (Slot& s : g_slots)
    if (s.used.load(std::memory_order_acquire) && ::unlink(s.path) != 0) ::rmdir(s.path);
}

namespace {

// Only async-signal-safe calls: unlink, rmdir, sigaction, raise.
void OnInterrupt(int sig) {
  RemoveFatalCleanupFiles();
  struct sigaction dfl{};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  ::raise(sig);
}

}  // namespace

void InstallInterruptCleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
      struct sigaction old{};
      ::sigaction(sig, nullptr, &old);
      if (old.sa_handler == SIG_IGN) continue;  // ignored by the parent (nohup): keep it so
      struct sigaction sa{};
      sa.sa_handler = OnInterrupt;
      sigemptyset(&sa.sa_mask);
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

void RemoveStaleTemporaries(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const std::string name = target.filename().string();
  if (name.empty()) return;
  std::error_code ec;
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string entry = it->path().filename().string();
    for (const char* suffix : {".tmp.", ".tmp2."}) {
      const std::string prefix = name + suffix;
      if (entry.size() <= prefix.size() || entry.compare(0, prefix.size(), prefix) != 0) continue;
      const std::string digits = entry.substr(prefix.size());
      if (digits.size() > 9 ||
          !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        continue;
      const pid_t pid = static_cast<pid_t>(std::stol(digits));
      if (pid <= 0 || pid == ::getpid()) continue;
      if (::kill(pid, 0) == 0 || errno == EPERM) continue;  // alive: its own temporary
      std::error_code rm;
      fs::remove(it->path(), rm);
    }
  }
}

}  // namespace epsim
